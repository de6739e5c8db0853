import type { TestProject } from 'vitest/node';
import { startObjectStores } from '../../scripts/object-stores/servers.js';
import './object-stores-context.js';

/**
 * Global setup: installs (first time only) and starts moto, fake-gcs-server and Azurite once
 * per test run, on free loopback ports, and hands their endpoints to the tests. A server that
 * cannot be installed or started fails the run: the storage tests never skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await startObjectStores();
  project.provide('objectStores', { s3: servers.s3, gcs: servers.gcs, azure: servers.azure });
  return () => servers.stop();
}
