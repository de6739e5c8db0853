// Loader + chunked driver for the ndwasm decoder (plain WebAssembly.instantiate).
import { readFileSync } from 'node:fs';

const TYPES = { STRING: 0, DOUBLE: 1, BIGINT: 2, INT: 3, BOOLEAN: 4, TIMESTAMP: 5, DATE: 6, DECIMAL: 7 };
function splitTop(s) {
  const parts = []; let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '<' || ch === '(') depth++;
    if (ch === '>' || ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}
function parseType(name, t, skipNested) {
  t = t.trim();
  const base = t.match(/^[A-Z]+/)[0];
  if (base === 'STRUCT') {
    if (skipNested) return { name, ty: 8, param: 0, t, children: [] };
    const inner = t.slice(t.indexOf('<') + 1, t.lastIndexOf('>'));
    const children = splitTop(inner).map((f) => { const m = f.match(/^([^:\s]+)\s*:?\s*(.*)$/); return parseType(m[1], m[2], skipNested); });
    return { name, ty: 9, param: children.length, t, children };
  }
  if (base === 'ARRAY') {
    if (skipNested) return { name, ty: 8, param: 0, t, children: [] };
    const inner = t.slice(t.indexOf('<') + 1, t.lastIndexOf('>'));
    return { name, ty: 10, param: 1, t, children: [parseType('', inner, skipNested)] };
  }
  let ty = TYPES[base] ?? 8, param = 0;
  if (base === 'DECIMAL') param = +t.match(/,\s*(\d+)/)[1];
  return { name, ty, param, t, children: [] };
}
export function parseCols(ddl, skipNested = !!process.env.SKIPNESTED) {
  return splitTop(ddl.trim()).map((p) => { const sp = p.indexOf(' '); return parseType(p.slice(0, sp), p.slice(sp + 1), skipNested); });
}

export async function load(wasmFile) {
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), {});
  return instance.exports;
}

export const MAX_ROWS = 65536;
const CH = 1 << 20;

/** Decode the whole buffer in 1 MiB pieces; onBatch(cols, rows) gets columns copied out of wasm. */
export function run(ex, cols, buf, onBatch, maxRows = MAX_ROWS) {
  const enc = new TextEncoder();
  const desc = [];
  const put = (c) => { const nb = enc.encode(c.name); desc.push(c.ty, c.param, nb.length, ...nb); c.children.forEach(put); };
  cols.forEach(put);
  const dp = ex.alloc(desc.length);
  new Uint8Array(ex.memory.buffer).set(desc, dp);
  ex.set_schema(dp, desc.length, maxRows);
  ex.reset();
  const inPtr = ex.alloc(2 * CH + 4096);
  let ab, u8, info;
  const views = () => {
    if (ab !== ex.memory.buffer) { ab = ex.memory.buffer; u8 = new Uint8Array(ab); info = new Uint32Array(ab, ex.info_ptr(), 8); }
  };
  views();
  let failures = 0, totalRows = 0;
  const flush = () => {
    const tf = performance.now();
    views();
    const rows = ex.rows();
    if (rows === 0) return;
    let idx = 0;
    const copy = (c, n) => {
      const ci = new Uint32Array(ab, ex.col_info(idx++, n), 6);
      const [data, valid, offs, bytes, blen, nulls] = ci;
      const ty = c.ty;
      const o = { nulls, n };
      if (nulls) o.valid = u8.slice(valid, valid + ((n + 7) >> 3));
      if (ty === 0) { o.offsets = new Int32Array(ab, offs, n + 1).slice(); o.bytes = u8.slice(bytes, bytes + blen); }
      else if (ty === 1) o.values = new Float64Array(ab, data, n).slice();
      else if (ty === 2 || ty === 5) o.values = new BigInt64Array(ab, data, n).slice();
      else if (ty === 3 || ty === 6) o.values = new Int32Array(ab, data, n).slice();
      else if (ty === 4) o.values = u8.slice(data, data + ((n + 7) >> 3));
      else if (ty === 7) o.values = new Uint32Array(ab, data, n * 4).slice();
      else if (ty === 9) o.children = c.children.map((ch) => copy(ch, n));
      else if (ty === 10) { o.offsets = new Int32Array(ab, offs, n + 1).slice(); o.children = [copy(c.children[0], o.offsets[n])]; }
      return o;
    };
    const out = cols.map((c) => copy(c, rows));
    totalRows += rows;
    ex.reset();
    if (globalThis.__prof) globalThis.__prof.flush += performance.now() - tf;
    onBatch(out, rows);
  };
  const feed = (len) => {
    // input already at inPtr[0..len), all complete lines
    let off = 0;
    for (;;) {
      const st = ex.decode(inPtr + off, len - off);
      views();
      off += info[0];
      if (st === 1) { flush(); continue; }
      if (st === 2) {
        // a real pipeline would hand this line to the JS decoder; here: count it and skip it
        failures++;
        const nl = u8.indexOf(10, inPtr + off);
        off = nl - inPtr + 1;
        if (off < len) continue;
      }
      break;
    }
  };
  let carry = null;
  for (let p = 0; p < buf.length; p += CH) {
    const piece = buf.subarray(p, p + CH);
    const last = piece.lastIndexOf(10);
    if (last < 0) { carry = carry ? Buffer.concat([carry, piece]) : piece; continue; }
    let n = 0;
    if (carry) { u8.set(carry, inPtr); n = carry.length; }
    u8.set(piece.subarray(0, last + 1), inPtr + n);
    n += last + 1;
    carry = last + 1 < piece.length ? piece.subarray(last + 1) : null;
    feed(n);
  }
  if (carry) { u8.set(carry, inPtr); u8[inPtr + carry.length] = 10; feed(carry.length + 1); }
  flush();
  return { rows: totalRows, failures };
}
