import * as arrow from 'apache-arrow';
import { valid } from '../arrow/to-rows.js';
import { TributaryError } from '../errors.js';
import type { DataType, StructType } from '../schema/schema.js';
import { CHAR_VARCHAR_KEY } from '../schema/ddl.js';

/**
 * Spark's CHAR(n) and VARCHAR(n) columns. A table Spark created with them stores STRING in its
 * schema, and the declared type in the metadata of the top-level field (for a nested one, the
 * whole type: `struct<x:varchar(2)>`, `array<char(3)>`, `map<varchar(2),char(2)>`). delta-spark
 * checks every write against it: a value longer than n characters (code points; trailing spaces
 * count, nothing is trimmed) fails the write with DELTA_EXCEED_CHAR_VARCHAR_LIMIT; NULL passes;
 * CHAR values are stored as given, not padded (Spark pads when it reads). Measured on Spark
 * 4.1.1 and 3.5.7 alike. Tributary checks the same, so a value Spark would refuse is refused,
 * not landed.
 */

/** The length limits of a type string, by position; undefined where none applies. */
export type Limit =
  | { kind: 'string'; declared: string; max: number }
  | { kind: 'struct'; fields: ReadonlyMap<string, Limit> }
  | { kind: 'array'; element: Limit }
  | { kind: 'map'; key?: Limit; value?: Limit };

export interface CharVarcharColumn {
  name: string;
  limit: Limit;
}

/** The top-level columns of `schema` with CHAR/VARCHAR lengths to check (none for most tables). */
export function charVarcharColumns(schema: StructType, tablePath: string): CharVarcharColumn[] {
  const out: CharVarcharColumn[] = [];
  for (const f of schema.fields) {
    const text = f.metadata?.[CHAR_VARCHAR_KEY];
    if (text === undefined) continue;
    let limit: Limit | undefined;
    try {
      if (typeof text !== 'string') throw new Error('not a string');
      limit = new TypeStringParser(text).whole();
    } catch (e) {
      // A length Tributary cannot read is one it cannot check: refused, not skipped.
      throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: column ${f.name} declares the type ${JSON.stringify(text)} (${CHAR_VARCHAR_KEY}), which Tributary cannot read (${(e as Error).message})`, { column: f.name });
    }
    if (!limit) continue;
    if (!fits(limit, f.type)) throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: column ${f.name} declares the type ${JSON.stringify(text)} (${CHAR_VARCHAR_KEY}), which does not match its schema type`, { column: f.name });
    out.push({ name: f.name, limit });
  }
  return out;
}

/**
 * Refuses an input schema (`--schema`, with or without `--merge-schema`) that declares a
 * CHAR/VARCHAR length the table's columns do not declare: Tributary keeps an existing column's
 * declared type as it is (a merge adds fields to its type, not to that text), so such a length
 * would go unchecked, on this append and every later one. New columns bring their declarations.
 */
export function checkDeclaredLengths(table: StructType, input: StructType, tablePath: string): void {
  for (const g of input.fields) {
    const text = g.metadata?.[CHAR_VARCHAR_KEY];
    if (typeof text !== 'string') continue;
    const f = table.fields.find((x) => x.name.toLowerCase() === g.name.toLowerCase());
    const theirs = f?.metadata?.[CHAR_VARCHAR_KEY];
    if (theirs === text) continue;
    let covered = false;
    try {
      covered = typeof theirs === 'string' && within(new TypeStringParser(text).whole(), new TypeStringParser(theirs).whole());
    } catch {
      covered = false;
    }
    if (!covered) {
      throw new TributaryError(
        'SCHEMA_MISMATCH',
        `column ${g.name} is declared ${text} in the input schema but ${typeof theirs === 'string' ? theirs : 'without CHAR/VARCHAR lengths'} in table ${tablePath}: a length the table does not declare would not be checked (an existing column's declared type does not change); declare the new or changed parts STRING`,
        { column: g.name },
      );
    }
  }
}

/** Whether every length of `a` is declared the same in `b`. */
function within(a: Limit | undefined, b: Limit | undefined): boolean {
  if (!a) return true;
  if (!b || a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'string':
      return a.declared === (b as typeof a).declared;
    case 'struct':
      return [...a.fields].every(([n, l]) => within(l, (b as typeof a).fields.get(n)));
    case 'array':
      return within(a.element, (b as typeof a).element);
    case 'map':
      return within(a.key, (b as typeof a).key) && within(a.value, (b as typeof a).value);
  }
}

/** Whether the limits' shape is the column's: a type string out of step with the schema cannot be applied by position. */
function fits(limit: Limit, t: DataType): boolean {
  switch (limit.kind) {
    case 'string':
      return t.kind === 'primitive' && t.name === 'string';
    case 'struct':
      return t.kind === 'struct' && [...limit.fields].every(([n, l]) => t.fields.some((f) => f.name === n && fits(l, f.type)));
    case 'array':
      return t.kind === 'array' && fits(limit.element, t.elementType);
    case 'map':
      return t.kind === 'map' && (!limit.key || fits(limit.key, t.keyType)) && (!limit.value || fits(limit.value, t.valueType));
  }
}

/**
 * Refuses the batch if a value of a CHAR/VARCHAR column (at any depth) is longer than its
 * length, naming the row (as constraint violations do), the column and the value.
 */
export function checkCharVarchar(columns: readonly CharVarcharColumn[], batch: arrow.RecordBatch, firstRowIndex: number): void {
  for (const c of columns) {
    const idx = batch.schema.fields.findIndex((f) => f.name === c.name);
    if (idx < 0) continue;
    const d = batch.data.children[idx];
    const t = batch.schema.fields[idx].type;
    for (let i = 0; i < batch.numRows; i++) {
      const bad = overLimit(d, t, c.limit, i, c.name);
      if (bad) {
        const row = firstRowIndex + i;
        throw new TributaryError(
          'CONSTRAINT_VIOLATION',
          `row ${row}: column ${bad.where} is ${bad.declared.toUpperCase()} and the value ${JSON.stringify(bad.value)} is ${bad.length} characters long (Spark refuses it: DELTA_EXCEED_CHAR_VARCHAR_LIMIT); nothing was written`,
          { row, column: bad.where, value: bad.value },
        );
      }
    }
  }
}

interface OverLimit {
  where: string;
  declared: string;
  value: string;
  length: number;
}

/** The first value at index `i` of `d` (and below it) that is longer than its limit. */
function overLimit(d: arrow.Data, t: arrow.DataType, limit: Limit, i: number, where: string): OverLimit | undefined {
  if (!valid(d, i)) return undefined;
  switch (limit.kind) {
    case 'string': {
      if (arrow.DataType.isUtf8(t)) {
        const offs = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        const start = offs[i];
        const end = offs[i + 1];
        // Never more characters than UTF-8 bytes: most values are decided by their byte length.
        if (end - start <= limit.max) return undefined;
        let n = 0;
        for (let k = start; k < end; k++) if ((bytes[k] & 0xc0) !== 0x80) n++;
        if (n <= limit.max) return undefined;
        return { where, declared: limit.declared, value: Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'), length: n };
      }
      const v = arrow.makeVector(d).get(i) as string;
      const n = [...v].length;
      return n > limit.max ? { where, declared: limit.declared, value: v, length: n } : undefined;
    }
    case 'struct': {
      const st = t as arrow.Struct;
      for (let c = 0; c < st.children.length; c++) {
        const l = limit.fields.get(st.children[c].name);
        const bad = l && overLimit(d.children[c], st.children[c].type, l, i, `${where}.${st.children[c].name}`);
        if (bad) return bad;
      }
      return undefined;
    }
    case 'array': {
      const offs = d.valueOffsets as Int32Array;
      const el = (t as arrow.List).children[0].type;
      for (let k = offs[i]; k < offs[i + 1]; k++) {
        const bad = overLimit(d.children[0], el, limit.element, k, `${where}[${k - offs[i]}]`);
        if (bad) return bad;
      }
      return undefined;
    }
    case 'map': {
      const offs = d.valueOffsets as Int32Array;
      const entries = d.children[0];
      const [kt, vt] = (t as arrow.Map_).children[0].type.children.map((f: arrow.Field) => f.type);
      for (let k = offs[i]; k < offs[i + 1]; k++) {
        const bad = (limit.key && overLimit(entries.children[0], kt, limit.key, k, `${where} (a key)`)) || (limit.value && overLimit(entries.children[1], vt, limit.value, k, `${where} (a value)`));
        if (bad) return bad;
      }
      return undefined;
    }
  }
}

/**
 * Spark's type strings as it writes them in that metadata (DataType.catalogString): `varchar(5)`,
 * `struct<x:varchar(2),a b:char(1)>` (field names unquoted; backquoted ones are read too),
 * `array<...>`, `map<k,v>`, other types by name with their parameters (`decimal(10,2)`).
 * Gives the limits, undefined where there are none.
 */
class TypeStringParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  whole(): Limit | undefined {
    const l = this.type();
    this.space();
    if (this.pos !== this.src.length) this.fail('unexpected text');
    return l;
  }

  private type(): Limit | undefined {
    const name = this.word().toLowerCase();
    if (name === 'array') {
      this.expect('<');
      const element = this.type();
      this.expect('>');
      return element && { kind: 'array', element };
    }
    if (name === 'map') {
      this.expect('<');
      const key = this.type();
      this.expect(',');
      const value = this.type();
      this.expect('>');
      return key || value ? { kind: 'map', key, value } : undefined;
    }
    if (name === 'struct') {
      this.expect('<');
      const fields = new Map<string, Limit>();
      if (!this.eat('>')) {
        do {
          const field = this.name();
          this.expect(':');
          const l = this.type();
          if (l) fields.set(field, l);
        } while (this.eat(','));
        this.expect('>');
      }
      return fields.size ? { kind: 'struct', fields } : undefined;
    }
    const params: number[] = [];
    if (this.eat('(')) {
      do params.push(this.int());
      while (this.eat(','));
      this.expect(')');
    }
    if (name === 'char' || name === 'varchar') {
      if (params.length !== 1) this.fail(`${name} needs one length`);
      return { kind: 'string', declared: `${name}(${params[0]})`, max: params[0] };
    }
    return undefined;
  }

  private space(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private eat(c: string): boolean {
    this.space();
    if (this.src[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  private expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected "${c}"`);
  }

  private word(): string {
    this.space();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a type name');
    this.pos += m![0].length;
    return m![0];
  }

  /** A field name: as is, or in backquotes with `` for a backquote. */
  private name(): string {
    this.space();
    if (this.src[this.pos] !== '`') {
      const m = /^[^:,<>`]+/.exec(this.src.slice(this.pos));
      if (!m) this.fail('expected a field name');
      this.pos += m![0].length;
      return m![0].trimEnd();
    }
    let out = '';
    for (this.pos++; this.pos < this.src.length; this.pos++) {
      if (this.src[this.pos] === '`') {
        if (this.src[this.pos + 1] !== '`') {
          this.pos++;
          return out;
        }
        this.pos++;
      }
      out += this.src[this.pos];
    }
    return this.fail('unterminated `name`');
  }

  private int(): number {
    this.space();
    const m = /^\d+/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a number');
    this.pos += m![0].length;
    return Number(m![0]);
  }

  private fail(why: string): never {
    throw new Error(`${why} at offset ${this.pos}`);
  }
}
