import type { ConnectionOptions } from 'node:tls';
import type { AcmeStoreTls } from '../config/index.ts';
import { clientTlsOptions } from '../providers/engine-client.ts';
import { StoreError } from './store-error.ts';

/**
 * The TLS options of a store, read when first needed: a CA or key file that is missing or
 * unreadable is then a StoreError of each operation (the resolver retries and reports it), not
 * a crash at start.
 */
export class StoreTls {
  readonly enabled: boolean;
  readonly #cfg: AcmeStoreTls | undefined;
  readonly #description: string;
  #options: ConnectionOptions | undefined;

  constructor(description: string, cfg: AcmeStoreTls | undefined) {
    this.#cfg = cfg;
    this.#description = description;
    this.enabled = cfg !== undefined;
  }

  /** Undefined without TLS. */
  options(): ConnectionOptions | undefined {
    if (this.#cfg === undefined) return undefined;
    try {
      this.#options ??= clientTlsOptions(this.#cfg);
    } catch (e) {
      throw new StoreError(`${this.#description}: TLS files: ${(e as Error).message}`, { cause: e });
    }
    return this.#options;
  }
}
