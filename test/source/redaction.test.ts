import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryTerminatedEvent, StreamingQueryProgress } from '../../src/engine/progress.js';
import { base64Cores } from '../../src/redact.js';
import { Tributary } from '../../src/session.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * A hostile server echoes the API key in its answers at every offset around every preview
 * cut-off (80 characters of a body that is not JSON, 200 of an error body), raw and in the
 * encodings servers and URLs give it; the sources send it in a header, and http-json also in the
 * query string and the URL path. Nothing Tributary prints or persists may hold the key, or four
 * leading characters of it, or any six consecutive characters of it, in any encoding.
 */

const tmp = tempDir('tributary-redact-');

/** "/", "+", "=", "%", space, "|", non-ASCII, a quote and a backslash: each encodes differently somewhere. */
const KEY = 'Zq7/p+Q=r%s t|ü"w\\X9';
const ENV = 'TRIB_REDACT_TEST_KEY';
const FILL = '-';

const pathForm = (k: string) => {
  const u = new URL('http://h/');
  u.pathname = `/${k}`;
  return u.pathname.slice(1);
};
const pct = (k: string) => encodeURIComponent(k).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The forms in which our output could show the key. */
const OUTPUT_FORMS: Record<string, string> = {
  raw: KEY,
  encodeURIComponent: encodeURIComponent(KEY),
  encodeURI: encodeURI(KEY),
  percentAll: pct(KEY),
  lowerHex: pct(KEY).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  form: new URLSearchParams({ q: KEY }).toString().slice(2),
  urlPath: pathForm(KEY),
  json: JSON.stringify(KEY).slice(1, -1),
  jsonTwice: JSON.stringify(JSON.stringify(KEY).slice(1, -1)).slice(1, -1),
  html: KEY.replace(/&/g, '&amp;').replace(/"/g, '&quot;'),
};

/** Every piece of the key that must not appear: 4 leading characters and any 6 consecutive ones of each form, 6 of each base64 core. */
const FRAGMENTS: string[] = (() => {
  const out = new Set<string>();
  for (const f of Object.values(OUTPUT_FORMS)) {
    out.add(f.slice(0, 4));
    for (let i = 0; i + 6 <= f.length; i++) out.add(f.slice(i, i + 6));
  }
  for (const core of base64Cores(KEY)) for (let i = 0; i + 6 <= core.length; i++) out.add(core.slice(i, i + 6));
  return [...out];
})();

function leaks(text: string): string[] {
  return FRAGMENTS.filter((f) => text.includes(f));
}

function leaksInFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const bytes = readFileSync(p);
        for (const f of FRAGMENTS) if (bytes.includes(Buffer.from(f, 'utf8'))) found.push(`${path.relative(dir, p)}: ${f}`);
      }
    }
  };
  walk(dir);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The hostile server: answers a script, then a fallback

interface Reply {
  status: number;
  type: string;
  body: string;
  /** What the message should quote of the body: the preview with the key redacted (when exact). */
  expectPreview?: string;
}

interface Hostile {
  base: string;
  done: Promise<void>;
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function hostile(script: Reply[], fallback: (n: number) => Reply): Promise<Hostile> {
  let served = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const server = createServer((req, res) => {
    req.resume();
    const reply = served < script.length ? script[served]! : fallback(served);
    served++;
    if (served === script.length) finish();
    res.writeHead(reply.status, { 'content-type': reply.type });
    res.end(reply.body);
  });
  server.keepAliveTimeout = 100;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, done };
}

/** Forms of the key a server may echo (what it received, decoded or not; a Basic credential). */
const ECHOED: Record<string, string> = {
  raw: KEY,
  encodeURIComponent: encodeURIComponent(KEY),
  lowerHex: OUTPUT_FORMS.lowerHex,
  form: OUTPUT_FORMS.form,
  urlPath: OUTPUT_FORMS.urlPath,
  html: OUTPUT_FORMS.html,
  base64: Buffer.from(KEY).toString('base64'),
  basicCredential: Buffer.from(`user:${KEY}`).toString('base64url'),
};

/** Raw and percent-encoded: the forms swept at every offset; the others at every fourth. */
const DENSE = new Set(['raw', 'encodeURIComponent', 'lowerHex', 'json']);

/**
 * Error answers with the key at every offset around both cut-offs (from wholly before to wholly
 * after): 200 with a body that is not JSON (80 characters shown), 400 with a text or HTML error
 * body, 400 with a JSON error body whose string holds the key JSON-escaped (200 shown). Every
 * offset of every form is also swept, without HTTP, in test/redact.test.ts.
 */
function sweep(forms: Record<string, string>): Reply[] {
  const out: Reply[] = [];
  const around = (cut: number, len: number, name: string) => Array.from({ length: len + 3 }, (_, i) => cut - len - 1 + i).filter((_, i) => DENSE.has(name) || i % 4 === 0);
  for (const [name, form] of Object.entries(forms)) {
    for (const cut of [80, 200] as const) for (const at of around(cut, form.length, name)) out.push(echo(name, form, cut, at));
  }
  for (const at of around(200, OUTPUT_FORMS.json.length, 'json')) out.push(echoJson(at));
  return out;
}

/** `form` at offset `at` of a body previewed at `cut` (80: a 200 that is not JSON; 200: a 400). */
function echo(name: string, form: string, cut: 80 | 200, at: number): Reply {
  const body = FILL.repeat(at) + form + FILL.repeat(250);
  // The message quotes exactly this (not for base64, whose last characters depend on what follows).
  const expectPreview = name.startsWith('base64') || name === 'basicCredential' ? undefined : (FILL.repeat(at) + (at < cut ? '***' : '') + FILL.repeat(250)).slice(0, cut);
  return cut === 80 ? { status: 200, type: 'application/json', body, expectPreview } : { status: 400, type: name === 'html' ? 'text/html' : 'text/plain', body, expectPreview };
}

/** A JSON error body whose string holds the key (JSON-escaped) at offset `at` of the text. */
function echoJson(at: number): Reply {
  const head = '{"error":"';
  const body = `${head}${FILL.repeat(at - head.length)}${OUTPUT_FORMS.json}${FILL.repeat(250)}"}`;
  return { status: 400, type: 'application/json', body, expectPreview: (head + FILL.repeat(at - head.length) + (at < 200 ? '***' : '') + FILL.repeat(250)).slice(0, 200) };
}

/** The key across the cut-off, about half of it before. */
const straddling = (name: string, cut: 80 | 200) => echo(name, OUTPUT_FORMS[name], cut, cut - (OUTPUT_FORMS[name].length >> 1));

let priceTime = 1_700_000_000;
const price = (): Reply => ({ status: 200, type: 'application/json', body: JSON.stringify({ bitcoin: { usd: 1, usd_market_cap: 2, usd_24h_vol: 3, usd_24h_change: 4, last_updated_at: priceTime++ } }) });
const items = (): Reply => ({ status: 200, type: 'application/json', body: JSON.stringify({ data: [{ id: 1, name: 'ok' }] }) });

const coingeckoOptions = (h: Hostile, extra: Record<string, string> = {}) => ({ baseUrl: `${h.base}/api/v3`, coins: 'bitcoin', apiKeyEnv: ENV, callsPerMinute: '6000000', maxRetries: '0', ...extra });
const httpJsonOptions = (h: Hostile, extra: Record<string, string> = {}) => ({
  url: `${h.base}/v1/\${env:${ENV}}/items?api_key=\${env:${ENV}}`,
  'header.X-Api-Key': `\${env:${ENV}}`,
  schema: 'id BIGINT, name STRING',
  recordsPath: '/data',
  callsPerMinute: '0',
  maxRetries: '0',
  ...extra,
});

// ---------------------------------------------------------------------------------------------
// Through the library

interface Seen {
  warnings: string[];
  progress: StreamingQueryProgress[];
  terminated: QueryTerminatedEvent[];
  error: Error | null;
}

async function runLibrary(format: 'coingecko' | 'http-json', options: Record<string, string>, dir: string, until?: Promise<void>): Promise<Seen> {
  const t = new Tributary();
  const seen: Seen = { warnings: [], progress: [], terminated: [], error: null };
  t.onWarning = (m) => seen.warnings.push(m);
  t.streams.addListener({ onQueryProgress: (e) => seen.progress.push(e.progress), onQueryTerminated: (e) => seen.terminated.push(e) });
  const q = t.readStream
    .format(format)
    .options(options)
    .load()
    .writeStream.option('checkpointLocation', path.join(dir, 'cp'))
    .trigger(until ? { processingTime: 0 } : { availableNow: true })
    .start(path.join(dir, 'table'));
  if (until) {
    await until;
    await q.stop();
  }
  try {
    await q.awaitTermination();
  } catch (e) {
    seen.error = e as Error;
  }
  return seen;
}

/** Every scripted failure was reported once, in order, with exactly the redacted preview. */
function expectSweepReported(warnings: string[], script: Reply[]) {
  const failures = script.filter((r) => r.status !== 200 || !r.body.startsWith('{'));
  const reported = warnings.filter((w) => /skip-batch/.test(w));
  expect(reported).toHaveLength(failures.length);
  failures.forEach((r, i) => {
    if (r.expectPreview !== undefined) expect(reported[i]).toContain(JSON.stringify(r.expectPreview));
  });
}

beforeAll(() => {
  process.env[ENV] = KEY;
});
afterAll(() => {
  delete process.env[ENV];
});

describe('a server echoing the API key: library', () => {
  it('coingecko: no warning, progress, error or termination event shows the key; nothing persisted holds it', async () => {
    const dir = tmp();
    const script = [price(), ...sweep(ECHOED)];
    const h = await hostile(script, price);
    const s = await runLibrary('coingecko', coingeckoOptions(h, { onError: 'skip-batch' }), dir, h.done);
    expect(s.error).toBeNull();
    expectSweepReported(s.warnings, script);
    expect(s.progress.length).toBeGreaterThanOrEqual(1);

    // null-rows: the failure is a warning inside the progress of a batch of null rows.
    const nulls = sweep({ raw: KEY, encodeURIComponent: encodeURIComponent(KEY) }).filter((_, i) => i % 7 === 0);
    const h2 = await hostile(nulls, price);
    const s2 = await runLibrary('coingecko', coingeckoOptions(h2, { onError: 'null-rows' }), dir, h2.done);
    const progressWarnings = s2.progress.flatMap((p) => p.warnings ?? []);
    expect(progressWarnings.filter((w) => /^null-rows: /.test(w)).length).toBe(nulls.length);
    expect(progressWarnings.some((w) => w.includes('***'))).toBe(true);

    // fail: the query's error and its termination event.
    const across = straddling('raw', 200);
    const h3 = await hostile([across], price);
    const s3 = await runLibrary('coingecko', coingeckoOptions(h3, { onError: 'fail' }), dir);
    expect(s3.error?.message).toContain(JSON.stringify(across.expectPreview));
    expect(s3.terminated[0].exception).toBe(s3.error?.message);

    const printed = JSON.stringify([s, s2, s3, String(s3.error?.stack)]);
    expect(leaks(printed)).toEqual([]);
    expect(leaksInFiles(dir)).toEqual([]);
  });

  it('http-json with the key in a header, the query string and the URL path: nothing shows it', async () => {
    const dir = tmp();
    const missing: Reply = { status: 200, type: 'application/json', body: '{"other":[]}' };
    const script = [items(), missing, ...sweep(ECHOED)];
    const h = await hostile(script, items);
    const s = await runLibrary('http-json', httpJsonOptions(h, { onError: 'skip-batch' }), dir, h.done);
    expect(s.error).toBeNull();
    expectSweepReported(s.warnings, script);
    // The path form `new URL` gives the key is redacted where the request is named.
    expect(s.warnings.find((w) => /recordsPath .* found nothing/.test(w))).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/v1\/\*\*\*\/items \(page 1 of this poll\)/);
    expect(s.warnings.filter((w) => /skip-batch/.test(w)).every((w) => /\/v1\/\*\*\*\/items answered/.test(w))).toBe(true);
    expect(s.progress[0].sources[0].description).toBe(`HttpJson[${h.base}/v1/\${env:${ENV}}/items?api_key=\${env:${ENV}}]`);

    const across = straddling('urlPath', 80);
    const h2 = await hostile([across], items);
    const s2 = await runLibrary('http-json', httpJsonOptions(h2, { onError: 'fail' }), dir);
    expect(s2.error?.message).toMatch(/not valid JSON/);
    expect(s2.error?.message).toContain(JSON.stringify(across.expectPreview));

    expect(leaks(JSON.stringify([s, s2, String(s2.error?.stack)]))).toEqual([]);
    expect(leaksInFiles(dir)).toEqual([]);
  });

  it('a record holding the key that fails its column type: the value shown, cut at 80 characters, shows none of it', async () => {
    const json = OUTPUT_FORMS.json;
    // showValue cuts the JSON text of a value after 77 characters: put the key across that point.
    for (let at = 77 - json.length + 4; at <= 77 - 4; at += 3) {
      const value = FILL.repeat(at - 1) + KEY + FILL.repeat(100);
      const h = await hostile([{ status: 200, type: 'application/json', body: JSON.stringify({ data: [{ id: value, name: 'x' }] }) }], items);
      const s = await runLibrary('http-json', httpJsonOptions(h, { onError: 'fail' }), tmp());
      expect(s.error?.message).toMatch(/^row 0, column "id": value "-+\*\*\*\.\.\./);
      expect(leaks(JSON.stringify([s, s.error?.message, (s.error as { details?: unknown })?.details]))).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Through the real CLI

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `tributary run` that polls until the server has served its script, then gets SIGTERM. */
async function cliUntilDone(args: string[], h: Hostile): Promise<Proc> {
  const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, [ENV]: KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => p.on('close', r));
  await h.done;
  p.kill('SIGTERM');
  return { code: await closed, stdout, stderr };
}

const optionArgs = (o: Record<string, string>) => Object.entries(o).flatMap(([k, v]) => ['--option', `${k}=${v}`]);

describe('a server echoing the API key: tributary run', () => {
  const cliSweep = () => sweep({ raw: KEY, encodeURIComponent: encodeURIComponent(KEY) });

  it('coingecko --json: stderr warnings, progress lines and the error line hold no part of the key; nor do the files', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const cp = path.join(dir, 'cp');
    const script = [price(), ...cliSweep()];
    const h = await hostile(script, price);
    const run = await cliUntilDone(['run', '--format', 'coingecko', ...optionArgs(coingeckoOptions(h, { onError: 'skip-batch' })), '--checkpoint', cp, '--trigger', 'processingTime=0', '--json', table], h);
    expect(run.code).toBe(0);
    expectSweepReported(run.stderr.split('\n').filter((l) => l.startsWith('tributary: warning: ')), script);
    const progress = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as StreamingQueryProgress);
    expect(progress.length).toBeGreaterThanOrEqual(1);

    const nulls = cliSweep().filter((_, i) => i % 11 === 0);
    const h2 = await hostile(nulls, price);
    const run2 = await cliUntilDone(['run', '--format', 'coingecko', ...optionArgs(coingeckoOptions(h2, { onError: 'null-rows' })), '--checkpoint', cp, '--trigger', 'processingTime=0', '--json', table], h2);
    expect(run2.code).toBe(0);
    const warned = run2.stdout.trim().split('\n').flatMap((l) => (JSON.parse(l) as StreamingQueryProgress).warnings ?? []);
    expect(warned.filter((w) => w.startsWith('null-rows: ')).length).toBe(nulls.length);

    const across = straddling('encodeURIComponent', 200);
    const h3 = await hostile([across], price);
    const fail = await cli(['run', '--format', 'coingecko', ...optionArgs(coingeckoOptions(h3, { onError: 'fail' })), '--checkpoint', cp, '--trigger', 'availableNow', '--json', table], { env: { [ENV]: KEY } });
    expect(fail.code).toBe(1);
    const lines = fail.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tributary: error \[SOURCE_ERROR\]: GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/simple\/price answered HTTP 400/);
    expect(lines[0]).toContain(JSON.stringify(across.expectPreview));

    expect(leaks(run.stdout + run.stderr + run2.stdout + run2.stderr + fail.stdout + fail.stderr)).toEqual([]);
    expect(leaksInFiles(dir)).toEqual([]);
  });

  it('http-json --json with the key in a header, the query and the path: the same', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const cp = path.join(dir, 'cp');
    const script = [items(), ...cliSweep()];
    const h = await hostile(script, items);
    const { schema, ...o } = httpJsonOptions(h, { onError: 'skip-batch' });
    const run = await cliUntilDone(['run', '--format', 'http-json', ...optionArgs(o), '--schema', schema, '--checkpoint', cp, '--trigger', 'processingTime=0', '--json', table], h);
    expect(run.code).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('tributary: warning: '));
    expectSweepReported(warnings, script);
    expect(warnings.every((w) => /\/v1\/\*\*\*\/items answered/.test(w))).toBe(true);

    const across = straddling('raw', 80);
    const h2 = await hostile([across], items);
    const { schema: s2, ...o2 } = httpJsonOptions(h2, { onError: 'fail' });
    const fail = await cli(['run', '--format', 'http-json', ...optionArgs(o2), '--schema', s2, '--checkpoint', cp, '--trigger', 'availableNow', '--json', table], { env: { [ENV]: KEY } });
    expect(fail.code).toBe(1);
    const lines = fail.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tributary: error \[SOURCE_ERROR\]: GET http:\/\/127\.0\.0\.1:\d+\/v1\/\*\*\*\/items answered 200 with a body that is not valid JSON/);
    expect(lines[0]).toContain(JSON.stringify(across.expectPreview));

    expect(leaks(run.stdout + run.stderr + fail.stdout + fail.stderr)).toEqual([]);
    expect(leaksInFiles(dir)).toEqual([]);
  });
});
