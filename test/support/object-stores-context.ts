import type { ObjectStoreEndpoints } from '../../scripts/object-stores/servers.js';

// What the object-store global setup hands to the tests (vitest's provide/inject).
declare module 'vitest' {
  export interface ProvidedContext {
    objectStores: ObjectStoreEndpoints;
  }
}

export type { ObjectStoreEndpoints };
