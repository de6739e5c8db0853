import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/interop/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The object-store servers (moto, fake-gcs-server, Azurite) start once per run, beside the build.
    globalSetup: ['test/support/global-setup.ts', 'test/support/object-stores-setup.ts'],
  },
});
