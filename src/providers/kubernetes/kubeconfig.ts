import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { parse } from 'yaml';
import { EngineError } from '../engine-client.ts';
import { type ExecCluster, type ExecConfig, parseExecConfig } from './exec-credential.ts';

/** What a kubeconfig file gives a client: the server, its CA and the user's credentials. */
export interface KubeconfigAccess {
  readonly server: string;
  readonly token: string | undefined;
  /** The cluster's `proxy-url`. */
  readonly proxyUrl?: string | undefined;
  /** `tokenFile`, read again for each connection (client-go's CachedFileTokenSource). */
  readonly tokenFile?: string | undefined;
  /** `username` and `password`: the value of an `Authorization: Basic` header. */
  readonly basic?: string | undefined;
  readonly tls: ConnectionOptions | undefined;
  /** The user's exec credential plugin, with the cluster it may be told about. */
  readonly exec?: { readonly config: ExecConfig; readonly cluster: ExecCluster } | undefined;
}

interface Named<T> {
  readonly name?: string;
  readonly [k: string]: unknown;
  readonly value?: T;
}

type Fields = Readonly<Record<string, unknown>>;

/**
 * A kubeconfig file (client-go's clientcmd, as Traefik reads `KUBECONFIG`): the current context's
 * cluster (`server`, `certificate-authority[-data]`, `insecure-skip-tls-verify`,
 * `tls-server-name`, `proxy-url`) and user (`token`, `tokenFile`, `username` + `password`,
 * `client-certificate[-data]` + `client-key[-data]`, or an `exec` credential plugin, used only
 * without the others as client-go's exec UpdateTransportConfig). Relative paths are relative to
 * the file. An `auth-provider` is refused by name (Traefik registers none of client-go's).
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
  const named = context['user'] === undefined ? {} : find('users', context['user'], 'user');
  const server = cluster['server'];
  if (typeof server !== 'string' || server === '')
    return fail(`cluster ${String(context['cluster'])} has no server`);
  // clientcmd's DirectClientConfig.ClientConfig (isConfigTransportTLS): the user's credentials
  // (token, client certificate, basic, exec) are used only with an https server.
  const user: Fields = /^https:/i.test(server) ? named : {};
  const base = dirname(file);
  const path = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const pem = (data: string, fileKey: string, from: Fields): string | undefined => {
    const d = from[data];
    if (typeof d === 'string') return Buffer.from(d, 'base64').toString('utf8');
    const f = from[fileKey];
    return typeof f === 'string' ? readFileSync(path(f), 'utf8') : undefined;
  };
  if (user['auth-provider'] !== undefined)
    fail(`user ${String(context['user'])}: auth-provider credentials are not supported (use exec)`);
  const ca = pem('certificate-authority-data', 'certificate-authority', cluster);
  const cert = pem('client-certificate-data', 'client-certificate', user);
  const key = pem('client-key-data', 'client-key', user);
  let token = typeof user['token'] === 'string' && user['token'] !== '' ? user['token'] : undefined;
  const tokenFile =
    typeof user['tokenFile'] === 'string' && user['tokenFile'] !== '' ? path(user['tokenFile']) : undefined;
  // clientcmd reads the file once at start (a missing one is an error) unless `token` is set.
  if (token === undefined && tokenFile !== undefined) token = readFileSync(tokenFile, 'utf8').trim();
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  // client-go's transport TLSConfigFor refuses a CA with the insecure flag (kubectl too).
  if (insecure && ca !== undefined)
    fail(
      `cluster ${String(context['cluster'])}: specifying a root certificates file with the insecure flag is not allowed`,
    );
  const serverName = typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : '';
  const tls: ConnectionOptions | undefined =
    ca === undefined && cert === undefined && !insecure && serverName === ''
      ? undefined
      : {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
          ...(insecure ? { rejectUnauthorized: false } : {}),
          ...(serverName !== '' ? { servername: serverName } : {}),
        };
  const username = typeof user['username'] === 'string' ? user['username'] : '';
  const password = typeof user['password'] === 'string' ? user['password'] : '';
  const basic =
    username === '' && password === ''
      ? undefined
      : Buffer.from(`${username}:${password}`).toString('base64');
  let exec: KubeconfigAccess['exec'];
  const rawExec = user['exec'];
  if (rawExec !== undefined && rawExec !== null) {
    const config = parseExecConfig(rawExec as Fields, String(context['user']), path);
    // client-go's exec UpdateTransportConfig: a token, basic auth or a client certificate wins.
    if (token === undefined && basic === undefined && cert === undefined) {
      const ext = ((cluster['extensions'] ?? []) as Named<unknown>[]).find(
        (e) => e.name === 'client.authentication.k8s.io/exec',
      );
      const proxy = cluster['proxy-url'];
      exec = {
        config,
        // client-go's rest.ConfigToExecCluster: what KUBERNETES_EXEC_INFO tells of the cluster.
        cluster: {
          server: server,
          ...(serverName !== '' ? { 'tls-server-name': serverName } : {}),
          ...(insecure ? { 'insecure-skip-tls-verify': true } : {}),
          ...(ca !== undefined ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : {}),
          ...(typeof proxy === 'string' && proxy !== '' ? { 'proxy-url': proxy } : {}),
          ...(cluster['disable-compression'] === true ? { 'disable-compression': true } : {}),
          ...(ext?.['extension'] !== undefined ? { config: ext['extension'] } : {}),
        },
      };
    }
  }
  const proxyUrl =
    typeof cluster['proxy-url'] === 'string' && cluster['proxy-url'] !== ''
      ? cluster['proxy-url']
      : undefined;
  return { server: server.replace(/\/+$/, ''), token, tokenFile, basic, tls, exec, proxyUrl };
}
