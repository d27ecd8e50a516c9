import { loadModule } from '../core/lazy-module.ts';
import type { ServersTransportConfig } from './dynamic/schema.ts';
import type { TcpServersTransportConfig } from './dynamic/tcp.ts';
import type { TlsOptionsConfig } from './dynamic/tls.ts';
import type { EntryPointConfig } from './static/schema.ts';

/**
 * What the schemas give an empty object, for what the proxy makes up itself (a service naming no
 * serversTransport, an admin entry point that is not declared). The schemas stay the one source of
 * these defaults; the serving process gets them from the configuration process
 * (config-process/), which computes them with `zod` and sends them beside the static
 * configuration, so that it never loads `zod` (docs/performance.md, "Memory at rest"). In a
 * process that validates for itself (`traffic validate`, tests) they are computed on first use.
 */
export interface SchemaDefaults {
  /** `http.serversTransports.<name>` when empty. */
  readonly serversTransport: ServersTransportConfig;
  /** `tcp.serversTransports.<name>` when empty. */
  readonly tcpServersTransport: TcpServersTransportConfig;
  /** `tls.options.<name>` when empty: the `default` set when none is configured. */
  readonly tlsOptions: TlsOptionsConfig;
  /** `entryPoints.<name>` with an empty address. */
  readonly entryPoint: EntryPointConfig;
}

let current: SchemaDefaults | undefined;

/** The defaults computed elsewhere (the configuration process's answer). */
export function installSchemaDefaults(defaults: SchemaDefaults): void {
  current = defaults;
}

export function schemaDefaults(): SchemaDefaults {
  current ??= loadModule<typeof import('./schema-defaults-compute.ts')>(
    import.meta.url,
    './schema-defaults-compute.ts',
  ).computeSchemaDefaults();
  return current;
}

/** An entry point with every default, for the admin entry points that are not declared. */
export function defaultEntryPoint(address: string): EntryPointConfig {
  return { ...structuredClone(schemaDefaults().entryPoint), address };
}
