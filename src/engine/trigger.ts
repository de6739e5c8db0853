import { TributaryError } from '../errors.js';

/** Spark's triggers. processingTime 0 (the default) runs batches back to back. */
export type Trigger = { processingTime: string | number } | { once: true } | { availableNow: true };

export type ResolvedTrigger = { kind: 'processingTime'; intervalMs: number } | { kind: 'once' } | { kind: 'availableNow' };

const UNITS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
};

/** "30 seconds", "30s", "500ms", "1 minute", or a number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new TributaryError('INVALID_ARGUMENT', `invalid duration ${v}`);
    return v;
  }
  const m = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[(m[2] || 'ms').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new TributaryError('INVALID_ARGUMENT', `cannot read duration "${v}" (examples: "30 seconds", "30s", "500ms")`);
  return Math.round(Number(m[1]) * unit);
}

export function resolveTrigger(t: Trigger | undefined): ResolvedTrigger {
  if (!t) return { kind: 'processingTime', intervalMs: 0 };
  if ('processingTime' in t) return { kind: 'processingTime', intervalMs: parseDuration(t.processingTime) };
  if ('once' in t && t.once) return { kind: 'once' };
  if ('availableNow' in t && t.availableNow) return { kind: 'availableNow' };
  throw new TributaryError('INVALID_ARGUMENT', `unknown trigger ${JSON.stringify(t)}`);
}

/** CLI form: "processingTime=30s", "once", "availableNow". */
export function parseTriggerArg(s: string): Trigger {
  if (s === 'once') return { once: true };
  if (s === 'availableNow' || s === 'available-now') return { availableNow: true };
  const m = /^processingTime=(.+)$/i.exec(s);
  if (m) {
    parseDuration(m[1]);
    return { processingTime: m[1] };
  }
  throw new TributaryError('INVALID_ARGUMENT', `unknown trigger "${s}" (use processingTime=30s, once or availableNow)`);
}

/** Spark's ProcessingTimeExecutor: the next tick after a trigger that started at `startMs`. */
export function nextTick(startMs: number, intervalMs: number): number {
  return Math.floor(startMs / intervalMs) * intervalMs + intervalMs;
}
