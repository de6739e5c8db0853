#!/usr/bin/env bash
# The Python environment of the "NDJSON to Delta" benchmark's peers (scripts/bench/ndjson.ts):
# pyarrow's JSON reader, polars and delta-rs (deltalake), pinned, in .cache/venv/bench. Its own
# venv, not the interop suite's: the peers are measured at the versions a user would install
# today, whatever the interop judges are pinned to. Idempotent: a venv whose stamp matches is
# reused (offline-fast); a change of pins rebuilds it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${TRIBUTARY_CACHE:-$ROOT/.cache}"
export PIP_CACHE_DIR="$CACHE/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
PY="${PYTHON:-python3}"
DIR="$CACHE/venv/bench"
PINS="pyarrow==26.0.1 polars==2.1.0 deltalake==1.6.6"
if [[ -f "$DIR/.stamp" && "$(cat "$DIR/.stamp")" == "$PINS" ]]; then
  echo "bench env: ready ($DIR)"
  exit 0
fi
rm -rf "$DIR"
"$PY" -m venv "$DIR"
# shellcheck disable=SC2086
"$DIR/bin/pip" install -q $PINS
echo "$PINS" > "$DIR/.stamp"
echo "bench env: installed $PINS ($DIR)"
