import { readFileSync } from 'node:fs';
import { load, parseCols, run } from './wasmdec.mjs';
const [wasm, file, ddlFile, runs, label] = process.argv.slice(2);
const ex = await load(wasm);
const cols = parseCols(readFileSync(ddlFile, 'utf8'));
const buf = readFileSync(file);
const wrap = process.env.ARROW ? (await import('./arrowwrap.mjs')).makeWrapper(cols) : null;
let last;
const times = [];
let res, sink = 0;
for (let r = 0; r < +runs; r++) {
  const t0 = performance.now();
  res = run(ex, cols, buf, (out, rows) => { if (wrap) { last = wrap(out, rows); sink += last.numRows; } else sink += rows + out.length; });
  times.push(performance.now() - t0);
}
console.log(label ?? wasm, times.map((t) => t.toFixed(0)).join(' '), 'min', Math.min(...times.slice(1)).toFixed(0), `rows=${res.rows} fail=${res.failures}`);
