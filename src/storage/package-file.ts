import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { TributaryError } from '../errors.js';

/**
 * A file of an installed npm package (`uplot/dist/uPlot.iife.min.js`), found the way Node finds
 * the package from this module: in a checkout and in an installed tarball alike, with no copy
 * kept in dist/ and no CDN. The dashboard serves uPlot's files this way.
 */
export async function readPackageFile(specifier: string): Promise<Uint8Array> {
  let file: string;
  try {
    file = createRequire(import.meta.url).resolve(specifier);
  } catch (e) {
    throw new TributaryError('DEPENDENCY_MISSING', `cannot find ${specifier}: is its package installed? (${(e as Error).message.split('\n')[0]})`, { specifier }, { cause: e });
  }
  return readFile(file);
}
