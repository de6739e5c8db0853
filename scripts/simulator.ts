/**
 * CoinGecko-compatible HTTP simulator, for demos and tests run from another process.
 *
 *   npx tsx scripts/simulator.ts [--host 127.0.0.1] [--port 0] [--seed 42] [--plan demo|pro|any]
 *       [--require-key] [--update-every 10] [--rate-limit PER_MINUTE]
 *       [--fault SPEC]... [--faults-json JSON] [--quiet]
 *
 * Prints the base URL (http://127.0.0.1:PORT/api/v3) as the first line of stdout, then serves
 * until SIGINT/SIGTERM. One log line per request goes to stderr unless --quiet.
 *
 * Fault SPECs (repeatable; see parseFaultSpec in simulator/coingecko.ts):
 *   rate429:COUNT[:SECONDS|date+SECONDS]   5xx:COUNT[:500|502|503|504]   slow:COUNT:DELAY_MS
 *   truncate:COUNT   malformed:COUNT   html:COUNT[:STATUS]   missing:ID[,ID...]
 *   type:FIELD:COUNT[:string|null]   ratelimit:PER_MINUTE
 *
 * Steer it at runtime with the admin endpoints, e.g.
 *   curl -X POST BASE/../../__admin/faults -d '{"rate429":{"count":2,"retryAfter":5}}'
 * (POST/GET/DELETE /__admin/faults, GET /__admin/requests, GET /__admin/stats,
 *  POST /__admin/reset, GET|POST /__admin/clock {"advanceMs":N} | {"setMs":N}).
 */
import { parseArgs } from 'node:util';
import { type FaultConfig, type Plan, parseFaultSpec, startSimulator, validateFaults } from '../simulator/coingecko.js';

function fail(msg: string): never {
  process.stderr.write(`simulator: ${msg}\n`);
  process.exit(2);
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      plan: { type: 'string', default: 'demo' },
      'require-key': { type: 'boolean', default: false },
      'update-every': { type: 'string', default: '10' },
      'rate-limit': { type: 'string' },
      fault: { type: 'string', multiple: true, default: [] },
      'faults-json': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}
try {
  ({ values } = parse());
} catch (e) {
  fail((e as Error).message);
}

if (values.help) {
  process.stdout.write(
    'usage: tsx scripts/simulator.ts [--host H] [--port P] [--seed S] [--plan demo|pro|any] [--require-key]\n' +
      '       [--update-every SEC] [--rate-limit PER_MIN] [--fault SPEC]... [--faults-json JSON] [--quiet]\n',
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${values.port}`);
const updateEverySec = Number(values['update-every']);
if (!(updateEverySec > 0)) fail(`bad --update-every ${values['update-every']}`);
const plan = values.plan as Plan;
if (!['demo', 'pro', 'any'].includes(plan)) fail(`bad --plan ${values.plan}`);

let faults: FaultConfig = {};
try {
  if (values['faults-json']) faults = { ...faults, ...validateFaults(JSON.parse(values['faults-json'])) };
  for (const spec of values.fault ?? []) faults = { ...faults, ...parseFaultSpec(spec) };
  if (values['rate-limit'] !== undefined) faults = { ...faults, ...validateFaults({ rateLimitPerMinute: Number(values['rate-limit']) }) };
} catch (e) {
  fail((e as Error).message);
}

const seedNum = Number(values.seed);
const sim = await startSimulator({
  host: values.host,
  port,
  seed: Number.isFinite(seedNum) ? seedNum : values.seed,
  plan,
  requireKey: values['require-key'] ? true : undefined,
  updateEverySec,
  faults,
  log: values.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
});

process.stdout.write(`${sim.baseUrl}\n`);
if (!values.quiet) {
  process.stderr.write(`coingecko simulator (plan=${plan}, updateEverySec=${updateEverySec}) at ${sim.baseUrl}; admin at ${sim.url}/__admin/faults\n`);
  if (Object.keys(faults).length > 0) process.stderr.write(`faults: ${JSON.stringify(faults)}\n`);
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
