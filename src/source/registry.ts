import { TributaryError } from '../errors.js';
import type { DataSourceClass } from './source.js';

/** Format name -> DataSource class, one per Tributary session (no process-wide state). */
export class DataSourceRegistry {
  private readonly sources = new Map<string, DataSourceClass>();

  register(cls: DataSourceClass): this {
    const name = cls.formatName;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new TributaryError('INVALID_ARGUMENT', `a DataSource needs a static formatName of letters, digits, "_", "-" or "."; got ${JSON.stringify(name)}`);
    }
    this.sources.set(name.toLowerCase(), cls);
    return this;
  }

  lookup(format: string): DataSourceClass {
    const cls = this.sources.get(format.toLowerCase());
    if (!cls) {
      throw new TributaryError('INVALID_ARGUMENT', `unknown source format "${format}" (registered: ${this.names().join(', ') || 'none'})`, { format });
    }
    return cls;
  }

  names(): string[] {
    return [...this.sources.values()].map((c) => c.formatName).sort();
  }
}
