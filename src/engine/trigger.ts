import { TributaryError } from '../errors.js';
import { parseDuration } from '../units.js';

/** Spark's triggers. processingTime 0 (the default) runs batches back to back. */
export type Trigger = { processingTime: string | number } | { once: true } | { availableNow: true };

export type ResolvedTrigger = { kind: 'processingTime'; intervalMs: number } | { kind: 'once' } | { kind: 'availableNow' };

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
