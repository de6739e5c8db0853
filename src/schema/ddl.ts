import { TributaryError } from '../errors.js';
import {
  array,
  type DataType,
  decimal,
  field,
  map,
  primitive,
  schemaFromJson,
  struct,
  type StructField,
  type StructType,
  variant,
} from './schema.js';
import { identityMetadata } from './identity.js';

/**
 * Spark DDL column lists ("coin STRING, usd_price DOUBLE NOT NULL, ts TIMESTAMP COMMENT 'x'",
 * "date DATE GENERATED ALWAYS AS (CAST(ts AS DATE))"), the form PySpark users type into
 * `.schema(...)` and CREATE TABLE. Type names follow Spark's parser
 * (`DataTypeAstBuilder`), including its aliases (BIGINT, INT, TINYINT, REAL, DEC, NUMERIC...).
 */
export function parseDdl(ddl: string): StructType {
  const p = new DdlParser(ddl);
  const fields = p.fieldList(false);
  p.expectEnd();
  return struct(fields);
}

/** Accepts either a StructType JSON document or a DDL string. */
export function parseSchema(text: string): StructType {
  const t = text.trim();
  if (t.startsWith('{')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch (e) {
      throw new TributaryError('SCHEMA_PARSE', `schema looks like JSON but does not parse: ${(e as Error).message}`);
    }
    return schemaFromJson(j);
  }
  return parseDdl(t);
}

const SIMPLE: Record<string, DataType> = {
  string: primitive('string'),
  bigint: primitive('long'),
  long: primitive('long'),
  int: primitive('integer'),
  integer: primitive('integer'),
  smallint: primitive('short'),
  short: primitive('short'),
  tinyint: primitive('byte'),
  byte: primitive('byte'),
  double: primitive('double'),
  float: primitive('float'),
  real: primitive('float'),
  boolean: primitive('boolean'),
  binary: primitive('binary'),
  date: primitive('date'),
  timestamp: primitive('timestamp'),
  timestamp_ltz: primitive('timestamp'),
  timestamp_ntz: primitive('timestamp_ntz'),
  variant: variant(),
};

/**
 * The field metadata key in which Spark keeps a column's declared CHAR(n)/VARCHAR(n) type (the
 * whole type of the top-level column, `struct<x:varchar(2)>` for a nested one): the schema says
 * STRING, and writers check the length (delta/char-varchar.ts).
 */
export const CHAR_VARCHAR_KEY = '__CHAR_VARCHAR_TYPE_STRING';

/** Spark's DataType.catalogString, with the CHAR/VARCHAR declared where `declared` says. */
function catalogString(t: DataType, declared: WeakMap<DataType, string>): string {
  const own = declared.get(t);
  if (own) return own;
  switch (t.kind) {
    case 'array':
      return `array<${catalogString(t.elementType, declared)}>`;
    case 'map':
      return `map<${catalogString(t.keyType, declared)},${catalogString(t.valueType, declared)}>`;
    case 'struct':
      // Field names as they are: Spark's catalogString does not quote them, so a name its parser
      // would need quoted makes a type string Spark cannot read back (its CREATE TABLE fails).
      return `struct<${t.fields
        .map((f) => {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) throw new TributaryError('SCHEMA_PARSE', `field "${f.name}" of a column with CHAR/VARCHAR in its type: Spark keeps that type as text with its field names unquoted and cannot read such a name back (its CREATE TABLE fails too); use letters, digits and _ or STRING`);
          return `${f.name}:${catalogString(f.type, declared)}`;
        })
        .join(',')}>`;
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'variant':
      return 'variant';
    default:
      return CATALOG_NAMES[t.name] ?? t.name;
  }
}

const CATALOG_NAMES: Record<string, string> = { long: 'bigint', integer: 'int', short: 'smallint', byte: 'tinyint' };

class DdlParser {
  private pos = 0;
  /** The STRING types that were declared CHAR(n)/VARCHAR(n), with that declaration. */
  private readonly declared = new WeakMap<DataType, string>();
  constructor(private readonly src: string) {}

  private err(msg: string): never {
    throw new TributaryError('SCHEMA_PARSE', `DDL schema, at character ${this.pos + 1}: ${msg} (in "${this.src}")`);
  }

  private ws() {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private peek(): string {
    this.ws();
    return this.src[this.pos] ?? '';
  }

  private eat(ch: string): boolean {
    if (this.peek() === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(ch: string) {
    if (!this.eat(ch)) this.err(`expected "${ch}"`);
  }

  expectEnd() {
    if (this.peek() !== '') this.err(`unexpected "${this.src.slice(this.pos, this.pos + 10)}"`);
  }

  private ident(): string {
    this.ws();
    if (this.src[this.pos] === '`') {
      let out = '';
      this.pos++;
      for (;;) {
        if (this.pos >= this.src.length) this.err('unterminated `quoted` name');
        const c = this.src[this.pos++];
        if (c === '`') {
          if (this.src[this.pos] === '`') {
            out += '`';
            this.pos++;
            continue;
          }
          return out;
        }
        out += c;
      }
    }
    const m = /^[A-Za-z_0-9$]+/.exec(this.src.slice(this.pos));
    if (!m) this.err('expected a column name or type');
    this.pos += m[0].length;
    return m[0];
  }

  private keyword(word: string): boolean {
    this.ws();
    const re = new RegExp(`^${word}\\b`, 'i');
    if (re.test(this.src.slice(this.pos))) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  private stringLit(): string {
    this.ws();
    const q = this.src[this.pos];
    if (q !== "'" && q !== '"') this.err('expected a quoted string');
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) this.err('unterminated string');
      const c = this.src[this.pos++];
      if (c === '\\') {
        out += this.src[this.pos++] ?? '';
        continue;
      }
      if (c === q) return out;
      out += c;
    }
  }

  private int(): number {
    this.ws();
    const m = /^\d+/.exec(this.src.slice(this.pos));
    if (!m) this.err('expected a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private hasDeclared(t: DataType): boolean {
    if (this.declared.has(t)) return true;
    if (t.kind === 'array') return this.hasDeclared(t.elementType);
    if (t.kind === 'map') return this.hasDeclared(t.keyType) || this.hasDeclared(t.valueType);
    if (t.kind === 'struct') return t.fields.some((f) => this.hasDeclared(f.type));
    return false;
  }

  /** Top-level lists are "name TYPE, ..."; STRUCT<> members may also use "name: TYPE". */
  fieldList(inStruct: boolean): StructField[] {
    const out: StructField[] = [];
    for (;;) {
      const name = this.ident();
      if (inStruct) this.eat(':');
      const type = this.type();
      let nullable = true;
      const metadata: Record<string, unknown> = {};
      let generated: string | undefined;
      for (;;) {
        if (this.keyword('NOT')) {
          if (!this.keyword('NULL')) this.err('expected NULL after NOT');
          nullable = false;
        } else if (this.keyword('COMMENT')) {
          metadata.comment = this.stringLit();
        } else if (!inStruct && this.keyword('GENERATED')) {
          const g = this.generated(name, type);
          if (typeof g === 'string') generated = g;
          else Object.assign(metadata, g);
        } else break;
      }
      // Spark puts the generation expression before the comment in the field's metadata.
      const meta = generated === undefined ? metadata : { 'delta.generationExpression': generated, ...metadata };
      // A top-level column with CHAR/VARCHAR anywhere in its type carries the declared type, as
      // Spark's CREATE TABLE writes it (a nested one's is its top-level column's).
      if (!inStruct && this.hasDeclared(type)) meta[CHAR_VARCHAR_KEY] = catalogString(type, this.declared);
      out.push(field(name, type, nullable, meta));
      if (!this.eat(',')) break;
    }
    return out;
  }

  /**
   * After GENERATED (Spark's grammar): `ALWAYS AS (expr)`, a generated column (its expression's
   * text), or `{ ALWAYS | BY DEFAULT } AS IDENTITY [...]`, an identity column (its field metadata).
   */
  private generated(column: string, type: DataType): string | Record<string, unknown> {
    const always = this.keyword('ALWAYS');
    if (!always && !(this.keyword('BY') && this.keyword('DEFAULT'))) this.err('expected ALWAYS or BY DEFAULT after GENERATED');
    if (!this.keyword('AS')) this.err(`expected AS after GENERATED ${always ? 'ALWAYS' : 'BY DEFAULT'}`);
    if (always && this.peek() === '(') return this.generationExpression();
    if (!this.keyword('IDENTITY')) this.err(always ? 'expected (expression) or IDENTITY after GENERATED ALWAYS AS' : 'expected IDENTITY after GENERATED BY DEFAULT AS');
    return this.identity(column, type, always);
  }

  /**
   * The rest of `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY [ ( [START WITH n] [INCREMENT BY m] ) ]`
   * (top-level BIGINT columns only), as the field metadata Spark writes.
   */
  private identity(column: string, type: DataType, always: boolean): Record<string, unknown> {
    if (type.kind !== 'primitive' || type.name !== 'long') this.err(`identity column "${column}" must be BIGINT`);
    const opts: { always: boolean; start?: number; step?: number } = { always };
    if (this.eat('(')) {
      while (!this.eat(')')) {
        if (this.keyword('START')) {
          if (!this.keyword('WITH')) this.err('expected WITH after START');
          if (opts.start !== undefined) this.err('START WITH given twice');
          opts.start = this.signedInt();
        } else if (this.keyword('INCREMENT')) {
          if (!this.keyword('BY')) this.err('expected BY after INCREMENT');
          if (opts.step !== undefined) this.err('INCREMENT BY given twice');
          opts.step = this.signedInt();
        } else this.err('expected START WITH, INCREMENT BY or ")"');
      }
    }
    return identityMetadata(opts);
  }

  private signedInt(): number {
    const neg = this.eat('-');
    if (!neg) this.eat('+');
    const n = this.int();
    return neg ? -n : n;
  }

  /**
   * The `(expr)` of `GENERATED ALWAYS AS (expr)`: the expression's text between the parentheses,
   * trimmed, as Spark stores it (delta.generationExpression). Only the text is taken here; the
   * expression is checked against the table when the table is created.
   */
  private generationExpression(): string {
    const open = this.pos;
    let depth = 0;
    for (let i = open; i < this.src.length; i++) {
      const c = this.src[i];
      if (c === "'" || c === '"' || c === '`') {
        // Skip a quoted string or name; backslash escapes inside quotes, doubled backticks.
        for (i++; i < this.src.length && this.src[i] !== c; i++) if (c !== '`' && this.src[i] === '\\') i++;
        if (i >= this.src.length) break;
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        const text = this.src.slice(open + 1, i).trim();
        if (text === '') this.err('GENERATED ALWAYS AS needs an expression');
        this.pos = i + 1;
        return text;
      }
    }
    this.pos = open;
    return this.err('unbalanced parentheses in GENERATED ALWAYS AS (...)');
  }

  type(): DataType {
    const name = this.ident().toLowerCase();
    if (name === 'array') {
      this.expect('<');
      const el = this.type();
      this.expect('>');
      return array(el, true);
    }
    if (name === 'map') {
      this.expect('<');
      const k = this.type();
      this.expect(',');
      const v = this.type();
      this.expect('>');
      return map(k, v, true);
    }
    if (name === 'struct') {
      this.expect('<');
      if (this.eat('>')) return struct([]);
      const fields = this.fieldList(true);
      this.expect('>');
      return struct(fields);
    }
    if (name === 'decimal' || name === 'dec' || name === 'numeric') {
      if (this.eat('(')) {
        const p = this.int();
        let s = 0;
        if (this.eat(',')) s = this.int();
        this.expect(')');
        return decimal(p, s);
      }
      return decimal(10, 0);
    }
    if (name === 'varchar' || name === 'char' || name === 'character') {
      // Spark keeps CHAR(n)/VARCHAR(n) in a table as STRING plus the declared type in the
      // column's metadata; writers check the length. A STRING of its own, to be told apart.
      if (!this.eat('(')) this.err(`${name.toUpperCase()} needs a length: ${name.toUpperCase()}(n)`);
      const n = this.int();
      this.expect(')');
      if (n < 1 || n > 2147483647) this.err(`${name.toUpperCase()}(${n}): the length must be from 1 to 2147483647`);
      const t = primitive('string');
      this.declared.set(t, `${name === 'varchar' ? 'varchar' : 'char'}(${n})`);
      return t;
    }
    const t = SIMPLE[name];
    if (!t) this.err(`unknown type "${name}"`);
    return t;
  }
}
