import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

/**
 * Kills real `tributary run` processes with SIGKILL, either at a named failpoint (the process
 * kills itself on reaching it: TRIBUTARY_FAILPOINTS) or after a random delay.
 */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI; kills it with SIGKILL after `killAfterMs` unless a failpoint kills it first. */
export function runOnce(args: string[], env: Record<string, string>, killAfterMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stderr });
    });
  });
}

/** The crash schedule: every phase several times, plus kills at random moments. */
export function schedule(phases: string[], perPhase: number, random: number, seed: number, randomKillMs: [number, number] = [300, 1200]): { failpoint?: string; killAfterMs: number }[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const plan: { failpoint?: string; killAfterMs: number }[] = [];
  for (let i = 0; i < perPhase; i++) for (const f of phases) plan.push({ failpoint: f, killAfterMs: 60_000 });
  for (let i = 0; i < random; i++) plan.push({ killAfterMs: randomKillMs[0] + Math.floor(rnd() * (randomKillMs[1] - randomKillMs[0])) });
  // Interleave phases and random kills.
  return plan.map((p) => ({ p, k: rnd() })).sort((a, b) => a.k - b.k).map((x) => x.p);
}

/**
 * `randomKillMs`: the window random kills fall in. A run on an object store takes longer to
 * reach its first batch (the SDK loads, the store is probed): its window starts later.
 */
export async function crashLoop(args: string[], phases: string[], perPhase: number, random: number, opts: { randomKillMs?: [number, number] } = {}): Promise<{ kills: number; byPhase: Record<string, number> }> {
  let kills = 0;
  const byPhase: Record<string, number> = {};
  for (const step of schedule(phases, perPhase, random, 7, opts.randomKillMs)) {
    const env: Record<string, string> = step.failpoint ? { TRIBUTARY_FAILPOINTS: step.failpoint } : {};
    const out = await runOnce(args, env, step.killAfterMs);
    if (/error|unexpected/i.test(out.stderr)) throw new Error(`the query failed instead of being killed:\n${out.stderr}`);
    if (out.signal === 'SIGKILL') {
      kills++;
      const m = /failpoint ([a-z-]+)/.exec(out.stderr);
      const phase = m ? m[1] : 'random';
      byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    }
  }
  return { kills, byPhase };
}

