import { isPlainObject } from '../schema-helpers.ts';
import { INTERNAL_ENTRY_POINT } from './admin-entry-points.ts';
import { configPath } from './load.ts';
import { type FileProviderConfig, fileProviderSchema } from './schema.ts';

/** What `traffic validate` still uses of a static configuration that has errors. */
export interface SalvagedStatic {
  /** `providers.file`, when it is valid on its own (paths resolved as the proxy resolves them). */
  readonly file?: FileProviderConfig;
  /** The entry point names (the admin one included), when `entryPoints` is a map. */
  readonly entryPoints?: readonly string[];
  /** The internal services the API, ping and metrics sections enable. */
  readonly internalServices?: ReadonlySet<string>;
  /** The certificate resolver names, when `certificatesResolvers` is a map or absent. */
  readonly certResolvers?: readonly string[];
}

/**
 * Reads the file provider, the entry point names and the internal services from the static data
 * (keys already canonical) on their own, so that the dynamic files are checked too when another
 * part of the static file has errors: one run of `traffic validate` reports every problem.
 */
export function salvageStatic(
  data: Readonly<Record<string, unknown>> | undefined,
  // Kept for callers: relative paths no longer depend on the static file (see configPath).
  _file: string | undefined,
): SalvagedStatic {
  if (data === undefined) return {};
  const internalServices = new Set<string>();
  const adminEntryPoints: string[] = [];
  // What internalRouting (admin-entry-points.ts) reads from a valid configuration.
  const section = (key: string, service: string, nested?: string): void => {
    const v = data[key];
    const s = nested === undefined ? v : isPlainObject(v) ? v[nested] : undefined;
    if (s === undefined || s === null || s === false) return;
    internalServices.add(service);
    const ep =
      isPlainObject(s) && typeof s['entryPoint'] === 'string' ? s['entryPoint'] : INTERNAL_ENTRY_POINT;
    adminEntryPoints.push(ep);
    if (service === 'api' && !(isPlainObject(s) && s['dashboard'] === false))
      internalServices.add('dashboard');
  };
  section('api', 'api');
  section('ping', 'ping');
  section('metrics', 'prometheus', 'prometheus');
  const eps = data['entryPoints'];
  const resolvers = data['certificatesResolvers'] ?? {};
  const out = {
    internalServices,
    ...(isPlainObject(eps) ? { entryPoints: [...new Set([...Object.keys(eps), ...adminEntryPoints])] } : {}),
    ...(isPlainObject(resolvers) ? { certResolvers: Object.keys(resolvers) } : {}),
  };
  const providers = data['providers'];
  if (!isPlainObject(providers) || providers['file'] === undefined) return out;
  const r = fileProviderSchema.safeParse(providers['file'] ?? {});
  // Neither filename nor directory: Traefik's file provider does not start (load.ts warns).
  if (!r.success || (!r.data.filename && !r.data.directory)) return out;
  const fp: FileProviderConfig = {
    watch: r.data.watch,
    debugLogGeneratedTemplate: r.data.debugLogGeneratedTemplate,
  };
  // `directory` wins over `filename`, as Traefik's file provider (buildConfiguration).
  if (r.data.filename && !r.data.directory) fp.filename = configPath(r.data.filename);
  if (r.data.directory) fp.directory = configPath(r.data.directory);
  return { file: fp, ...out };
}
