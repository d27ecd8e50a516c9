import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import type { DockerProviderConfig } from '../../config/static/providers.ts';
import { clientTlsOptions, EngineError, engineFetch, engineRequest } from '../engine-client.ts';
import type { ContainerInfo } from './docker-config.ts';
import { SshAgent, sshArgs } from './ssh-connection.ts';

export interface InspectJson {
  readonly Id?: string;
  readonly Name?: string;
  readonly Config?: {
    readonly Labels?: Record<string, string> | null;
    readonly ExposedPorts?: Record<string, unknown> | null;
  };
  readonly State?: {
    readonly Running?: boolean;
    readonly Status?: string;
    readonly Health?: { readonly Status?: string } | null;
  };
  readonly HostConfig?: { readonly NetworkMode?: string };
  readonly NetworkSettings?: {
    readonly Networks?: Record<
      string,
      { readonly IPAddress?: string; readonly GlobalIPv6Address?: string }
    > | null;
    readonly Ports?: Record<string, { readonly HostIp?: string; readonly HostPort?: string }[] | null> | null;
  };
}

/** A name's first address, as Go's `net.LookupHost(name)[0]`; undefined when it does not resolve. */
export type LookupHost = (name: string) => Promise<string | undefined>;

const systemLookupHost: LookupHost = async (name) => {
  try {
    return (await lookup(name, { all: true, order: 'verbatim' }))[0]?.address;
  } catch {
    return undefined;
  }
};

/**
 * Where a container on the host network is reached, as Traefik's getIPAddress
 * (pkg/provider/docker/config.go): `host.docker.internal` when it resolves (Traefik itself in a
 * container of Docker Desktop, or with `--add-host host.docker.internal:host-gateway`), else
 * `host.containers.internal` (Podman), else 127.0.0.1.
 */
export async function hostNetworkAddress(lookupHost: LookupHost): Promise<string> {
  return (
    (await lookupHost('host.docker.internal')) ??
    (await lookupHost('host.containers.internal')) ??
    '127.0.0.1'
  );
}

/** The newest Engine API version we speak; an older daemon's own version is used instead. */
const MAX_API = [1, 45] as const;

/**
 * The Docker Engine API over its unix socket, TCP or TLS (node:http with `socketPath` for the
 * socket). The API version is negotiated as Traefik v3.6.1+ does: the daemon's `API-Version`
 * from `/_ping`, capped to ours (Docker 29 refuses clients pinned below 1.44).
 */
export class DockerClient {
  readonly #base: string;
  /** The endpoint as configured (what the errors name). */
  readonly #endpoint: string;
  readonly #socketPath: string | undefined;
  readonly #ssh: SshAgent | undefined = undefined;
  readonly #tls: ConnectionOptions | undefined;
  readonly #timeoutMs: number;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #lookupHost: LookupHost;
  #version = '';

  constructor(
    cfg: Pick<DockerProviderConfig, 'endpoint' | 'tls' | 'httpClientTimeout' | 'username' | 'password'>,
    /** How a name is resolved (tests give their own). */
    lookupHost: LookupHost = systemLookupHost,
  ) {
    this.#lookupHost = lookupHost;
    const e = cfg.endpoint;
    this.#endpoint = e;
    this.#tls = clientTlsOptions(cfg.tls);
    this.#timeoutMs = cfg.httpClientTimeout;
    // As Traefik's createClient (pkg/provider/docker/shared.go): Basic authentication on every
    // call when both username and password are set.
    this.#headers =
      cfg.username !== '' && cfg.password !== ''
        ? { authorization: `Basic ${Buffer.from(`${cfg.username}:${cfg.password}`).toString('base64')}` }
        : {};
    if (e.startsWith('ssh://')) {
      // docker/cli's connhelper, as Traefik's getClientOpts: HTTP over `ssh … docker system
      // dial-stdio`, one ssh process per connection, kept for the next call; Host a placeholder.
      this.#ssh = new SshAgent(sshArgs(e));
      this.#base = 'http://docker.example.com';
      this.#tls = undefined;
    } else if (e.startsWith('unix://')) {
      this.#socketPath = e.slice('unix://'.length);
      this.#base = 'http://docker';
    } else if (e.startsWith('tcp://')) {
      this.#base = `${this.#tls !== undefined ? 'https' : 'http'}://${e.slice('tcp://'.length).replace(/\/+$/, '')}`;
    } else if (/^https?:\/\//.test(e)) {
      this.#base = e.replace(/\/+$/, '');
    } else {
      throw new EngineError(
        `docker endpoint ${JSON.stringify(e)}: unix://, tcp://, http://, https:// or ssh://`,
      );
    }
  }

  /** Ends the connections kept open (an `ssh://` endpoint's ssh processes). */
  close(): void {
    this.#ssh?.destroy();
  }

  async negotiate(signal: AbortSignal): Promise<void> {
    const res = await this.#get('/_ping', signal);
    const v = String(res.res.headers['api-version'] ?? '');
    const m = /^(\d+)\.(\d+)$/.exec(v);
    if (m === null) throw new EngineError(`docker ${this.#base}: no API-Version in /_ping`);
    const [maj, min] = [Number(m[1]), Number(m[2])];
    this.#version =
      maj < MAX_API[0] || (maj === MAX_API[0] && min <= MAX_API[1]) ? v : `${MAX_API[0]}.${MAX_API[1]}`;
  }

  /**
   * Every container, running or not, inspected (what the configuration is built from): as
   * Traefik's listContainers (`All: true`), for `traefik.docker.allownonrunning`.
   */
  async containers(signal: AbortSignal): Promise<ContainerInfo[]> {
    const { body } = await this.#get(`/v${this.#version}/containers/json?all=1`, signal);
    const list = JSON.parse(body.toString('utf8')) as { Id?: string }[];
    const out = await Promise.all(
      list.map(async (c) => {
        try {
          const r = await this.#get(
            `/v${this.#version}/containers/${encodeURIComponent(c.Id ?? '')}/json`,
            signal,
          );
          const info = toInfo(JSON.parse(r.body.toString('utf8')) as InspectJson);
          return info === undefined ? undefined : await this.#viaContainer(info, signal);
        } catch (e) {
          // Gone between the list and the inspect: the next event lists again.
          if (e instanceof EngineError && e.status === 404) return undefined;
          throw e;
        }
      }),
    );
    const found = out.filter((c): c is ContainerInfo => c !== undefined && c !== null);
    if (!found.some((c) => c.networkMode === 'host')) return found;
    // Once per listing, only when a container is on the host network.
    const hostAddress = await hostNetworkAddress(this.#lookupHost);
    return found.map((c) => (c.networkMode === 'host' ? { ...c, hostAddress } : c));
  }

  /**
   * A container in another one's network namespace (`container:<id>`) is reached at that
   * container's address: as Traefik's getIPAddress, that container is inspected (its network
   * mode, networks and `traefik.docker.network` label), once per listing. One that cannot be
   * inspected leaves the mode as it is (an error when the configuration is built).
   */
  async #viaContainer(info: ContainerInfo, signal: AbortSignal): Promise<ContainerInfo> {
    if (!info.networkMode.startsWith('container:')) return info;
    const other = info.networkMode.slice('container:'.length);
    let j: InspectJson;
    try {
      const r = await this.#get(`/v${this.#version}/containers/${encodeURIComponent(other)}/json`, signal);
      j = JSON.parse(r.body.toString('utf8')) as InspectJson;
    } catch (e) {
      if (e instanceof EngineError && e.status === 404) return info;
      throw e;
    }
    const labels = j.Config?.Labels ?? {};
    const label = Object.keys(labels).find((k) => k.toLowerCase() === 'traefik.docker.network');
    const mode = j.HostConfig?.NetworkMode ?? '';
    return {
      ...info,
      // Not followed further: Docker refuses to join a container that joins another.
      networkMode: mode.startsWith('container:') ? info.networkMode : mode,
      networks: networksOf(j),
      viaContainer: { network: label === undefined ? undefined : labels[label] },
    };
  }

  /** GET of an Engine API path under the negotiated version (`/services`), as JSON. */
  async getJson<T>(path: string, signal: AbortSignal): Promise<T> {
    const { body } = await this.#get(`/v${this.#version}${path}`, signal);
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** The container events stream (`GET /events`, filtered to containers), one JSON per line. */
  async events(signal: AbortSignal): Promise<IncomingMessage> {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
    const res = await engineRequest({
      url: `${this.#base}/v${this.#version}/events?filters=${filters}`,
      headers: this.#headers,
      signal,
      ...(this.#socketPath !== undefined ? { socketPath: this.#socketPath } : {}),
      ...(this.#ssh !== undefined ? { agent: this.#ssh } : {}),
      ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
    }).catch((e: unknown) => {
      throw this.#explain(e);
    });
    if (res.statusCode !== 200) {
      res.resume();
      throw new EngineError(`docker /events: status ${res.statusCode}`, res.statusCode ?? 0);
    }
    return res;
  }

  /**
   * Docker's own words when the daemon cannot be reached (docker/client's ErrorConnectionFailed,
   * which Traefik logs: `Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is
   * the docker daemon running?`), with what to check; `http://docker/_ping: connect ENOENT` named
   * neither the endpoint nor the cause.
   */
  #explain(e: unknown): unknown {
    if (!(e instanceof EngineError) || e.sysCode === undefined) return e;
    const at = this.#endpoint;
    const hint =
      e.sysCode === 'EACCES' || e.sysCode === 'EPERM'
        ? `permission denied while trying to connect to the Docker daemon socket at ${at}: the proxy's user needs read and write access to it (the socket's group, usually docker)`
        : e.sysCode === 'ENOENT' || e.sysCode === 'ECONNREFUSED'
          ? `Cannot connect to the Docker daemon at ${at}. Is the docker daemon running? (${this.#socketPath !== undefined ? 'a proxy in a container needs the socket mounted; ' : ''}providers.docker.endpoint names another)`
          : undefined;
    return hint === undefined ? e : new EngineError(`${hint}: ${e.message}`, e.status, e.sysCode);
  }

  #get(path: string, signal: AbortSignal) {
    const timeout = this.#timeoutMs > 0 ? [AbortSignal.timeout(this.#timeoutMs)] : [];
    return this.#fetch({
      url: `${this.#base}${path}`,
      headers: this.#headers,
      signal: AbortSignal.any([signal, ...timeout]),
      ...(this.#socketPath !== undefined ? { socketPath: this.#socketPath } : {}),
      ...(this.#ssh !== undefined ? { agent: this.#ssh } : {}),
      ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
    });
  }

  async #fetch(r: Parameters<typeof engineFetch>[0]): ReturnType<typeof engineFetch> {
    try {
      return await engineFetch(r);
    } catch (e) {
      throw this.#explain(e);
    }
  }
}

/**
 * Network name → the container's address there: its IPv4 address, else its global IPv6 one (an
 * IPv6-only network), as Traefik's parseContainer (pkg/provider/docker/shared.go).
 */
function networksOf(j: InspectJson): Record<string, string> {
  const networks: Record<string, string> = {};
  for (const [n, v] of Object.entries(j.NetworkSettings?.Networks ?? {})) {
    networks[n] = v.IPAddress !== undefined && v.IPAddress !== '' ? v.IPAddress : (v.GlobalIPv6Address ?? '');
  }
  return networks;
}

/**
 * What the provider reads of a container's inspection (undefined when it has no state, as
 * Traefik's inspectContainers). Its ports are the exposed and published ones, TCP and UDP alike:
 * the lowest is the default server port, as Traefik's getPort takes the lowest of every protocol.
 */
export function toInfo(j: InspectJson): ContainerInfo | undefined {
  if (j.State === undefined) return undefined;
  const networks = networksOf(j);
  const portKeys = new Set([
    ...Object.keys(j.Config?.ExposedPorts ?? {}),
    ...Object.keys(j.NetworkSettings?.Ports ?? {}),
  ]);
  const ports = [...portKeys]
    .filter((k) => k.endsWith('/tcp') || k.endsWith('/udp'))
    .map((k) => Number(k.slice(0, -4)))
    .filter((p) => Number.isInteger(p) && p > 0)
    .sort((a, b) => a - b);
  const bindings: Record<string, { hostIp: string; hostPort: string }[]> = {};
  for (const [k, v] of Object.entries(j.NetworkSettings?.Ports ?? {})) {
    bindings[k] = (v ?? []).map((b) => ({ hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' }));
  }
  return {
    id: j.Id ?? '',
    name: (j.Name ?? '').replace(/^\//, ''),
    labels: j.Config?.Labels ?? {},
    health: j.State.Health?.Status ?? '',
    // Traefik compares State.Status with "running" (a paused container is not running).
    running: j.State.Status !== undefined ? j.State.Status === 'running' : j.State.Running === true,
    networkMode: j.HostConfig?.NetworkMode ?? '',
    networks,
    ports: [...new Set(ports)],
    bindings,
  };
}
