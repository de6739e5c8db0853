import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../src/errors.js';
import { loadOptional } from '../src/optional-deps.js';
import { tempDir } from './support/tmp.js';

const tmp = tempDir('tributary-optional-');

// Real imports through Node's resolver: a package name nobody publishes, one that is installed,
// and a module of ours whose own dependency is missing.
describe('loadOptional', () => {
  it('names a package that is not installed, and how to install it, in one TributaryError', async () => {
    const name = '@tributary-test/not-installed';
    const e = await loadOptional(name, 'the test feature', () => import(name)).catch((x: unknown) => x);
    expect(isTributaryError(e, 'DEPENDENCY_MISSING')).toBe(true);
    expect((e as Error).message).toBe('the test feature needs the package @tributary-test/not-installed, which is not installed: run npm install @tributary-test/not-installed');
    expect((e as { details: unknown }).details).toEqual({ package: name });
    expect(((e as Error).cause as NodeJS.ErrnoException).code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('loads a package that is installed', async () => {
    const m = await loadOptional('croner', 'schedules', () => import('croner'));
    expect(typeof m.Cron).toBe('function');
  });

  it('rethrows, unchanged, a failure that is not the package itself missing', async () => {
    // The module is found, but one of its own imports is not: installing the feature's package
    // again would not help, so the original error is what the user should see.
    const file = path.join(tmp(), 'needs-other.mjs');
    writeFileSync(file, "import '@tributary-test/other-missing';\nexport const x = 1;\n");
    const e = await loadOptional('@tributary-test/feature', 'the feature', () => import(pathToFileURL(file).href)).catch((x: unknown) => x);
    expect(isTributaryError(e)).toBe(false);
    expect((e as NodeJS.ErrnoException).code).toBe('ERR_MODULE_NOT_FOUND');
    expect((e as Error).message).toContain("'@tributary-test/other-missing'");
    // A failure of another kind passes through too.
    const boom = new TypeError('boom');
    await expect(loadOptional('croner', 'schedules', () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
