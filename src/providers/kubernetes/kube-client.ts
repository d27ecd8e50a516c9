import { readFileSync } from 'node:fs';
import { type Agent, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { EngineError, engineFetch, engineRequest } from '../engine-client.ts';
import { apiProxy } from './api-proxy.ts';
import { ExecAuthenticator, type ExecCredentials } from './exec-credential.ts';
import { readKubeconfig } from './kubeconfig.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeAccess {
  readonly endpoint?: string | undefined;
  readonly token?: string | undefined;
  readonly certAuthFilePath?: string | undefined;
}

/**
 * The Kubernetes API as Traefik's client-go reaches it: in a cluster (KUBERNETES_SERVICE_HOST and
 * PORT), the service account's token and CA (at `endpoint` when given); else the file
 * `KUBECONFIG` names (its current context, with its exec credential plugin: exec-credential.ts);
 * else `endpoint` with `token` and `certAuthFilePath`. A token file (the service account's, a
 * kubeconfig's `tokenFile`) is read again for each connection, as a projected token rotates.
 */
export class KubeClient {
  readonly #base: string;
  readonly #tokenFile: string | undefined;
  readonly #token: string | undefined;
  readonly #tls: ConnectionOptions | undefined;
  readonly #basic: string | undefined;
  readonly #exec: ExecAuthenticator | undefined;
  /** Through a proxy (client-go's: the kubeconfig's proxy-url, else HTTPS_PROXY/NO_PROXY). */
  readonly #agent: Agent | undefined;

  constructor(
    access: KubeAccess,
    env: NodeJS.ProcessEnv = process.env,
    /** The service account's folder (tests give their own). */
    serviceAccount = SERVICE_ACCOUNT,
  ) {
    const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
    const port = env['KUBERNETES_SERVICE_PORT'] ?? '';
    const kubeconfig = env['KUBECONFIG'] ?? '';
    this.#basic = undefined;
    this.#exec = undefined;
    // Traefik's newK8sClient (pkg/provider/kubernetes/{crd,ingress,gateway}/kubernetes.go): in a
    // cluster (both variables set) client-go's rest.InClusterConfig, `endpoint` replacing only its
    // host; else the KUBECONFIG file (endpoint, token and certAuthFilePath unused); else `endpoint`
    // with `token` and `certAuthFilePath`.
    if (host !== '' && port !== '') {
      const h = host.includes(':') ? `[${host}]` : host;
      this.#base =
        access.endpoint !== undefined ? access.endpoint.replace(/\/+$/, '') : `https://${h}:${port}`;
      // rest.InClusterConfig: the token is read at once (none is an error), then again.
      this.#tokenFile = `${serviceAccount}/token`;
      this.#token = readFileSync(this.#tokenFile, 'utf8').trim();
      // rest.InClusterConfig only logs a CA file it cannot load: the system's roots then.
      let ca: string | undefined;
      try {
        ca = readFileSync(`${serviceAccount}/ca.crt`, 'utf8');
      } catch {
        ca = undefined;
      }
      this.#tls = ca === undefined ? undefined : { ca };
      this.#agent = proxyAgent(this.#base, env, undefined);
      return;
    }
    if (kubeconfig !== '') {
      // client-go takes the first file of a KUBECONFIG list.
      const k = readKubeconfig(kubeconfig.split(':')[0]!);
      this.#base = k.server;
      this.#token = k.token;
      this.#tokenFile = k.tokenFile;
      this.#basic = k.basic;
      this.#exec = k.exec === undefined ? undefined : ExecAuthenticator.for(k.exec.config, k.exec.cluster);
      this.#tls = k.tls;
      this.#agent = proxyAgent(this.#base, env, k.proxyUrl);
      return;
    }
    if (access.endpoint === undefined)
      throw new EngineError(
        'kubernetes: no endpoint, not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set) and no KUBECONFIG',
      );
    this.#base = access.endpoint.replace(/\/+$/, '');
    this.#tokenFile = undefined;
    this.#token = access.token;
    this.#tls =
      access.certAuthFilePath === undefined
        ? undefined
        : { ca: readFileSync(access.certAuthFilePath, 'utf8') };
    this.#agent = proxyAgent(this.#base, env, undefined);
  }

  /** The headers and TLS options of one request, and the exec credentials they carry. */
  async #auth(): Promise<{
    headers: Record<string, string>;
    tls: ConnectionOptions | undefined;
    used: ExecCredentials | undefined;
  }> {
    let used: ExecCredentials | undefined;
    let token = this.#token;
    // client-go's bearerAuthWithRefreshRoundTripper: the token file's current content, else the
    // token read at start.
    if (this.#tokenFile !== undefined) {
      try {
        token = readFileSync(this.#tokenFile, 'utf8').trim();
      } catch (e) {
        if (token === undefined) throw e;
      }
    }
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
      ...(this.#agent !== undefined ? { agent: this.#agent } : {}),
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
      ...(this.#agent !== undefined ? { agent: this.#agent } : {}),
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
      ...(this.#agent !== undefined ? { agent: this.#agent } : {}),
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

/**
 * An agent sending every request through the proxy client-go would use for `base` (api-proxy.ts),
 * Node's own proxy support (CONNECT for https, absolute-form for http); undefined: direct.
 */
function proxyAgent(base: string, env: NodeJS.ProcessEnv, proxyUrl: string | undefined): Agent | undefined {
  const proxy = apiProxy(base, env, proxyUrl);
  if (proxy === undefined) return undefined;
  const proxyEnv = { HTTPS_PROXY: proxy, HTTP_PROXY: proxy };
  return base.startsWith('https:') ? new HttpsAgent({ proxyEnv }) : new HttpAgent({ proxyEnv });
}
