#!/bin/bash
c=$1; n=$2
for i in $(seq $n); do
  rm -rf /tmp/nd/t-w; WASMDEC=/tmp/wasmproto/final-scalar.wasm /usr/bin/time -f "$c wasm %e %U %S %M" node /tmp/wexp/bin/tributary.js append /tmp/nd/t-w --input /tmp/nd/$c.ndjson --schema "$(cat /tmp/nd/$c.ddl)" > /dev/null
  rm -rf /tmp/nd/t-j; /usr/bin/time -f "$c js %e %U %S %M" node /work/main/bin/tributary.js append /tmp/nd/t-j --input /tmp/nd/$c.ndjson --schema "$(cat /tmp/nd/$c.ddl)" > /dev/null
  rm -rf /tmp/nd/t-py; /usr/bin/time -f "$c pyarrow %e %U %S %M" /work/main/.cache/venv/bench/bin/python /work/main/scripts/bench/child_ndjson.py pyarrow /tmp/nd/spec-$c.json >/dev/null
done
