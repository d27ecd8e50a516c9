import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import { EngineError, engineFetch, engineRequest } from '../engine-client.ts';
import { ExecAuthenticator, type ExecCredentials } from './exec-credential.ts';
import { readKubeconfig } from './kubeconfig.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeAccess {
  readonly endpoint?: string | undefined;
  readonly token?: string | undefined;
  readonly certAuthFilePath?: string | undefined;
}

/**
 * The Kubernetes API as client-go reaches it: `endpoint` (with `token` and `certAuthFilePath`)
 * when given; else in-cluster (KUBERNETES_SERVICE_HOST/PORT, the service account's token and
 * CA); else the file `KUBECONFIG` names (its current context, with its exec credential plugin:
 * exec-credential.ts). The service account's token file is read again for each connection, as a
 * projected token rotates.
 */
export class KubeClient {
  readonly #base: string;
  readonly #tokenFile: string | undefined;
  readonly #token: string | undefined;
  readonly #tls: ConnectionOptions | undefined;
  readonly #basic: string | undefined;
  readonly #exec: ExecAuthenticator | undefined;

  constructor(access: KubeAccess, env: NodeJS.ProcessEnv = process.env) {
    const host = env['KUBERNETES_SERVICE_HOST'];
    const kubeconfig = env['KUBECONFIG'];
    if (
      access.endpoint === undefined &&
      host === undefined &&
      kubeconfig !== undefined &&
      kubeconfig !== ''
    ) {
      // client-go takes the first file of a KUBECONFIG list.
      const k = readKubeconfig(kubeconfig.split(':')[0]!);
      this.#base = k.server;
      this.#token = access.token ?? k.token;
      this.#tokenFile = undefined;
      this.#basic = k.basic;
      this.#exec =
        k.exec === undefined || access.token !== undefined
          ? undefined
          : ExecAuthenticator.for(k.exec.config, k.exec.cluster);
      this.#tls =
        access.certAuthFilePath !== undefined
          ? { ...k.tls, ca: readFileSync(access.certAuthFilePath, 'utf8') }
          : k.tls;
      return;
    }
    if (access.endpoint !== undefined) this.#base = access.endpoint.replace(/\/+$/, '');
    else if (host !== undefined) {
      const h = host.includes(':') ? `[${host}]` : host;
      this.#base = `https://${h}:${env['KUBERNETES_SERVICE_PORT'] ?? '443'}`;
    } else {
      throw new EngineError(
        'kubernetes: no endpoint, not in a cluster (KUBERNETES_SERVICE_HOST is not set) and no KUBECONFIG',
      );
    }
    this.#token = access.token;
    this.#basic = undefined;
    this.#exec = undefined;
    this.#tokenFile =
      access.token === undefined && access.endpoint === undefined ? `${SERVICE_ACCOUNT}/token` : undefined;
    const caFile =
      access.certAuthFilePath ?? (access.endpoint === undefined ? `${SERVICE_ACCOUNT}/ca.crt` : undefined);
    this.#tls = caFile === undefined ? undefined : { ca: readFileSync(caFile, 'utf8') };
  }

  /** The headers and TLS options of one request, and the exec credentials they carry. */
  async #auth(): Promise<{
    headers: Record<string, string>;
    tls: ConnectionOptions | undefined;
    used: ExecCredentials | undefined;
  }> {
    let used: ExecCredentials | undefined;
    let token =
      this.#token ??
      (this.#tokenFile === undefined ? undefined : readFileSync(this.#tokenFile, 'utf8').trim());
    let tls = this.#tls;
    if (this.#exec !== undefined) {
      used = await this.#exec.credentials();
      token = used.token;
      if (used.cert !== undefined && used.key !== undefined) tls = { ...tls, cert: used.cert, key: used.key };
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
    else if (this.#basic !== undefined) headers['authorization'] = `Basic ${this.#basic}`;
    return { headers, tls, used };
  }

  /** client-go's exec roundTripper: a 401 makes the next request run the plugin again. */
  #rejected(e: unknown, used: ExecCredentials | undefined): never {
    if (used !== undefined && e instanceof EngineError && e.status === 401) this.#exec?.unauthorized(used);
    throw e;
  }

  async getJson<T>(path: string, signal: AbortSignal): Promise<T> {
    const { headers, tls, used } = await this.#auth();
    const { body } = await engineFetch({
      url: `${this.#base}${path}`,
      headers,
      signal,
      ...(tls !== undefined ? { tls } : {}),
    }).catch((e: unknown) => this.#rejected(e, used));
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** PUT a whole object (a status subresource: `…/status`); the stored object comes back. */
  async putJson<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const { headers, tls, used } = await this.#auth();
    const { body: out } = await engineFetch({
      url: `${this.#base}${path}`,
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
      ...(tls !== undefined ? { tls } : {}),
    }).catch((e: unknown) => this.#rejected(e, used));
    return JSON.parse(out.toString('utf8')) as T;
  }

  async stream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const { headers, tls, used } = await this.#auth();
    const res = await engineRequest({
      url: `${this.#base}${path}`,
      headers,
      signal,
      ...(tls !== undefined ? { tls } : {}),
    });
    if (res.statusCode !== 200) {
      res.resume();
      this.#rejected(
        new EngineError(`GET ${this.#base}${path}: status ${res.statusCode}`, res.statusCode ?? 0),
        used,
      );
    }
    return res;
  }
}
