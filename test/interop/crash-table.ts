/**
 * Builds a table through 30+ SIGKILLed runs of a rate stream, for the interop suite to judge
 * with Spark and delta-rs. Prints the number of rows the table must hold (values 0..N-1).
 *   npx tsx test/interop/crash-table.ts <dir>
 */
import * as path from 'node:path';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import { crashLoop, runOnce } from '../support/crash.js';

const dir = path.resolve(process.argv[2]);
const table = path.join(dir, 'table');
const cp = path.join(dir, 'cp');
const args = (trigger: string) => ['run', '--format', 'rate', '--option', 'rowsPerBatch=13', '--checkpoint', cp, '--trigger', trigger, table];
const { kills, byPhase } = await crashLoop(args('processingTime=0'), ['after-offsets-log', 'during-parquet-write', 'after-delta-commit', 'during-delta-checkpoint'], 6, 8);
const final = await runOnce(args('availableNow'), {}, 60_000);
if (final.code !== 0) throw new Error(`final run failed: ${final.stderr}`);
const last = (await (await CheckpointDir.at(cp)).latestOffsets())!;
process.stdout.write(JSON.stringify({ table, rows: Number(last.end.value), kills, byPhase }) + '\n');
