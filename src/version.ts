import { createRequire } from 'node:module';

/**
 * The package's version, read from package.json at load time so that the CLI's --version, the
 * commitInfo engineInfo and the HTTP User-Agent never disagree with what npm installed. The path
 * is the same from src/ (tsx) and dist/ (the built package): both sit one level below the root.
 */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
