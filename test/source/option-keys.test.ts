import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { isTributaryError } from '../../src/errors.js';
import { MemorySink } from '../../src/engine/sinks/memory-sink.js';
import { DataSource, Tributary } from '../../src/index.js';
import { CoinGeckoSource } from '../../src/source/builtins/coingecko.js';
import { HttpJsonSource } from '../../src/source/builtins/http-json.js';
import { RateSource } from '../../src/source/builtins/rate.js';
import { checkOptionKeys, checkWriteStreamOptionKeys, didYouMean, typingDistance, WRITE_STREAM_OPTIONS } from '../../src/source/option-keys.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-option-keys-');

function session(): { t: Tributary; warnings: string[] } {
  const t = new Tributary();
  const warnings: string[] = [];
  t.onWarning = (m) => warnings.push(m);
  return { t, warnings };
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isTributaryError(e, 'INVALID_ARGUMENT')) return e.message;
    throw e;
  }
  throw new Error('not refused');
}

describe('option keys: what counts as a typing mistake', () => {
  it('a case difference, or one or two edits (a swap is one) within a third of the name', () => {
    expect(typingDistance('rowsperbatch', 'rowsPerBatch')).toBe(0);
    expect(typingDistance('rowsPerBach', 'rowsPerBatch')).toBe(1);
    expect(typingDistance('rowPerBach', 'rowsPerBatch')).toBe(2);
    expect(typingDistance('mdoe', 'mode')).toBe(1);
    expect(typingDistance('chekpointLocaton', 'checkpointLocation')).toBe(2);
    expect(typingDistance('rwPerBch', 'rowsPerBatch')).toBeUndefined(); // 4 edits
    expect(typingDistance('tz', 'to')).toBeUndefined(); // two letters: only a case difference counts
    expect(typingDistance('TO', 'to')).toBe(0);
    expect(typingDistance('id', 'ids')).toBe(1);
    expect(didYouMean('rowsPerSecnd', ['rowsPerBatch', 'rowsPerSecond'])).toBe('rowsPerSecond');
    expect(didYouMean('headers.Authorization', ['url'], ['header.'])).toBe('header.Authorization');
    expect(didYouMean('Header.X-Key', ['url'], ['header.'])).toBe('header.X-Key');
    expect(didYouMean('header', ['url'], ['header.'])).toBe('header.<name>');
    expect(didYouMean('fooBar', ['rowsPerBatch'])).toBeUndefined();
  });

  it('refuses a typo naming the known option; warns once about the others, listing the known ones', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(refusal(() => checkOptionKeys('source rate', { rowsPerBach: '5' }, ['rowsPerBatch', 'rowsPerSecond'], warn))).toBe('unknown option rowsPerBach for source rate; did you mean rowsPerBatch?');
    checkOptionKeys('source rate', { rowsPerBatch: '5', fooBar: '1', numPartitions: '2' }, ['rowsPerBatch', 'rowsPerSecond'], warn);
    expect(warnings).toEqual(['unknown options fooBar, numPartitions for source rate are ignored (known options: rowsPerBatch, rowsPerSecond)']);
    warnings.length = 0;
    checkOptionKeys('source x', { 'header.Anything-Goes': 'v', NUMROWS: '3' }, ['header.*', 'numRows'], warn, { caseInsensitive: true });
    expect(warnings).toEqual([]);
  });
});

describe('option keys of the built-in sources and the writeStream', () => {
  /** Every option a built-in reads, found in its code, is declared (so the check never refuses a real option). */
  it('each built-in source declares every option its code reads', () => {
    const declared: [typeof DataSource & { optionNames?: readonly string[] }, string][] = [
      [RateSource, 'src/source/builtins/rate.ts'],
      [CoinGeckoSource, 'src/source/builtins/coingecko.ts'],
      [HttpJsonSource, 'src/source/builtins/http-json.ts'],
    ];
    for (const [cls, file] of declared) {
      const code = readFileSync(path.resolve(file), 'utf8');
      const read = new Set([...code.matchAll(/\bo\.(?:string|number|boolean|list|required)\('([^']+)'/g), ...code.matchAll(/this\.options\.(\w+)/g)].map((m) => m[1]));
      expect(read.size).toBeGreaterThan(2);
      const names = cls.optionNames ?? [];
      for (const k of read) expect(names, `${file} reads ${k}`).toContain(k);
      if (/startsWith\('header\.'\)/.test(code)) expect(names).toContain('header.*');
    }
  });

  it('the writeStream check knows every option data-stream.ts reads', async () => {
    const code = readFileSync(path.resolve('src/engine/data-stream.ts'), 'utf8');
    // Keys read directly, through the Options accessors (w.number('key', ...)) or the read limits (from('key')).
    const read = new Set([...code.matchAll(/this\.opts\.(\w+)/g), ...code.matchAll(/this\.opts\['([^']+)'\]/g), ...code.matchAll(/\bw\.\w+\('([^']+)'/g), ...code.matchAll(/\bfrom\('([^']+)'\)/g)].map((m) => m[1]));
    expect(read.size).toBeGreaterThan(5);
    const { t, warnings } = session();
    const df = t.readStream.format('rate').option('rowsPerBatch', 1).load();
    // Every key read is accepted without a warning (values chosen to be valid).
    const valid: Record<string, string> = { mergeSchema: 'false', engine: 'parquetjs', compression: 'snappy', targetFileSize: '1MB', autoCompact: 'false', 'autoCompact.everyCommits': '100', 'autoCompact.maxSmallFiles': '100', 'autoCompact.targetFileSize': '1MB', minBatchesToRetain: '10', maxRowsPerBatch: '1', maxBytesPerBatch: '1MB', 'checkpointLock.renewInterval': '5s', progressHistory: '3', metricsPort: '0', metricsHost: '127.0.0.1', dashboard: 'false', readyAfterIntervals: '3' };
    const dir = tmp();
    let w = df.writeStream.option('checkpointLocation', path.join(dir, 'cp')).option('path', path.join(dir, 'table')).trigger({ once: true });
    for (const k of read) if (k !== 'checkpointLocation' && k !== 'path') w = w.option(k, valid[k] ?? 'x');
    expect([...read].every((k) => k in valid || k === 'checkpointLocation' || k === 'path')).toBe(true);
    const q = w.start();
    await q.awaitTermination();
    expect(warnings).toEqual([]);
    expect(WRITE_STREAM_OPTIONS).toContain('checkpointLocation');
  });

  it('rate: a typo is refused at load(), before anything exists; an unknown key is a warning and the query runs', async () => {
    const { t, warnings } = session();
    expect(refusal(() => t.readStream.format('rate').option('rowsPerBach', 5).load())).toBe('unknown option rowsPerBach for source rate; did you mean rowsPerBatch?');
    expect(refusal(() => t.readStream.format('rate').option('RowsPerBatch', 5).load())).toMatch(/did you mean rowsPerBatch\?$/);
    expect(refusal(() => t.readStream.format('coingecko').option('coin', 'bitcoin').load())).toMatch(/unknown option coin for source coingecko; did you mean coins\?/);
    expect(refusal(() => t.readStream.format('http-json').option('url', 'http://x/').option('headers.Authorization', 'x').load())).toMatch(/did you mean header\.Authorization\?/);
    expect(warnings).toEqual([]);

    const dir = tmp();
    const q = t.readStream.format('rate').option('rowsPerBatch', 3).option('numPartitions', 4).load()
      .writeStream.option('checkpointLocation', path.join(dir, 'cp')).trigger({ once: true }).start(path.join(dir, 'table'));
    await q.awaitTermination();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^unknown option numPartitions for source rate is ignored \(known options: advanceMillisPerBatch, maxBytesPerBatch, maxRowsPerBatch, rowsPerBatch, rowsPerSecond, startTimestamp\)$/);
    expect(arrowToRows(await (await DeltaTable.open(path.join(dir, 'table'))).read())).toHaveLength(3);
  });

  it('writeStream: a typo is refused at start() and nothing is created; unknown keys warn; console names ignore case', async () => {
    const { t, warnings } = session();
    const dir = tmp();
    const df = t.readStream.format('rate').option('rowsPerBatch', 2).load();
    const base = () => df.writeStream.option('checkpointLocation', path.join(dir, 'cp')).trigger({ once: true });
    expect(refusal(() => base().option('mergeSchem', 'true').start(path.join(dir, 'table')))).toBe('unknown option mergeSchem for writeStream format delta; did you mean mergeSchema?');
    expect(refusal(() => base().option('autoCompact.everyCommit', '5').start(path.join(dir, 'table')))).toMatch(/did you mean autoCompact\.everyCommits\?/);
    expect(refusal(() => df.writeStream.option('checkpointLocaton', path.join(dir, 'cp')).start(path.join(dir, 'table')))).toMatch(/did you mean checkpointLocation\?/);
    expect(existsSync(path.join(dir, 'cp'))).toBe(false);
    expect(existsSync(path.join(dir, 'table'))).toBe(false);

    const q = base().option('userMetadata', 'x').start(path.join(dir, 'table'));
    await q.awaitTermination();
    expect(warnings).toEqual([expect.stringMatching(/^unknown option userMetadata for writeStream format delta is ignored \(known options: autoCompact, .*checkpointLocation, .*mergeSchema/)]);

    warnings.length = 0;
    // Spark's console sink reads numRows and truncate in any case; a typo of them is still refused.
    checkWriteStreamOptionKeys('console', { checkpointLocation: 'x', NUMROWS: '1', Truncate: 'false' }, (m) => warnings.push(m));
    expect(refusal(() => df.writeStream.format('console').option('checkpointLocation', path.join(dir, 'x')).option('numRow', '1').start())).toMatch(/did you mean numRows\?/);
    const q2 = df.writeStream.format('memory').queryName('keys').option('checkpointLocation', path.join(dir, 'cp-memory')).trigger({ once: true }).start();
    await q2.awaitTermination();
    expect(MemorySink.forQuery(t, 'keys')?.rows()).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('user sources are checked only when they declare optionNames', async () => {
    class Loose extends DataSource {
      static override formatName = 'loose';
      schema() {
        return 'x BIGINT';
      }
    }
    class Strict extends Loose {
      static override formatName = 'strict';
      static override optionNames = ['limit', 'header.*'];
    }
    const { t, warnings } = session();
    t.dataSource.register(Loose).register(Strict);
    t.readStream.format('loose').option('anything', '1').option('limitt', '2').load();
    expect(warnings).toEqual([]);
    expect(refusal(() => t.readStream.format('strict').option('limt', '2').load())).toBe('unknown option limt for source strict; did you mean limit?');
    t.readStream.format('strict').option('limit', '2').option('header.X', 'y').option('maxRowsPerBatch', '5').option('other', '1').load();
    expect(warnings).toEqual(['unknown option other for source strict is ignored (known options: header.<name>, limit, maxBytesPerBatch, maxRowsPerBatch)']);
  });
});
