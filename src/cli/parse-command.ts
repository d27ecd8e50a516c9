import { readFileSync } from 'node:fs';
import { helpText } from './help.ts';

export type Command =
  | {
      readonly kind: 'run' | 'validate' | 'healthcheck';
      readonly configFile: string | undefined;
      /** Configuration flags (`--log.level=DEBUG`), for loadStaticConfig's `argv`. */
      readonly overrides: string[];
    }
  | {
      readonly kind: 'explain';
      readonly configFile: string | undefined;
      readonly overrides: string[];
      /** `GET https://host/path` */
      readonly request: string;
      /** `Name: value` from each `-H`. */
      readonly headers: string[];
      /** `--entrypoint NAME`: the entry point the request arrives on. */
      readonly entryPoint?: string;
    }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly version: string }
  | { readonly kind: 'error'; readonly message: string };

const SUBCOMMANDS = ['run', 'validate', 'explain', 'healthcheck', 'help', 'version'] as const;

/**
 * `traffic [run|validate] [--config FILE] [--<key>=<value> …]`, `--help`, `--version`.
 * `run` is the default. `--configFile` and `--configfile` (Traefik's names) and `-c` are aliases of
 * `--config`;
 * without any, `TRAFFIC_CONFIGFILE` names the file.
 */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  let kind: 'run' | 'validate' | 'explain' | 'healthcheck' = 'run';
  let i = 0;
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-')) {
    const sub = SUBCOMMANDS.find((s) => s === first);
    if (sub === undefined) {
      return {
        kind: 'error',
        message: `unknown command "${first}" (expected one of run, validate, explain, healthcheck; see --help)`,
      };
    }
    if (sub === 'help') return { kind: 'help', text: helpText() };
    if (sub === 'version') return { kind: 'version', version: packageVersion() };
    kind = sub;
    i = 1;
  }
  let configFile: string | undefined;
  const overrides: string[] = [];
  const headers: string[] = [];
  let request: string | undefined;
  let entryPoint: string | undefined;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (kind === 'explain') {
      const eq = arg.indexOf('=');
      const flag = (eq === -1 ? arg : arg.slice(0, eq)).toLowerCase();
      if (flag === '--entrypoint') {
        const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined || value === '' || value.startsWith('-'))
          return { kind: 'error', message: '--entrypoint needs an entry point name' };
        if (entryPoint !== undefined) return { kind: 'error', message: '--entrypoint is given twice' };
        entryPoint = value;
        continue;
      }
      if (arg === '-H' || arg === '--header') {
        const h = argv[++i];
        if (h === undefined || !h.includes(':'))
          return { kind: 'error', message: `${arg} needs "Name: value"` };
        headers.push(h);
        continue;
      }
      if (!arg.startsWith('-')) {
        if (request !== undefined)
          return { kind: 'error', message: `explain takes one request, got "${arg}" too` };
        request = arg;
        continue;
      }
    }
    if (arg === '--help' || arg === '-h') return { kind: 'help', text: helpText() };
    if (arg === '--version' || arg === '-V') return { kind: 'version', version: packageVersion() };
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    // Traefik's FileLoader (pkg/cli/loader_file.go Load) reads `traefik.configfile` or
    // `traefik.configFile`, the flag as written.
    if (name === '--config' || name === '--configFile' || name === '--configfile' || name === '-c') {
      let value: string | undefined;
      if (eq !== -1) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined || value === '' || value.startsWith('-')) {
        return { kind: 'error', message: `${name} needs a file name` };
      }
      if (configFile !== undefined)
        return { kind: 'error', message: `${name}: the configuration file is given twice` };
      configFile = value;
      continue;
    }
    overrides.push(arg);
  }
  configFile ??= nonEmpty(env['TRAFFIC_CONFIGFILE']) ?? nonEmpty(env['TRAEFIK_CONFIGFILE']);
  if (kind === 'explain') {
    if (request === undefined) {
      return { kind: 'error', message: "explain needs a request, e.g. 'GET https://example.com/path'" };
    }
    return {
      kind,
      configFile,
      overrides,
      request,
      headers,
      ...(entryPoint !== undefined ? { entryPoint } : {}),
    };
  }
  return { kind, configFile, overrides };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** The version in package.json (read when asked, not at import). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
