import { type ChildProcess, spawn } from 'node:child_process';
import parsePrometheusTextFormat, { type MetricFamily, type Sample } from 'parse-prometheus-text-format';
import { BIN } from './cli.js';

/** A real `tributary` process that serves metrics (or the dashboard), its output collected as it comes. */
export interface Served {
  proc: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** The server's base URL (from the line the command prints on stderr). */
  url: Promise<string>;
  /** Resolves once stdout has at least `n` lines. */
  lines(n: number): Promise<string[]>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export function serve(args: string[], env: Record<string, string> = {}): Served {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  let err = '';
  let partial = '';
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => (wake(), r(code))));
  proc.stdout!.on('data', (d) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    stdout.push(...parts.filter(Boolean));
    wake();
  });
  proc.stderr!.on('data', (d) => ((err += d), wake()));
  let closed = false;
  void exited.then(() => (closed = true));
  const wait = <T>(f: () => T | undefined, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = f();
        if (v !== undefined) return resolve(v);
        if (closed) return reject(new Error(`tributary ${args.join(' ')} exited before ${what}\n--- stderr\n${err}`));
        waiters.push(check);
      };
      check();
    });
  return {
    proc,
    stdout,
    stderr: () => err,
    url: wait(() => /(?:metrics |dashboard of .* )at (http:\/\/[^\s]+?\/)(?:metrics|\s|$)/.exec(err)?.[1], 'printing its URL'),
    lines: (n) => wait(() => (stdout.length >= n ? [...stdout] : undefined), `${n} lines of output`),
    stop: async () => {
      if (!closed) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** /metrics, parsed by parse-prometheus-text-format (not by a regex of ours). */
export async function scrape(base: string): Promise<Map<string, MetricFamily>> {
  const res = await fetch(new URL('metrics', base));
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(res.headers.get('content-type') ?? '')) throw new Error(`unexpected content type ${res.headers.get('content-type')}`);
  return new Map(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
}

/** The sample of a family whose labels include `labels` (undefined if none). */
export function sample(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): Sample | undefined {
  return families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** A counter's or gauge's value (NaN when the sample is missing, so comparisons fail). */
export function value(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const s = sample(families, name, labels);
  return s?.value === undefined ? NaN : Number(s.value);
}

/** Polls `f` until it returns a value (not undefined): waits on counts, never asserts on time. */
export async function until<T>(f: () => T | undefined | Promise<T | undefined>, what: string, limitMs = 50_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function getJson(base: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(path, base));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
