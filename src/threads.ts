import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module at `url`. From TypeScript sources (tsx, the tests) the
 * module loads through tsx's hooks, registered in the thread itself; from dist/ (or the CLI's
 * bundle) it is plain JavaScript.
 */
export function startThread(url: URL, workerData?: unknown): Worker {
  return url.pathname.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData })
    : new Worker(url, { workerData });
}

/**
 * The module at the relative path `name` (without extension) from the module whose
 * import.meta.url is `here`: its .ts when that runs from source, else its .js (from dist/, or
 * from the CLI's bundle, whose entries sit beside its chunks: scripts/bundle-cli.mjs).
 */
export function besideModule(here: string, name: string): URL {
  return new URL(here.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, here);
}
