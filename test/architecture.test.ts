import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering rules of the code base, checked on every run (README, "Layout"): imports point
 * down only, there are no import cycles, and only src/storage/ (plus the CLI's reading of its
 * input files and the loading of the WebAssembly modules) touches the file system.
 */
const SRC = path.resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');
const all = files(SRC).map(rel).sort();

/** Every relative import (static, dynamic, type-only, re-export) of a file, resolved to a src path. */
function imports(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return out;
}
const graph = new Map(all.map((f) => [f, imports(f)]));
const layer = (f: string) => f.split('/')[0];

describe('architecture', () => {
  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[][] = [];
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f]);
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) visit(g, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('points layers one way: lower layers never import higher ones', () => {
    // From the bottom: each layer may import itself and the layers listed before it.
    // json/json-number.ts is a leaf under errors.ts (messages show a number as it was written);
    // the rest of json/ sits above arrow/: the decoder is where NDJSON bytes become Arrow.
    // ops/ (metrics, probes, dashboard) watches the engine's queries and is served by the session.
    const order = ['json/json-number.ts', 'errors.ts', 'version.ts', 'optional-deps.ts', 'units.ts', 'threads.ts', 'schema', 'redact.ts', 'failpoints.ts', 'storage', 'arrow', 'json', 'expr', 'parquet', 'http', 'delta', 'source', 'engine', 'ops', 'builtins.ts', 'session.ts', 'index.ts', 'cli'];
    const rank = (f: string) => {
      const r = order.includes(f) ? order.indexOf(f) : order.indexOf(layer(f));
      if (r < 0) throw new Error(`${f} is in no layer: add it to the order`);
      return r;
    };
    const upward: string[] = [];
    for (const [f, deps] of graph) for (const d of deps) if (rank(d) > rank(f)) upward.push(`${f} -> ${d}`);
    expect(upward).toEqual([]);
  });

  it('keeps the file system behind src/storage/ (and the CLI input, and the WebAssembly loaders)', () => {
    const allowed = new Set(['parquet/wasm.ts', 'parquet/arrow-rs.ts', 'json/ndjson-wasm.ts', 'cli/input.ts', 'cli/schema-arg.ts', 'cli/commands/run.ts', 'cli/commands/append.ts']);
    const offenders = all.filter((f) => !f.startsWith('storage/') && !allowed.has(f) && /from ['"](node:)?fs(\/promises)?['"]/.test(readFileSync(path.join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('keeps Parquet libraries inside src/parquet/ and cloud SDKs inside src/storage/', () => {
    // Code only: a comment may show an import as an example.
    const code = (f: string) => readFileSync(path.join(SRC, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const outside = (prefix: string, pkg: RegExp) => all.filter((f) => !f.startsWith(prefix) && pkg.test(code(f)));
    expect(outside('parquet/', /(from|import\()\s*['"](parquet-wasm|@dsnp\/parquetjs)/)).toEqual([]);
    expect(outside('storage/', /(from|import\()\s*['"](@aws-sdk|@google-cloud|@azure)\//)).toEqual([]);
  });
});
