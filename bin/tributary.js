#!/usr/bin/env node
// Runs the compiled CLI in dist/. An installed package always has it (`npm pack` builds it through
// the prepack script, and dist/ is all the package ships); a checkout builds it with `npm run
// build`, and without it runs the TypeScript sources through tsx.
//
// Every command but `run` starts from dist/cli-bundle/, the same code in a few files
// (scripts/bundle-cli.mjs says why: Node 20 loads apache-arrow's ~150 module files one by one,
// most of a short command's start). `run` executes the user's job, which imports the library and
// often apache-arrow: the query it builds must meet those same module instances, so `run` starts
// from dist/cli/. A bundle older than dist/cli/bin.js (tsc run again without the bundler) is
// stale, and is not used.
import { existsSync, statSync } from 'node:fs';

const dist = new URL('../dist/cli/bin.js', import.meta.url);
const bundle = new URL('../dist/cli-bundle/bin.js', import.meta.url);
const src = new URL('../src/cli/bin.ts', import.meta.url);

function freshBundle() {
  try {
    return statSync(bundle).mtimeMs >= statSync(dist).mtimeMs;
  } catch {
    return false;
  }
}

if (process.argv[2] !== 'run' && freshBundle()) {
  await import(bundle.href);
} else if (existsSync(dist)) {
  await import(dist.href);
} else if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(src.href);
} else {
  process.stderr.write(`tributary: error [INTERNAL]: this installation has no dist/cli/bin.js; reinstall the package\n`);
  process.exitCode = 70;
}
