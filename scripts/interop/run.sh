#!/usr/bin/env bash
# The interop suite: tables written by Tributary are judged by PySpark 4.x + delta-spark 4.x,
# PySpark 3.5 + delta-spark 3.x, and delta-rs. Sets up its own Python environments (cached in
# .cache/), builds the CLI, generates the tables once, then runs pytest under each Spark line.
# A missing Spark is a failure, never a skip.
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
npx tsx test/interop/generate.ts "$RUN/tables" || { echo "interop: table generation failed" >&2; exit 1; }
export TRIBUTARY_INTEROP_MANIFEST="$RUN/tables/manifest.json"

LINES="${TRIBUTARY_SPARK_LINES:-spark4 spark35}"
status=0
for line in $LINES; do
  py="$CACHE/venv/$line/bin/python"
  if [[ ! -x "$py" ]]; then echo "interop: no Python environment for $line" >&2; status=1; continue; fi
  echo "=== interop: $line ($("$py" -c 'import pyspark, deltalake; print("pyspark", pyspark.__version__, "deltalake", deltalake.__version__)'))"
  TZ=UTC TRIBUTARY_SPARK_LINE="$line" TRIBUTARY_INTEROP_WORK="$RUN/$line" \
    "$py" -m pytest test/interop -p no:cacheprovider -q -rfE "$@" || status=1
done
exit $status
