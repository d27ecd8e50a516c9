/**
 * Where the static configuration is when no `--config` (nor TRAFFIC_CONFIGFILE) names it: where
 * Traefik looks (pkg/cli loadConfigFiles: the base paths `/etc/traefik/traefik`,
 * `$XDG_CONFIG_HOME/traefik`, `$HOME/.config/traefik`, `./traefik`, each with `.toml`, `.yaml`,
 * `.yml`, the first file that exists wins), and in the same folders our own name, `traffic`,
 * which comes first in each folder since it can only be meant for us. A variable that is not set
 * leaves its folder out (Traefik would look at `/traefik.toml`). `./` is the working directory.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const OURS = ['traffic.yaml', 'traffic.yml', 'traffic.toml'];
/** Traefik's extensions, in its order. */
const TRAEFIK = ['traefik.toml', 'traefik.yaml', 'traefik.yml'];

/** Every file looked for, in order. */
export function configCandidates(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const folders: string[] = ['/etc/traefik'];
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '') folders.push(xdg);
  const home = env['HOME'];
  if (home !== undefined && home !== '') folders.push(join(home, '.config'));
  folders.push(cwd);
  const out: string[] = [];
  for (const f of folders) for (const name of [...OURS, ...TRAEFIK]) out.push(resolve(f, name));
  return [...new Set(out)];
}

export interface ConfigLookup {
  /** The file found, or undefined. */
  readonly file: string | undefined;
  /** Every place looked at (all of them when nothing was found). */
  readonly searched: readonly string[];
}

export function findConfigFile(
  env: NodeJS.ProcessEnv,
  cwd: string,
  exists: (path: string) => boolean = existsSync,
): ConfigLookup {
  const searched: string[] = [];
  for (const candidate of configCandidates(env, cwd)) {
    searched.push(candidate);
    if (exists(candidate)) return { file: candidate, searched };
  }
  return { file: undefined, searched };
}

/** The folders looked in, for messages: `/etc/traefik, ~/.config, …` with the names tried. */
export function describeSearch(searched: readonly string[]): string {
  const folders = [...new Set(searched.map((p) => p.slice(0, p.lastIndexOf('/')) || '/'))];
  return `${folders.join(', ')} (${[...OURS, ...TRAEFIK].join(', ')})`;
}
