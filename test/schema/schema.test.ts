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
    // CHAR/VARCHAR were taken as STRING without their length: longer values landed where Spark refuses them.
    bad(() => parseDdl('a VARCHAR(2)'), /VARCHAR\(2\) is not supported \(Spark checks its length on every write, which Tributary does not do\); use STRING/);
    bad(() => parseDdl('a INT, b STRUCT<c: char(3)>'), /CHAR\(3\) is not supported/);
    bad(() => parseDdl('a varchar'), /VARCHAR is not supported/);
    expect(parseDdl('varchar STRING').fields[0].name).toBe('varchar');
  });

  it('merges new nullable columns and refuses type changes', () => {
    const table = parseDdl('id BIGINT NOT NULL, s STRUCT<a: INT>');
    const merged = mergeSchemas(table, parseDdl('id BIGINT, s STRUCT<a: INT, b: STRING>, extra DOUBLE NOT NULL'));
    expect(schemaToString(merged)).toBe(schemaToString(parseDdl('id BIGINT NOT NULL, s STRUCT<a: INT, b: STRING>, extra DOUBLE')));
    expect(() => mergeSchemas(table, parseDdl('id STRING'))).toThrow(/column "id" has type long in the table but string/);
  });
});
