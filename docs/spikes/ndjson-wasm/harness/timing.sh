#!/bin/bash
# interleaved JS vs wasm timing, 2 rounds
cd /tmp/wasmproto
for round in 1 2; do
  echo "### round $round $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)"
  (cd /tmp/nd && echo -n "JS cg: " && node dec.mjs /work/main/dist cg.ndjson cg.ddl 5)
  node bench.mjs final-scalar.wasm /tmp/nd/cg.ndjson /tmp/nd/cg.ddl 5 "wasm-scalar cg:"
  node bench.mjs final-simd.wasm /tmp/nd/cg.ndjson /tmp/nd/cg.ddl 5 "wasm-simd128 cg:"
  node bench.mjs final-scalar-coreparse.wasm /tmp/nd/cg.ndjson /tmp/nd/cg.ddl 5 "wasm-scalar(core parse) cg:"
  node bench.mjs final-simd-coreparse.wasm /tmp/nd/cg.ndjson /tmp/nd/cg.ddl 5 "wasm-simd128(core parse) cg:"
  (cd /tmp/nd && echo -n "JS wide: " && node dec.mjs /work/main/dist wide.ndjson wide.ddl 4)
  node bench.mjs final-scalar.wasm /tmp/nd/wide.ndjson /tmp/nd/wide.ddl 4 "wasm-scalar wide:"
  node bench.mjs final-simd.wasm /tmp/nd/wide.ndjson /tmp/nd/wide.ddl 4 "wasm-simd128 wide:"
  ARROW=1 node bench.mjs final-scalar.wasm /tmp/nd/cg.ndjson /tmp/nd/cg.ddl 5 "wasm-scalar cg + Arrow RecordBatch wrap:"
  SKIPNESTED=1 node bench.mjs final-scalar.wasm /tmp/nd/wide.ndjson /tmp/nd/wide.ddl 4 "wasm-scalar wide (struct/list skipped):"
done
