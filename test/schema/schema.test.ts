import { describe, expect, it } from 'vitest';
import { parseDdl, parseSchema } from '../../src/schema/ddl.js';
import { mergeSchemas, parseSchemaString, schemaToString, validateTableSchema } from '../../src/schema/schema.js';
import { isTributaryError } from '../../src/errors.js';

describe('schema', () => {
  it('parses the DDL users type and serialises it exactly as Spark does', () => {
    const s = parseDdl("coin STRING, usd_price DOUBLE NOT NULL, ts TIMESTAMP COMMENT 'ingest time', amt DECIMAL(18,4), n BIGINT");
    expect(schemaToString(s)).toBe(
      '{"type":"struct","fields":[' +
        '{"name":"coin","type":"string","nullable":true,"metadata":{}},' +
        '{"name":"usd_price","type":"double","nullable":false,"metadata":{}},' +
        '{"name":"ts","type":"timestamp","nullable":true,"metadata":{"comment":"ingest time"}},' +
        '{"name":"amt","type":"decimal(18,4)","nullable":true,"metadata":{}},' +
        '{"name":"n","type":"long","nullable":true,"metadata":{}}]}',
    );
  });

  it('parses nested DDL types and Spark aliases', () => {
    const s = parseDdl('a ARRAY<STRUCT<x: INT, `y z`: MAP<STRING, ARRAY<TINYINT>>>>, b SMALLINT, c REAL, d DEC, e TIMESTAMP_NTZ, f BINARY, g DATE, h BOOLEAN');
    expect(schemaToString(s)).toBe(
      '{"type":"struct","fields":[' +
        '{"name":"a","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}},{"name":"y z","type":{"type":"map","keyType":"string","valueType":{"type":"array","elementType":"byte","containsNull":true},"valueContainsNull":true},"nullable":true,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}},' +
        '{"name":"b","type":"short","nullable":true,"metadata":{}},' +
        '{"name":"c","type":"float","nullable":true,"metadata":{}},' +
        '{"name":"d","type":"decimal(10,0)","nullable":true,"metadata":{}},' +
        '{"name":"e","type":"timestamp_ntz","nullable":true,"metadata":{}},' +
        '{"name":"f","type":"binary","nullable":true,"metadata":{}},' +
        '{"name":"g","type":"date","nullable":true,"metadata":{}},' +
        '{"name":"h","type":"boolean","nullable":true,"metadata":{}}]}',
    );
  });

  it('round-trips a Spark schemaString byte for byte', () => {
    const spark =
      '{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"m","type":{"type":"map","keyType":"string","valueType":"decimal(38,18)","valueContainsNull":false},"nullable":true,"metadata":{"comment":"x","delta.x":1}}]}';
    expect(schemaToString(parseSchemaString(spark))).toBe(spark);
    expect(schemaToString(parseSchema(spark))).toBe(spark);
  });

  it('rejects bad schemas with a message that names the problem', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isTributaryError(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    bad(() => parseDdl('a STRNG'), /unknown type "strng"/);
    bad(() => parseDdl('a DECIMAL(40,2)'), /decimal\(40,2\)/);
    bad(() => parseDdl('a INT, A STRING'), /duplicate column name "A"/);
    bad(() => parseDdl('a INT,'), /expected a column name/);
    bad(() => validateTableSchema(parseDdl('`a b` INT, c INT'), []), /"a b"/);
    bad(() => validateTableSchema(parseDdl('a INT, c INT'), ['x']), /partition column "x"/);
    bad(() => validateTableSchema(parseDdl('a STRUCT<x: INT>, c INT'), ['a']), /must be primitive/);
    bad(() => parseSchema('{"type":"struct","fields":[{"name":"a","type":"varchar"}]}'), /unsupported type "varchar"/);
    // CHAR/VARCHAR need their length, as in Spark (DATATYPE_MISSING_SIZE).
    bad(() => parseDdl('a varchar'), /VARCHAR needs a length: VARCHAR\(n\)/);
    bad(() => parseDdl('a CHAR(0)'), /CHAR\(0\): the length must be from 1/);
    expect(parseDdl('varchar STRING').fields[0].name).toBe('varchar');
  });

  it("CHAR(n)/VARCHAR(n) become STRING with the declared type in the top-level field's metadata, as Spark's CREATE TABLE writes it", () => {
    // The schemaString Spark 4.1.1 and 3.5.7 wrote for these two CREATE TABLEs, verbatim.
    const spark1 = '{"type":"struct","fields":[{"name":"c","type":"string","nullable":true,"metadata":{"__CHAR_VARCHAR_TYPE_STRING":"char(3)"}},{"name":"v","type":"string","nullable":true,"metadata":{"__CHAR_VARCHAR_TYPE_STRING":"varchar(5)"}},{"name":"s","type":"string","nullable":true,"metadata":{}}]}';
    const spark2 =
      '{"type":"struct","fields":[{"name":"id","type":"integer","nullable":true,"metadata":{}},{"name":"st","type":{"type":"struct","fields":[{"name":"x","type":"string","nullable":true,"metadata":{}},{"name":"y","type":"string","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{"__CHAR_VARCHAR_TYPE_STRING":"struct<x:varchar(2),y:char(2)>"}},{"name":"a","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{"__CHAR_VARCHAR_TYPE_STRING":"array<varchar(2)>"}},{"name":"m","type":{"type":"map","keyType":"string","valueType":"string","valueContainsNull":true},"nullable":true,"metadata":{"__CHAR_VARCHAR_TYPE_STRING":"map<varchar(2),char(2)>"}}]}';
    expect(JSON.parse(schemaToString(parseDdl('c CHAR(3), v VARCHAR(5), s STRING')))).toEqual(JSON.parse(spark1));
    expect(JSON.parse(schemaToString(parseDdl('id INT, st STRUCT<x: VARCHAR(2), y: CHAR(2)>, a ARRAY<VARCHAR(2)>, m MAP<VARCHAR(2), CHAR(2)>')))).toEqual(JSON.parse(spark2));
    // The other types of a nested column by Spark's catalog names; field names unquoted, as Spark's catalogString leaves them.
    const nested = parseDdl('s STRUCT<a_b: BIGINT, n: DECIMAL(5,2), `_1`: ARRAY<CHARACTER(1)>, t: TIMESTAMP_NTZ, u: SMALLINT, w: TINYINT>').fields[0];
    expect(nested.metadata.__CHAR_VARCHAR_TYPE_STRING).toBe('struct<a_b:bigint,n:decimal(5,2),_1:array<char(1)>,t:timestamp_ntz,u:smallint,w:tinyint>');
    // A name Spark's parser needs quoted cannot be read back from that text (Spark's CREATE TABLE fails on it too).
    for (const name of ['`1`', '`a-b`', '`a b`']) expect(() => parseDdl(`s STRUCT<${name}: VARCHAR(2)>`)).toThrow(/Spark keeps that type as text with its field names unquoted/);
    expect(parseDdl('s STRUCT<`a-b`: STRING>').fields[0].metadata).toEqual({});
    expect(parseDdl('s STRUCT<a: STRING>').fields[0].metadata).toEqual({});
  });

  it('merges new nullable columns and refuses type changes', () => {
    const table = parseDdl('id BIGINT NOT NULL, s STRUCT<a: INT>');
    const merged = mergeSchemas(table, parseDdl('id BIGINT, s STRUCT<a: INT, b: STRING>, extra DOUBLE NOT NULL'));
    expect(schemaToString(merged)).toBe(schemaToString(parseDdl('id BIGINT NOT NULL, s STRUCT<a: INT, b: STRING>, extra DOUBLE')));
    expect(() => mergeSchemas(table, parseDdl('id STRING'))).toThrow(/column "id" has type long in the table but string/);
  });

  it('merges new fields of structs inside arrays and maps (as Spark does), and names the position of a type change', () => {
    const table = parseDdl('items ARRAY<STRUCT<a: INT>>, m MAP<STRING, STRUCT<a: INT>>, deep ARRAY<ARRAY<STRUCT<x: INT>>>');
    const merged = mergeSchemas(table, parseDdl('items ARRAY<STRUCT<a: INT, b: STRING NOT NULL>>, m MAP<STRING, STRUCT<c: BOOLEAN>>, deep ARRAY<ARRAY<STRUCT<y: DATE>>>'));
    expect(schemaToString(merged)).toBe(schemaToString(parseDdl('items ARRAY<STRUCT<a: INT, b: STRING>>, m MAP<STRING, STRUCT<a: INT, c: BOOLEAN>>, deep ARRAY<ARRAY<STRUCT<x: INT, y: DATE>>>')));
    expect(() => mergeSchemas(table, parseDdl('items ARRAY<STRUCT<a: STRING>>'))).toThrow(/column "items\.element\.a" has type integer in the table but string/);
    expect(() => mergeSchemas(table, parseDdl('m MAP<INT, STRUCT<a: INT>>'))).toThrow(/column "m\.key" has type/);
    expect(() => mergeSchemas(table, parseDdl('items ARRAY<INT>'))).toThrow(/column "items\.element" has type/);
  });
});
