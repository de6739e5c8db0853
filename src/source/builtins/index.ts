import { consoleSinkFromOptions } from '../../engine/sinks/console-sink.js';
import { memorySinkFactory } from '../../engine/sinks/memory-sink.js';
import type { Tributary } from '../../session.js';
import { RateSource } from './rate.js';
import { CoinGeckoSource } from './coingecko.js';
import { HttpJsonSource } from './http-json.js';

export function registerBuiltins(t: Tributary): void {
  t.dataSource.register(RateSource);
  t.dataSource.register(CoinGeckoSource);
  t.dataSource.register(HttpJsonSource);
  t.registerSink('console', ({ options }) => consoleSinkFromOptions(options));
  t.registerSink('memory', memorySinkFactory);
}
