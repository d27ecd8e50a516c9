/**
 * The environment variables with the configuration prefixes that are not configuration keys,
 * shared by the flags-and-environment reader (overrides.ts) and the CLI's choice of source
 * (cli/static-source.ts), which must not load zod: `…_CONFIGFILE` names the static file
 * (cli/parse-command.ts), `TRAFFIC_EXIT_WITH_PARENT` says whether to stop with the parent
 * (cli/parent-watch.ts).
 */
export const ENV_NOT_KEYS: ReadonlySet<string> = new Set([
  'TRAFFIC_CONFIGFILE',
  'TRAEFIK_CONFIGFILE',
  'TRAFFIC_EXIT_WITH_PARENT',
]);

/** Whether `name` (any case) is a configuration variable of `prefix` (`TRAFFIC_`, `TRAEFIK_`). */
export function isConfigVariable(name: string, prefix: string): boolean {
  const up = name.toUpperCase();
  return up.startsWith(prefix) && !ENV_NOT_KEYS.has(up);
}
