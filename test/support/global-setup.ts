import { execFileSync } from 'node:child_process';

/** CLI tests run bin/tributary.js, which prefers dist/: build it so they test this source. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
