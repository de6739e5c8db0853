import { consoleSinkFromOptions } from './engine/sinks/console-sink.js';
import { memorySinkFactory } from './engine/sinks/memory-sink.js';
import type { SinkFactory } from './engine/streaming-context.js';
import { CoinGeckoSource } from './source/builtins/coingecko.js';
import { HttpJsonSource } from './source/builtins/http-json.js';
import { RateSource } from './source/builtins/rate.js';
import type { DataSourceRegistry } from './source/registry.js';

/**
 * The composition root of the built-ins: every source and sink Tributary ships, registered on a
 * session in one place (the Delta sink is the engine's default and needs no registration).
 */
export function registerBuiltins(session: { dataSource: DataSourceRegistry; registerSink(format: string, factory: SinkFactory): unknown }): void {
  session.dataSource.register(RateSource);
  session.dataSource.register(CoinGeckoSource);
  session.dataSource.register(HttpJsonSource);
  session.registerSink('console', ({ options }) => consoleSinkFromOptions(options));
  session.registerSink('memory', memorySinkFactory);
}
