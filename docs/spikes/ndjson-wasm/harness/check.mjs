// Compare every value of the wasm decoder against the JS NdjsonDecoder's Arrow output.
import { readFileSync } from 'node:fs';
import { load, parseCols, run } from './wasmdec.mjs';
const [wasm, file, ddlFile, limitArg] = process.argv.slice(2);
const dist = '/work/main/dist';
const { NdjsonDecoder } = await import(`${dist}/json/ndjson-decoder.js`);
const { parseDdl } = await import(`${dist}/schema/ddl.js`);
const ddl = readFileSync(ddlFile, 'utf8').trim();
let buf = readFileSync(file);
const limit = +(limitArg ?? 1e12);
// cut to `limit` lines
{ let n = 0, p = 0; while (n < limit && p < buf.length) { p = buf.indexOf(10, p) + 1; if (p === 0) { p = buf.length; } n++; } buf = buf.subarray(0, p); }
const cols = parseCols(ddl);
const ex = await load(wasm);
const wb = [];
const res = run(ex, cols, buf, (out, rows) => wb.push({ out, rows }));
const d = new NdjsonDecoder({ schema: parseDdl(ddl), name: 'x' });
const jb = [...d.push(buf), ...d.end()];
const jrows = jb.reduce((a, b) => a + b.numRows, 0);
console.log(`wasm rows ${res.rows} failures ${res.failures}; js rows ${jrows}`);
const td = new TextDecoder();
function wget(c, o, j) {
  if (o.valid && ((o.valid[j >> 3] >> (j & 7)) & 1) === 0) return null;
  switch (c.ty) {
    case 0: return td.decode(o.bytes.subarray(o.offsets[j], o.offsets[j + 1]));
    case 1: case 3: case 6: return o.values[j];
    case 2: case 5: return String(o.values[j]);
    case 4: return ((o.values[j >> 3] >> (j & 7)) & 1) === 1;
    case 9: { const r = {}; c.children.forEach((ch, q) => { r[ch.name] = wget(ch, o.children[q], j); }); return r; }
    case 10: { const r = []; for (let q = o.offsets[j]; q < o.offsets[j + 1]; q++) r.push(wget(c.children[0], o.children[0], q)); return r; }
  }
}
function norm(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return String(v);
  if (typeof v !== 'object') return v;
  if (typeof v.toArray === 'function' && typeof v.length === 'number') return [...v].map(norm);
  if (typeof v.toJSON === 'function') { const o = v.toJSON(); const r = {}; for (const k of Object.keys(o)) r[k] = norm(o[k]); return r; }
  return v;
}
const mism = new Array(cols.length).fill(0), compared = new Array(cols.length).fill(0);
let ex1 = [];
// walk both
let wi = 0, wr = 0, ji = 0, jr = 0;
const total = Math.min(res.rows, jrows);
const jcols = jb.map((b) => cols.map((_, k) => b.getChildAt(k)));
for (let g = 0; g < total; g++) {
  while (wr >= wb[wi].rows) { wi++; wr = 0; }
  while (jr >= jb[ji].numRows) { ji++; jr = 0; }
  const W = wb[wi].out, J = jcols[ji];
  for (let k = 0; k < cols.length; k++) {
    const c = cols[k], w = W[k], jv = J[k];
    if (c.ty === 8) continue; // skipped nested column
    if (c.ty === 9 || c.ty === 10) {
      const a = JSON.stringify(wget(c, w, wr)), b = JSON.stringify(norm(jv.get(jr)));
      compared[k]++;
      if (a !== b) { mism[k]++; if (ex1.length < 10) ex1.push({ row: g, col: c.name, a, b }); }
      continue;
    }
    const wnull = w.valid ? ((w.valid[wr >> 3] >> (wr & 7)) & 1) === 0 : false;
    const jnull = !jv.isValid(jr);
    let ok;
    if (wnull || jnull) ok = wnull === jnull;
    else {
      const data = jv.data[0]; const off = data.offset;
      if (c.ty === 0) ok = td.decode(w.bytes.subarray(w.offsets[wr], w.offsets[wr + 1])) === jv.get(jr);
      else if (c.ty === 1) ok = Object.is(w.values[wr], data.values[off + jr]);
      else if (c.ty === 2 || c.ty === 5) ok = w.values[wr] === data.values[off + jr];
      else if (c.ty === 3 || c.ty === 6) ok = w.values[wr] === data.values[off + jr];
      else if (c.ty === 4) ok = (((w.values[wr >> 3] >> (wr & 7)) & 1) === 1) === jv.get(jr);
      else if (c.ty === 7) { ok = true; for (let q = 0; q < 4; q++) if (w.values[wr * 4 + q] !== data.values[(off + jr) * 4 + q]) ok = false; }
    }
    compared[k]++;
    if (!ok) { mism[k]++; if (ex1.length < 10) ex1.push({ row: g, col: c.name }); }
  }
  wr++; jr++;
}
console.log('compared rows', total);
cols.forEach((c, k) => console.log(`  ${c.name.padEnd(16)} ${c.t.padEnd(28)} compared ${compared[k]} mismatches ${mism[k]}`));
if (ex1.length) console.log('examples', ex1);
