// Wrap the copied-out column buffers as apache-arrow RecordBatches (what the JS decoder returns).
import * as A from '/work/main/node_modules/apache-arrow/Arrow.node.mjs';
function arrowType(c) {
  switch (c.ty) {
    case 0: return new A.Utf8();
    case 1: return new A.Float64();
    case 2: return new A.Int64();
    case 3: return new A.Int32();
    case 4: return new A.Bool();
    case 5: return new A.Timestamp(A.TimeUnit.MICROSECOND, 'UTC');
    case 6: return new A.DateDay();
    case 7: return new A.Decimal(c.param, 18, 128);
    case 9: return new A.Struct(c.children.map((ch) => new A.Field(ch.name, arrowType(ch), true)));
    case 10: return new A.List(new A.Field('element', arrowType(c.children[0]), true));
    default: return new A.Null();
  }
}
export function makeWrapper(cols) {
  const fields = cols.map((c) => new A.Field(c.name, arrowType(c), true));
  const schema = new A.Schema(fields);
  const st = new A.Struct(fields);
  const mk = (c, o, type) => {
    const n = o.n;
    const props = { type, length: n, nullCount: o.nulls, nullBitmap: o.valid ?? null };
    if (c.ty === 8) return A.makeData({ type: new A.Null(), length: n });
    if (c.ty === 0) { props.valueOffsets = o.offsets; props.data = o.bytes; }
    else if (c.ty === 9) props.children = c.children.map((ch, q) => mk(ch, o.children[q], type.children[q].type));
    else if (c.ty === 10) { props.valueOffsets = o.offsets; props.child = mk(c.children[0], o.children[0], type.children[0].type); }
    else props.data = o.values;
    return A.makeData(props);
  };
  return (out, rows) => new A.RecordBatch(schema, A.makeData({ type: st, length: rows, nullCount: 0, children: cols.map((c, k) => mk(c, out[k], fields[k].type)) }));
}
