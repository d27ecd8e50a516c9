import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { parse } from 'yaml';
import { EngineError } from '../engine-client.ts';

/** What a kubeconfig file gives a client: the server, its CA and the user's credentials. */
export interface KubeconfigAccess {
  readonly server: string;
  readonly token: string | undefined;
  readonly tls: ConnectionOptions | undefined;
}

interface Named<T> {
  readonly name?: string;
  readonly [k: string]: unknown;
  readonly value?: T;
}

type Fields = Readonly<Record<string, unknown>>;

/**
 * A kubeconfig file (client-go's clientcmd, as Traefik reads `KUBECONFIG`): the current context's
 * cluster (`server`, `certificate-authority[-data]`, `insecure-skip-tls-verify`) and user
 * (`token`, `tokenFile`, `client-certificate[-data]` + `client-key[-data]`). Relative paths are
 * relative to the file. Exec and auth-provider plugins are refused by name.
 */
export function readKubeconfig(file: string): KubeconfigAccess {
  let doc: Fields;
  try {
    doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Fields;
  } catch (e) {
    throw new EngineError(`kubeconfig ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const fail = (m: string): never => {
    throw new EngineError(`kubeconfig ${file}: ${m}`);
  };
  const find = (list: string, name: unknown, field: string): Fields => {
    const items = (doc[list] ?? []) as Named<unknown>[];
    const hit = items.find((i) => i.name === name);
    if (hit === undefined) return fail(`no ${field} named ${JSON.stringify(name)} in ${list}`);
    return (hit[field] ?? {}) as Fields;
  };
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') return fail('no current-context');
  const context = find('contexts', current, 'context');
  const cluster = find('clusters', context['cluster'], 'cluster');
  const user = context['user'] === undefined ? {} : find('users', context['user'], 'user');
  const server = cluster['server'];
  if (typeof server !== 'string' || server === '')
    return fail(`cluster ${String(context['cluster'])} has no server`);
  const base = dirname(file);
  const path = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const pem = (data: string, fileKey: string, from: Fields): string | undefined => {
    const d = from[data];
    if (typeof d === 'string') return Buffer.from(d, 'base64').toString('utf8');
    const f = from[fileKey];
    return typeof f === 'string' ? readFileSync(path(f), 'utf8') : undefined;
  };
  for (const plugin of ['exec', 'auth-provider'])
    if (user[plugin] !== undefined)
      fail(`user ${String(context['user'])}: ${plugin} credentials are not supported`);
  const ca = pem('certificate-authority-data', 'certificate-authority', cluster);
  const cert = pem('client-certificate-data', 'client-certificate', user);
  const key = pem('client-key-data', 'client-key', user);
  let token = typeof user['token'] === 'string' ? user['token'] : undefined;
  if (token === undefined && typeof user['tokenFile'] === 'string')
    token = readFileSync(path(user['tokenFile']), 'utf8').trim();
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const tls: ConnectionOptions | undefined =
    ca === undefined && cert === undefined && !insecure
      ? undefined
      : {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
          ...(insecure ? { rejectUnauthorized: false } : {}),
        };
  return { server: server.replace(/\/+$/, ''), token, tls };
}
