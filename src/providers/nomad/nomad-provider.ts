import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { ClientTlsConfig, NomadProviderConfig } from '../../config/static/providers.ts';
import { parseGoBool } from '../../core/go-bool.ts';
import { type Constraint, compileConstraints, constraintIssues } from '../docker/constraints.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import {
  clientTlsOptions,
  describe,
  EngineError,
  engineFetch,
  engineRequest,
  lines,
} from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { keepsService, type NomadItem, nomadConfig } from './nomad-config.ts';

/** Nomad's endpoint with its environment's defaults applied (api.DefaultConfig). */
export interface NomadEndpoint {
  readonly address: string;
  /** For a `unix://` address: the socket (`address` is then `http://127.0.0.1`, paths only). */
  readonly socketPath?: string;
  readonly region: string;
  readonly token: string;
  readonly tls: ClientTlsConfig | undefined;
  readonly waitMs: number;
}

/**
 * Traefik's SetDefaults through Nomad's api.DefaultConfig: an unset address is NOMAD_ADDR, else
 * `http://127.0.0.1:4646`; region NOMAD_REGION, token NOMAD_TOKEN; without a `tls` section,
 * NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY and NOMAD_SKIP_VERIFY make one.
 */
export function nomadEndpoint(
  e: NomadProviderConfig['endpoint'],
  env: Readonly<Record<string, string | undefined>> = process.env,
): NomadEndpoint {
  const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const ca = set(env['NOMAD_CACERT']);
  const cert = set(env['NOMAD_CLIENT_CERT']);
  const key = set(env['NOMAD_CLIENT_KEY']);
  const skip = parseGoBool(env['NOMAD_SKIP_VERIFY'] ?? '') === true;
  const envTls =
    ca !== undefined || cert !== undefined || key !== undefined || skip
      ? {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
          insecureSkipVerify: skip,
        }
      : undefined;
  const address = e.address ?? set(env['NOMAD_ADDR']) ?? 'http://127.0.0.1:4646';
  // Nomad's Go client (since 1.5) dials a `unix://` address's socket: Nomad's Task API, which a
  // task reaches with NOMAD_ADDR=${NOMAD_UNIX_ADDR}. The URL then only gives the paths.
  const socket = /^unix:\/\//i.test(address) ? address.slice('unix://'.length) : undefined;
  return {
    ...(socket !== undefined
      ? { address: 'http://127.0.0.1', socketPath: socket }
      : { address: (/^https?:\/\//i.test(address) ? address : `http://${address}`).replace(/\/+$/, '') }),
    region: e.region ?? env['NOMAD_REGION'] ?? '',
    token: e.token ?? env['NOMAD_TOKEN'] ?? '',
    tls: e.tls ?? envTls,
    waitMs: e.endpointWaitTime,
  };
}

/** A service of a job's task group or task (`GET /v1/job/<id>`). */
interface JobService {
  readonly Name?: string;
  readonly TaskName?: string;
  readonly Tags?: readonly string[] | null;
}

/**
 * Traefik's Nomad provider (pkg/provider/nomad/nomad.go), one per namespace of `namespaces`
 * (`nomad-<namespace>`; without the list, one `nomad` in the token's namespace): Nomad's native
 * services (`/v1/services`, then `/v1/service/<name>` for each enabled one passing the
 * constraints), their tags read as labels (nomad-config.ts). With `allowEmptyServices`, the jobs
 * are read instead (`/v1/jobs`, `/v1/job/<id>`), so that the services of a task group scaled to
 * zero stay, without servers. Without `watch`, everything is read again every
 * `refreshInterval`; with it, Nomad's event stream (topic `Service`) wakes a read at each service
 * event, `throttleDuration` apart. Every request carries `namespace`, `region`, `stale` and
 * `wait` as Nomad's Go client sends them, the token in `X-Nomad-Token`. Any failure fails the
 * provider (restarted with backoff, its last good configuration serving).
 */
export class NomadProvider implements Provider {
  readonly name: string;
  readonly #cfg: NomadProviderConfig;
  readonly #namespace: string;
  readonly #validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };
  readonly #constraintWarnings: string[] = [];
  readonly #endpoint: NomadEndpoint;
  /** How requests reach Nomad: TLS options, or its unix socket. */
  readonly #transport: { tls?: ConnectionOptions; socketPath?: string };
  readonly #headers: Record<string, string>;

  constructor(cfg: NomadProviderConfig, validation: ProviderValidation, namespace?: string) {
    this.#cfg = cfg;
    this.#namespace = namespace ?? '';
    this.name = namespace === undefined ? 'nomad' : `nomad-${namespace}`;
    this.#validation = validation;
    this.#constraint = compileConstraints(cfg.constraints, 'tags', this.#constraintWarnings);
    this.#endpoint = nomadEndpoint(cfg.endpoint);
    const tls = clientTlsOptions(this.#endpoint.tls);
    const socketPath = this.#endpoint.socketPath;
    this.#transport = {
      ...(tls !== undefined ? { tls } : {}),
      ...(socketPath !== undefined ? { socketPath } : {}),
    };
    this.#headers = this.#endpoint.token === '' ? {} : { 'x-nomad-token': this.#endpoint.token };
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  /** The query Nomad's Go client sends with every request, then `extra`. */
  #url(path: string, extra: Record<string, string> = {}, stale = this.#cfg.stale): string {
    const q = new URLSearchParams();
    if (this.#endpoint.region !== '') q.set('region', this.#endpoint.region);
    if (this.#namespace !== '') q.set('namespace', this.#namespace);
    if (this.#endpoint.waitMs > 0) q.set('wait', `${this.#endpoint.waitMs}ms`);
    if (stale) q.set('stale', '');
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const text = q.toString();
    return `${this.#endpoint.address}${path}${text === '' ? '' : `?${text}`}`;
  }

  async #get(url: string, signal: AbortSignal): Promise<unknown> {
    const { body } = await engineFetch({ url, headers: this.#headers, signal, ...this.#transport });
    return JSON.parse(body.toString('utf8'));
  }

  /**
   * Traefik's fetchService: the registrations of `name`; without exposedByDefault, only those
   * tagged `<prefix>.enable=true` (Nomad's filter expression does it).
   */
  async #instances(name: string, signal: AbortSignal): Promise<NomadItem[]> {
    const filter = this.#cfg.exposedByDefault
      ? {}
      : { filter: `Tags contains ${JSON.stringify(`${this.#cfg.prefix}.enable=true`)}` };
    const json = await this.#get(this.#url(`/v1/service/${encodeURIComponent(name)}`, filter), signal);
    return list<Record<string, unknown>>(json).map((r) => ({
      id: str(r['ID']),
      name: str(r['ServiceName']),
      namespace: str(r['Namespace']),
      node: str(r['NodeID']),
      datacenter: str(r['Datacenter']),
      address: str(r['Address']),
      port: typeof r['Port'] === 'number' ? r['Port'] : 0,
      tags: strings(r['Tags']),
    }));
  }

  /** Traefik's getNomadServiceData: the enabled services of `/v1/services` and their instances. */
  async #services(constraint: Constraint, signal: AbortSignal): Promise<NomadItem[]> {
    const stubs = await this.#get(this.#url('/v1/services'), signal);
    const items: NomadItem[] = [];
    for (const stub of list<{ Services?: unknown }>(stubs)) {
      for (const s of list<Record<string, unknown>>(stub.Services)) {
        if (!keepsService(strings(s['Tags']), this.#cfg, constraint)) continue;
        items.push(...(await this.#instances(str(s['ServiceName']), signal)));
      }
    }
    return items;
  }

  /**
   * Traefik's getNomadServiceDataWithEmptyServices: every job's services (its task groups' and
   * their tasks'); a group with scaling enabled and a count of 0 gives an item without address,
   * the others their registrations. A stopped job gives nothing (Traefik's Stopped fixtures).
   */
  async #jobServices(constraint: Constraint, signal: AbortSignal): Promise<NomadItem[]> {
    const stubs = await this.#get(this.#url('/v1/jobs'), signal);
    const items: NomadItem[] = [];
    for (const stub of list<Record<string, unknown>>(stubs)) {
      if (stub['Stop'] === true) continue;
      const job = (await this.#get(
        this.#url(`/v1/job/${encodeURIComponent(str(stub['ID']))}`, {}, false),
        signal,
      )) as Record<string, unknown>;
      for (const group of list<Record<string, unknown>>(job['TaskGroups'])) {
        const tasks = list<Record<string, unknown>>(group['Tasks']);
        const services: JobService[] = [
          ...list<JobService>(group['Services']),
          ...tasks.flatMap((t) => list<JobService>(t['Services'])),
        ];
        const scaling = group['Scaling'] as { Enabled?: boolean } | null | undefined;
        const scaledToZero = scaling != null && scaling.Enabled === true && group['Count'] === 0;
        for (const s of services) {
          const tags = strings(s.Tags);
          if (!keepsService(tags, this.#cfg, constraint)) continue;
          if (!scaledToZero) {
            items.push(...(await this.#instances(str(s.Name), signal)));
            continue;
          }
          const ns = str(job['Namespace']);
          items.push({
            id: `${ns}-${str(job['Name'])}-${str(group['Name'])}-${str(s.TaskName)}-${str(s.Name)}`,
            name: str(s.Name),
            namespace: ns,
            node: '',
            datacenter: '',
            address: '',
            port: -1,
            tags,
          });
        }
      }
    }
    return items;
  }

  async #read(constraint: Constraint, signal: AbortSignal): Promise<ProviderUpdate> {
    const items = this.#cfg.allowEmptyServices
      ? await this.#jobServices(constraint, signal)
      : await this.#services(constraint, signal);
    const built = nomadConfig(items, this.#cfg, constraint);
    const issues = [...constraintIssues(this.#constraintWarnings, 'nomad'), ...built.issues];
    return updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues, {
      quietCase: true,
    });
  }

  /** Traefik's Init refusals: the provider does not start. */
  #initError(): ConfigIssue | undefined {
    const at = (key: string): string[] => ['providers', 'nomad', key];
    if (typeof this.#constraint !== 'function') {
      return issue('error', `invalid constraints: ${this.#constraint.error}`, at('constraints'));
    }
    if (this.#namespace === '*') return issue('error', 'wildcard namespace not supported', at('namespaces'));
    if (this.#cfg.throttleDuration > 0 && !this.#cfg.watch) {
      return issue('error', 'throttle duration should not be used with polling mode', at('throttleDuration'));
    }
    return undefined;
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const refused = this.#initError();
    if (refused !== undefined) {
      yield { config: undefined, issues: [refused] };
      return;
    }
    const constraint = this.#constraint as Constraint;
    const ctl = new AbortController();
    const stop = (): void => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      // As Traefik's pollOrWatch, the stream is open before the first read: nothing is missed.
      const events = this.#cfg.watch ? await this.#eventStream(ctl.signal) : undefined;
      while (!signal.aborted) {
        yield await this.#read(constraint, ctl.signal);
        if (events === undefined) {
          await sleep(this.#cfg.refreshInterval, ctl.signal);
          continue;
        }
        // Traefik sleeps throttleDuration after each configuration it sends.
        if (this.#cfg.throttleDuration > 0) await sleep(this.#cfg.throttleDuration, ctl.signal);
        await events.next();
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof EngineError) throw e;
      const where =
        this.#endpoint.socketPath !== undefined
          ? `unix://${this.#endpoint.socketPath}`
          : this.#endpoint.address;
      throw new EngineError(`nomad ${where}: ${describe(e)}`);
    } finally {
      signal.removeEventListener('abort', stop);
      ctl.abort();
    }
  }

  /**
   * `GET /v1/event/stream?topic=Service:*&index=0`: one JSON frame per line, `{}` a heartbeat.
   * `next()` resolves at the first frame with events since the last call (several count as one,
   * as Traefik's throttled channel keeps one), and rejects when the stream fails or ends.
   */
  async #eventStream(signal: AbortSignal): Promise<{ next(): Promise<void> }> {
    const url = this.#url('/v1/event/stream', { topic: 'Service:*', index: '0' }, false);
    const res = await engineRequest({ url, headers: this.#headers, signal, ...this.#transport });
    if (res.statusCode !== 200) {
      res.resume();
      throw new EngineError(`GET ${url}: status ${res.statusCode}`, res.statusCode ?? 0);
    }
    let pending = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const read = async (body: IncomingMessage): Promise<void> => {
      for await (const line of lines(body)) {
        const frame = JSON.parse(line) as { Events?: unknown[] };
        if (!Array.isArray(frame.Events) || frame.Events.length === 0) continue;
        pending = true;
        wake?.();
      }
      throw new EngineError(`${url}: the event stream ended`);
    };
    read(res).catch((e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      wake?.();
    });
    signal.addEventListener('abort', () => wake?.(), { once: true });
    return {
      next: async () => {
        while (!pending) {
          if (failure !== undefined) throw failure;
          if (signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        pending = false;
      },
    };
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
