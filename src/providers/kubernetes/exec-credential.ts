import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { EngineError } from '../engine-client.ts';

const API_VERSIONS = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);

/** A kubeconfig user's `exec` (client-go's clientcmd api.ExecConfig), its command path resolved. */
export interface ExecConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly apiVersion: string;
  readonly interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  readonly provideClusterInfo: boolean;
  /** Shown when the command is not found (client-go's installHint). */
  readonly installHint: string;
}

/** `spec.cluster` of the ExecCredential (client-go's clientauthentication Cluster, JSON names). */
export interface ExecCluster {
  readonly server: string;
  readonly 'tls-server-name'?: string;
  readonly 'insecure-skip-tls-verify'?: boolean;
  /** base64, as Go encodes the CA bytes. */
  readonly 'certificate-authority-data'?: string;
  readonly 'proxy-url'?: string;
  readonly 'disable-compression'?: boolean;
  readonly config?: unknown;
}

/** What the plugin answered: a bearer token and/or a client certificate (PEM). */
export interface ExecCredentials {
  readonly token: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

/**
 * Validates a kubeconfig `exec` block as client-go's clientcmd does (its v1 defaults and
 * validation.go): `command` required; `apiVersion` client.authentication.k8s.io/v1 or v1beta1;
 * `interactiveMode` defaults to IfAvailable for v1beta1 only (v1 must state it); each `env` entry
 * needs a name. Throws the message client-go would give.
 */
export function parseExecConfig(
  raw: Readonly<Record<string, unknown>>,
  user: string,
  resolve: (command: string) => string,
): ExecConfig {
  const fail = (m: string): never => {
    throw new EngineError(`user ${user}: exec: ${m}`);
  };
  const command = raw['command'];
  if (typeof command !== 'string' || command === '') return fail('command must be specified');
  const apiVersion = raw['apiVersion'];
  if (typeof apiVersion !== 'string' || !API_VERSIONS.has(apiVersion))
    return fail(`invalid apiVersion ${JSON.stringify(apiVersion ?? '')}`);
  let mode = raw['interactiveMode'];
  if ((mode === undefined || mode === '') && apiVersion.endsWith('/v1beta1')) mode = 'IfAvailable';
  if (mode === undefined || mode === '') return fail('interactiveMode must be specified');
  if (mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always')
    return fail(`invalid interactiveMode ${JSON.stringify(mode)}: Never, IfAvailable or Always`);
  const args = (raw['args'] ?? []) as unknown[];
  const env = (raw['env'] ?? []) as { name?: unknown; value?: unknown }[];
  if (!Array.isArray(args) || !Array.isArray(env)) return fail('args and env must be lists');
  for (const e of env)
    if (typeof e?.name !== 'string' || e.name === '') fail('env variable name must be specified');
  // clientcmd's GetAuthInfoFileReferences: a command with a path separator is relative to the file.
  return {
    command: command.includes('/') ? resolve(command) : command,
    args: args.map(String),
    env: env.map((e) => ({ name: String(e.name), value: e.value === undefined ? '' : String(e.value) })),
    apiVersion,
    interactiveMode: mode,
    provideClusterInfo: raw['provideClusterInfo'] === true,
    installHint: typeof raw['installHint'] === 'string' ? raw['installHint'] : '',
  };
}

/**
 * An exec credential plugin, run as client-go's pkg/client/auth/exec Authenticator runs it: the
 * command with the process's environment, the `env` entries and `KUBERNETES_EXEC_INFO` (an
 * ExecCredential whose `spec` has `interactive` and, with provideClusterInfo, `cluster`); stderr
 * passed through, stdin only when interactive. Its stdout is an ExecCredential of the same
 * apiVersion whose `status` has a `token` and/or `clientCertificateData` + `clientKeyData`. The
 * answer is kept until `status.expirationTimestamp` (none: until a 401), and one run is shared by
 * everyone asking meanwhile. One authenticator per exec block and cluster (client-go's cache), so
 * that the CRD, Ingress and Gateway providers run the plugin once between them.
 */
export class ExecAuthenticator {
  readonly #cfg: ExecConfig;
  readonly #cluster: ExecCluster;
  #cached: ExecCredentials | undefined;
  #expires = 0;
  #running: Promise<ExecCredentials> | undefined;

  constructor(cfg: ExecConfig, cluster: ExecCluster) {
    this.#cfg = cfg;
    this.#cluster = cluster;
  }

  static readonly #all = new Map<string, ExecAuthenticator>();

  /** The authenticator of this exec block and cluster, made once (client-go's globalCache). */
  static for(cfg: ExecConfig, cluster: ExecCluster): ExecAuthenticator {
    const k = JSON.stringify([cfg, cluster]);
    let a = ExecAuthenticator.#all.get(k);
    if (a === undefined) {
      a = new ExecAuthenticator(cfg, cluster);
      ExecAuthenticator.#all.set(k, a);
    }
    return a;
  }

  /** The cached credentials, or a new run of the plugin when there are none or they expired. */
  credentials(): Promise<ExecCredentials> {
    if (this.#cached !== undefined && (this.#expires === 0 || Date.now() <= this.#expires))
      return Promise.resolve(this.#cached);
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** After a 401 with `used`: forget them, unless they were replaced meanwhile (maybeRefreshCreds). */
  unauthorized(used: ExecCredentials): void {
    if (this.#cached === used) this.#cached = undefined;
  }

  async #run(): Promise<ExecCredentials> {
    const cfg = this.#cfg;
    const tty = process.stdin.isTTY === true;
    if (cfg.interactiveMode === 'Always' && !tty)
      throw new EngineError('exec plugin cannot support interactive mode: standard input is not a terminal');
    const interactive = cfg.interactiveMode !== 'Never' && tty;
    const kind = { kind: 'ExecCredential', apiVersion: cfg.apiVersion };
    const info = {
      ...kind,
      spec: { ...(cfg.provideClusterInfo ? { cluster: this.#cluster } : {}), interactive },
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of cfg.env) env[e.name] = e.value;
    env['KUBERNETES_EXEC_INFO'] = JSON.stringify(info);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(cfg.command, cfg.args, {
        env,
        stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'],
      });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new EngineError(
            e.code === 'ENOENT'
              ? `exec: executable ${cfg.command} not found${cfg.installHint === '' ? '' : `\n\n${cfg.installHint}`}`
              : `exec: ${cfg.command}: ${e.message}`,
          ),
        ),
      );
      child.on('close', (code, signal) => {
        if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
        else
          reject(
            new EngineError(`exec: executable ${cfg.command} failed with ${signal ?? `exit code ${code}`}`),
          );
      });
    });
    let doc: {
      kind?: unknown;
      apiVersion?: unknown;
      status?: {
        token?: string;
        clientCertificateData?: string;
        clientKeyData?: string;
        expirationTimestamp?: string;
      } | null;
    };
    try {
      doc = JSON.parse(out) as typeof doc;
    } catch (e) {
      throw new EngineError(`exec plugin: decoding stdout: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (doc.apiVersion !== cfg.apiVersion)
      throw new EngineError(
        `exec plugin is configured to use API version ${cfg.apiVersion}, plugin returned version ${String(doc.apiVersion)}`,
      );
    const s = doc.status;
    if (s === undefined || s === null) throw new EngineError("exec plugin didn't return a status field");
    const token = s.token || undefined;
    const cert = s.clientCertificateData || undefined;
    const key = s.clientKeyData || undefined;
    if (token === undefined && cert === undefined && key === undefined)
      throw new EngineError("exec plugin didn't return a token or cert/key pair");
    if ((cert === undefined) !== (key === undefined))
      throw new EngineError('exec plugin returned only certificate or key, not both');
    if (cert !== undefined) {
      try {
        new X509Certificate(cert);
      } catch (e) {
        throw new EngineError(
          `failed parsing client key/certificate: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const exp = s.expirationTimestamp === undefined ? 0 : Date.parse(s.expirationTimestamp);
    if (Number.isNaN(exp))
      throw new EngineError(`exec plugin: invalid expirationTimestamp ${s.expirationTimestamp}`);
    this.#expires = exp;
    this.#cached = { token, cert, key };
    return this.#cached;
  }
}
