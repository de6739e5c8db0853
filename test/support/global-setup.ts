import { execFileSync } from 'node:child_process';

/** CLI tests run bin/tributary.js, which prefers dist/ (and its bundle): build both so they test this source. */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
