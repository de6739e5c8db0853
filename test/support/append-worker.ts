// A separate process appending to one table, for the concurrent-writer test.
import { DeltaTable } from '../../src/delta/table.js';

const [tablePath, worker, count] = process.argv.slice(2);
const table = await DeltaTable.open(tablePath);
for (let i = 0; i < Number(count); i++) {
  await table.append([{ id: Number(worker) * 1000 + i, worker: Number(worker) }]);
}
