import { serversTransportSchema } from './dynamic/schema.ts';
import { tcpServersTransportSchema } from './dynamic/tcp.ts';
import { defaultTlsOptions } from './dynamic/tls.ts';
import type { SchemaDefaults } from './schema-defaults.ts';
import { entryPointSchema } from './static/schema.ts';

/** The schemas' defaults (schema-defaults.ts): loads `zod`. */
export function computeSchemaDefaults(): SchemaDefaults {
  return {
    serversTransport: serversTransportSchema.parse({}),
    tcpServersTransport: tcpServersTransportSchema.parse({}),
    tlsOptions: defaultTlsOptions(),
    // Any valid address: schema-defaults.ts puts the one it is asked for in its place.
    entryPoint: entryPointSchema.parse({ address: '127.0.0.1:1' }),
  };
}
