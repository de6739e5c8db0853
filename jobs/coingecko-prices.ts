/**
 * The job Tributary exists for: CoinGecko prices into a Delta table partitioned by date.
 *   npm run job:coingecko-prices                       (long-running, a batch every 30 s)
 *   npx tributary run jobs/coingecko-prices.ts --trigger availableNow    (from cron)
 * Configuration from the environment:
 *   COINGECKO_COINS (bitcoin,ethereum,solana), COINGECKO_VS (usd,eur), COINGECKO_PLAN (demo|pro|none),
 *   COINGECKO_API_KEY, COINGECKO_BASE_URL (a mirror or the simulator), COINGECKO_CALLS_PER_MINUTE (30),
 *   TRIBUTARY_DATA (./data): table <data>/coingecko_prices, checkpoint <data>/_checkpoints/coingecko_prices;
 *   a directory or an object-store location (s3://bucket/prefix, gs://..., abfss://...), whose
 *   credentials come from the environment (AWS_*, ...) or `tributary run --storage-option k=v`.
 */
import * as path from 'node:path';
import type { Tributary } from '../src/session.js';
import { isLocalLocation } from '../src/storage/uri.js';

/** `<data>/<parts>`: a path below a directory, or a key prefix below an object-store location. */
function under(data: string, ...parts: string[]): string {
  return isLocalLocation(data) ? path.join(path.resolve(data), ...parts) : [data.replace(/\/+$/, ''), ...parts].join('/');
}

export default function coingeckoPrices(t: Tributary) {
  const data = process.env.TRIBUTARY_DATA ?? 'data';
  const env = process.env;
  let reader = t.readStream
    .format('coingecko')
    .option('coins', env.COINGECKO_COINS ?? 'bitcoin,ethereum,solana')
    .option('vsCurrencies', env.COINGECKO_VS ?? 'usd,eur')
    .option('plan', env.COINGECKO_PLAN ?? 'demo')
    .option('callsPerMinute', env.COINGECKO_CALLS_PER_MINUTE ?? '30')
    .option('onError', env.COINGECKO_ON_ERROR ?? 'skip-batch');
  if (env.COINGECKO_BASE_URL) reader = reader.option('baseUrl', env.COINGECKO_BASE_URL);
  return reader
    .load()
    .writeStream.format('delta')
    .option('checkpointLocation', under(data, '_checkpoints', 'coingecko_prices'))
    .option('autoCompact.maxSmallFiles', '200')
    .partitionBy('date')
    .queryName('coingecko-prices')
    .trigger({ processingTime: env.TRIBUTARY_TRIGGER ?? '30 seconds' })
    .start(under(data, 'coingecko_prices'));
}
