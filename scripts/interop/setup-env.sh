#!/usr/bin/env bash
# Creates the Python environments the interop suite judges with: one per Spark line
# (PySpark 4.x + delta-spark 4.x, PySpark 3.5 + delta-spark 3.x), each with delta-rs
# (deltalake) and pyarrow. Everything downloaded stays under .cache/ (git-ignored), so a
# second run is offline-fast. Idempotent: a venv whose stamp matches is reused.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${TRIBUTARY_CACHE:-$ROOT/.cache}"
export PIP_CACHE_DIR="$CACHE/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
PY="${PYTHON:-python3}"

make_env() {
  local name="$1"; shift
  local dir="$CACHE/venv/$name"
  local want="$*"
  if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]]; then
    echo "interop env $name: ready ($dir)"
    return
  fi
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install -q "$@"
  echo "$want" > "$dir/.stamp"
  echo "interop env $name: installed $want"
}

# The pins are deliberate: delta-spark picks its Maven artifact from the PySpark version.
make_env spark4 pyspark==4.1.1 delta-spark==4.4.0 deltalake==1.6.6 pyarrow==22.0.0 pandas pytest==8.3.5
make_env spark35 pyspark==3.5.7 delta-spark==3.3.2 deltalake==1.6.6 pyarrow==22.0.0 pandas pytest==8.3.5
