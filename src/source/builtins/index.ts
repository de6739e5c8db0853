import type { Tributary } from '../../session.js';
import { RateSource } from './rate.js';

export function registerBuiltins(t: Tributary): void {
  t.dataSource.register(RateSource);
}
