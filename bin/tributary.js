#!/usr/bin/env node
// Runs the compiled CLI in dist/. An installed package always has it (`npm pack` builds it through
// the prepack script, and dist/ is all the package ships); a checkout builds it with `npm run
// build`, and without it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/bin.js', import.meta.url);
const src = new URL('../src/cli/bin.ts', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(src.href);
} else {
  process.stderr.write(`tributary: error [INTERNAL]: this installation has no dist/cli/bin.js; reinstall the package\n`);
  process.exitCode = 70;
}
