/**
 * Which source the static configuration is read from, as Traefik picks it: its loaders run in
 * order and the first that applies is the only one read (cmd/traefik/traefik.go `loaders`,
 * paerser cli `run`: `if done { break }`): FileLoader (pkg/cli/loader_file.go: a file named by
 * `--configFile` or found where it looks), else FlagLoader (pkg/cli/loader_flag.go: any
 * argument), else EnvLoader (pkg/cli/loader_env.go: the `TRAEFIK_` variables). Flags given with a
 * file, and `TRAEFIK_` variables given with a file or flags, are ignored there without a word;
 * here each ignored source is a warning naming what it held (names only: values may be secrets).
 * Our own `TRAFFIC_` variables are no Traefik source: they apply over whichever source this
 * picks (a Traefik deployment has none of them).
 */
import { type ConfigIssue, issue, loggedAsError } from '../config/issues.ts';
import { isConfigVariable } from '../config/static/env-names.ts';

export type StaticSourceKind = 'file' | 'flags' | 'env' | 'none';

export interface StaticSource {
  readonly kind: StaticSourceKind;
  /** The file to read (kind `file`). */
  readonly file: string | undefined;
  /** The flags to read: none unless kind is `flags`. */
  readonly argv: readonly string[];
  /** The environment given to the loader: without the `TRAEFIK_` keys unless kind is `env`. */
  readonly env: NodeJS.ProcessEnv;
  /** Traefik's line for the source used (its loaders' texts), logged at INFO; none for `none`. */
  readonly loaded: string | undefined;
  /** One warning per source given and not read. */
  readonly ignored: readonly ConfigIssue[];
}

/** The variables of `prefix` that are configuration keys (overrides.ts reads them). */
function variables(env: NodeJS.ProcessEnv, prefix: string): string[] {
  return Object.keys(env)
    .filter((k) => isConfigVariable(k, prefix) && env[k] !== undefined)
    .sort();
}

/** `--log.level`, `--entryPoints.web.address`: the flags' names, without their values. */
function flagNames(argv: readonly string[]): string[] {
  const names = argv.filter((a) => a.startsWith('--')).map((a) => a.split('=', 1)[0]!);
  return [...new Set(names)];
}

const RULE =
  'Traefik reads its static configuration from one source (a file, else flags, else TRAEFIK_ variables); TRAFFIC_ variables apply over any source';

export function chooseStaticSource(
  file: string | undefined,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): StaticSource {
  const vars = variables(env, 'TRAEFIK_');
  const ours = variables(env, 'TRAFFIC_').length > 0;
  const kind: StaticSourceKind =
    file !== undefined ? 'file' : argv.length > 0 ? 'flags' : vars.length > 0 || ours ? 'env' : 'none';
  // Logged at ERROR, so that the default level shows them: the flag that would lower the level
  // (`--log.level=DEBUG`) may be among those ignored. Traefik says nothing.
  const ignored: ConfigIssue[] = [];
  const warn = (message: string): void => {
    ignored.push(loggedAsError(issue('warning', message, [])));
  };
  const used = kind === 'file' ? `the file ${file}` : 'the flags';
  if (kind === 'file' && argv.length > 0) {
    const names = flagNames(argv);
    warn(
      `the command-line flags are ignored (${names.length > 0 ? names.join(', ') : argv.join(' ')}): the static configuration is read from ${used} alone, as in Traefik. ${RULE}`,
    );
  }
  if ((kind === 'file' || kind === 'flags') && vars.length > 0) {
    warn(
      `the TRAEFIK_ variables are ignored (${vars.join(', ')}): the static configuration is read from ${used} alone, as in Traefik. ${RULE}`,
    );
  }
  let loaderEnv = env;
  if (kind !== 'env' && vars.length > 0) {
    const drop = new Set(vars);
    loaderEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !drop.has(k)));
  }
  const loaded =
    kind === 'file'
      ? `Configuration loaded from file: ${file}`
      : kind === 'flags'
        ? 'Configuration loaded from flags'
        : kind === 'env'
          ? 'Configuration loaded from environment variables.'
          : undefined;
  return { kind, file, argv: kind === 'flags' ? argv : [], env: loaderEnv, loaded, ignored };
}
