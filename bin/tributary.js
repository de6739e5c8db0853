#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the prepare script, or `npm run
// build`). In a checkout without dist/, falls back to the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/bin.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/bin.ts', import.meta.url).href);
}
