#!/usr/bin/env bash
# The interop suite: tables written by Tributary are judged by PySpark 4.x + delta-spark 4.x,
# PySpark 3.5 + delta-spark 3.x, and delta-rs. Sets up its own Python environments (cached in
# .cache/), builds the CLI, starts the object-store servers (moto, fake-gcs-server, Azurite) and
# exports their environment, generates the tables once (local ones, and tables written by
# concurrent processes on each store), fetches hadoop-aws for each Spark line's Hadoop (into
# ~/.m2), then runs pytest under each Spark line. A missing Spark or server is a failure, never
# a skip.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
CACHE="${TRIBUTARY_CACHE:-$ROOT/.cache}"
export TRIBUTARY_CACHE="$CACHE"

bash scripts/interop/setup-env.sh || { echo "interop: could not set up the Python environments" >&2; exit 1; }
npm run --silent build || { echo "interop: build failed" >&2; exit 1; }

RUN="$CACHE/interop/run-$$"
rm -rf "$CACHE/interop"/run-* 2>/dev/null
mkdir -p "$RUN/tables"

# The servers run for the whole suite, in the background; their `export` lines are evaluated
# here, so Tributary, delta-rs and Spark all reach the same in-memory stores. install.sh runs
# first, in the foreground (minutes the first time on a machine, then instant): its
# TRIBUTARY_CACHE is the machine-wide cache (~/.cache/tributary), not this clone's .cache.
env -u TRIBUTARY_CACHE bash scripts/object-stores/install.sh > /dev/null || { echo "interop: could not install the object-store servers" >&2; exit 1; }
env -u TRIBUTARY_CACHE node --import tsx scripts/object-stores/servers.ts > "$RUN/servers.env" 2> "$RUN/servers.log" &
SERVERS=$!
trap 'kill "$SERVERS" 2>/dev/null; wait "$SERVERS" 2>/dev/null' EXIT
# Until the servers answer (a few seconds; moto imports a lot of Python on a busy machine), or exit.
for _ in $(seq 1 1200); do
  grep -q '^export AZURE_STORAGE_CONNECTION_STRING=' "$RUN/servers.env" 2>/dev/null && break
  kill -0 "$SERVERS" 2>/dev/null || break
  sleep 0.5
done
grep -q '^export AZURE_STORAGE_CONNECTION_STRING=' "$RUN/servers.env" || { echo "interop: the object-store servers did not start:" >&2; cat "$RUN/servers.log" >&2; exit 1; }
eval "$(grep '^export ' "$RUN/servers.env")"

npx tsx test/interop/generate.ts "$RUN/tables" || { echo "interop: table generation failed" >&2; exit 1; }
export TRIBUTARY_INTEROP_MANIFEST="$RUN/tables/manifest.json"
npx tsx test/interop/object-store-tables.ts "$RUN/tables/object-stores.json" || { echo "interop: object-store table generation failed" >&2; exit 1; }
export TRIBUTARY_INTEROP_STORES_MANIFEST="$RUN/tables/object-stores.json"

LINES="${TRIBUTARY_SPARK_LINES:-spark4 spark35}"
status=0
for line in $LINES; do
  py="$CACHE/venv/$line/bin/python"
  if [[ ! -x "$py" ]]; then echo "interop: no Python environment for $line" >&2; status=1; continue; fi
  # hadoop-aws must match the Hadoop this PySpark ships (Spark 4.1: 3.4.x, Spark 3.5: 3.3.4).
  hadoop="$("$py" -c 'import glob, os, pyspark, re; print(re.search(r"hadoop-client-api-(.+)\.jar", " ".join(glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "hadoop-client-api-*.jar")))).group(1))')"
  s3a_jars="$(bash scripts/interop/fetch-hadoop-aws.sh "$hadoop")" || { echo "interop: could not fetch hadoop-aws $hadoop" >&2; status=1; continue; }
  echo "=== interop: $line ($("$py" -c 'import pyspark, deltalake; print("pyspark", pyspark.__version__, "deltalake", deltalake.__version__)'), hadoop-aws $hadoop)"
  TZ=UTC TRIBUTARY_SPARK_LINE="$line" TRIBUTARY_INTEROP_WORK="$RUN/$line" TRIBUTARY_S3A_JARS="$s3a_jars" \
    "$py" -m pytest test/interop -p no:cacheprovider -q -rfE "$@" || status=1
done
exit $status
