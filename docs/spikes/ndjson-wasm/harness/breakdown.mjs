// Where the wasm path's time goes: copy-in only, decode only, copy-out.
import { readFileSync } from 'node:fs';
import { load, parseCols, run } from './wasmdec.mjs';
const [wasm, file, ddlFile] = process.argv.slice(2);
const ex = await load(wasm);
const cols = parseCols(readFileSync(ddlFile, 'utf8'));
const buf = readFileSync(file);
const CH = 1 << 20;
// 1) copy-in only
const inPtr = ex.alloc(2 * CH + 4096);
let t = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  const u8 = new Uint8Array(ex.memory.buffer);
  for (let p = 0; p < buf.length; p += CH) { const piece = buf.subarray(p, p + CH); const last = piece.lastIndexOf(10); u8.set(piece.subarray(0, last + 1), inPtr); }
  t.push(performance.now() - t0);
}
console.log('copy-in+lastIndexOf only', t.map((x) => x.toFixed(0)).join(' '));
// 2) full run with a no-op batch (copy-out included anyway in run); 3) count time spent in decode()
const orig = ex.decode; let td = 0;
const ex2 = { ...ex }; ex2.decode = (a, b) => { const t0 = performance.now(); const s = orig(a, b); td += performance.now() - t0; return s; };
for (const [label, c2] of [['schema', cols], ['all-skip', cols.map((c) => ({ ...c, ty: 8 }))]]) {
  t = []; const tds = [], fl = [];
  for (let r = 0; r < 5; r++) { td = 0; globalThis.__prof = { flush: 0 }; const t0 = performance.now(); run(ex2, c2, buf, () => {}); t.push(performance.now() - t0); tds.push(td); fl.push(globalThis.__prof.flush); }
  console.log(label, 'total', t.map((x) => x.toFixed(0)).join(' '), 'in decode()', tds.map((x) => x.toFixed(0)).join(' '), 'copy-out+reset', fl.map((x) => x.toFixed(0)).join(' '));
}
