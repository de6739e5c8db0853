import { TributaryError } from './errors.js';

/**
 * Packages that only some users need (the cloud SDKs behind s3://, gs:// and az:// locations) are
 * optional peer dependencies: `npm install tributary` does not bring them, so a user of local
 * tables downloads none of them, and a user of S3 installs the one SDK they need. The feature
 * that needs one loads it through here, on first use:
 *
 *   const sdk = await loadOptional('@aws-sdk/client-s3', 'S3 storage (s3://)', () => import('@aws-sdk/client-s3'));
 *
 * (the import stays a literal in the caller, so its types and bundlers still see it). When the
 * package is not installed the user gets one line naming it and the command that installs it,
 * instead of Node's ERR_MODULE_NOT_FOUND with a path into node_modules.
 */
export async function loadOptional<T>(pkg: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (!isMissingPackage(e, pkg)) throw e;
    throw new TributaryError('DEPENDENCY_MISSING', `${feature} needs the package ${pkg}, which is not installed: run npm install ${pkg}`, { package: pkg }, { cause: e });
  }
}

/**
 * Node could not find `pkg` itself. A package that is there but fails to load because one of
 * its own dependencies is missing (a broken install) names that other package: it is rethrown
 * as it is, since installing `pkg` again is not necessarily the cure.
 */
export function isMissingPackage(e: unknown, pkg: string): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return false;
  return typeof err.message === 'string' && (err.message.includes(`'${pkg}'`) || err.message.includes(`'${pkg}/`));
}
