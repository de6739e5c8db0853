import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { Tributary } from '../../src/session.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-autocompact-');

describe('auto-compaction', () => {
  it('keeps a 500-batch stream under the small-file bound with the exact rows', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = (m) => {
      throw new Error(m);
    };
    const q = t.readStream.format('rate').option('rowsPerBatch', 20).option('maxRowsPerBatch', 20).load()
      .writeStream.format('delta').option('checkpointLocation', `${dir}/cp`).option('autoCompact.maxSmallFiles', 40)
      .trigger({ processingTime: 0 }).start(`${dir}/t`);
    while ((q.lastProgress?.batchId ?? -1) < 499) {
      if (!q.isActive) throw q.exception();
      await new Promise((r) => setTimeout(r, 50));
    }
    await q.stop();
    const table = await DeltaTable.open(`${dir}/t`);
    const batches = q.lastProgress!.batchId + 1;
    expect(batches).toBeGreaterThanOrEqual(500);
    expect(table.snapshot.files.length).toBeLessThanOrEqual(41);
    const values = arrowToRows(await table.read()).map((r) => Number(r.value)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: batches * 20 }, (_, i) => i));
    const ops = (await table.history()).map((h) => h.operation);
    expect(ops.filter((o) => o === 'OPTIMIZE').length).toBeGreaterThanOrEqual(10);
    expect((await table.history()).find((h) => h.operation === 'OPTIMIZE')!.operationParameters!.auto).toBe('true');
  }, 180_000);
});
