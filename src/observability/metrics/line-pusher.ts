/**
 * The push exporters Traefik builds on go-kit: `metrics.statsD` and `metrics.datadog` (UDP
 * datagrams) and `metrics.influxDB2` (HTTP writes). Every `pushInterval`, a timer reads the
 * registry's exposition (the workers' sum on a control plane), turns what each series gained
 * since the last push into lines (push-lines.ts) and sends them; once more at shutdown. Nothing
 * here runs per request. One push at a time, no retries: what a failed push carried is lost, as
 * with go-kit's clients, whose buffers are reset by each write.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from '../../core/logger.ts';
import { WarnLimiter } from '../otlp-http.ts';
import { PeriodicPush } from './periodic-push.ts';
import {
  dogstatsdLines,
  influxLines,
  PushDeltas,
  type PushFilter,
  type PushSeries,
  packDatagrams,
  statsdLines,
} from './push-lines.ts';

/** Where the lines of one push go. */
export interface LineSink {
  /** A short name for the logs (`statsD`, `datadog`, `influxDB2`). */
  readonly name: string;
  readonly target: string;
  send(series: readonly PushSeries[], nowMs: number): Promise<void>;
  close(): void;
}

export interface LinePusherOptions {
  readonly pushIntervalMs: number;
  readonly filter: PushFilter;
  /** The exposition to read (the workers' summed one on a control plane). */
  readonly render: () => string | Promise<string>;
}

export class LinePusher {
  readonly #opts: LinePusherOptions;
  readonly #sink: LineSink;
  readonly #deltas = new PushDeltas();
  readonly #warnings: WarnLimiter;
  readonly #loop: PeriodicPush;
  #failed = 0;

  constructor(opts: LinePusherOptions, sink: LineSink, logger: Logger) {
    this.#opts = opts;
    this.#sink = sink;
    this.#warnings = new WarnLimiter(logger);
    this.#loop = new PeriodicPush(opts.pushIntervalMs, () => this.#send());
  }

  /** One push now (after the one in flight, if any). Never rejects. */
  push(): Promise<void> {
    return this.#loop.push();
  }

  /** Stops the timer and pushes a last time. */
  async close(): Promise<void> {
    this.#loop.stop();
    await this.push();
    this.#sink.close();
  }

  async #send(): Promise<void> {
    try {
      const series = this.#deltas.series(await this.#opts.render(), this.#opts.filter);
      if (series.length > 0) await this.#sink.send(series, Date.now());
    } catch (err) {
      this.#failed++;
      this.#warnings.warn('push', `metrics: ${this.#sink.name} push failed`, {
        address: this.#sink.target,
        failedTotal: this.#failed,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** go-kit's `host:port` (`:port` is this host); IPv6 literals in brackets. */
function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host === '' ? 'localhost' : host, port: Number(address.slice(i + 1)) };
}

/**
 * DogStatsD's default payload limit over UDP (its clients' OptimalUDPPayloadSize), which StatsD
 * servers read too.
 */
const MAX_DATAGRAM = 1432;

/** StatsD or DogStatsD over UDP: the lines in datagrams of at most MAX_DATAGRAM bytes. */
export class UdpLineSink implements LineSink {
  readonly name: string;
  readonly target: string;
  readonly #format: (series: readonly PushSeries[]) => string[];
  readonly #host: string;
  readonly #port: number;
  #socket: UdpSocket | null = null;
  #ip: string | null = null;

  constructor(name: string, address: string, format: (series: readonly PushSeries[]) => string[]) {
    this.name = name;
    this.target = address;
    this.#format = format;
    const { host, port } = splitHostPort(address);
    this.#host = host;
    this.#port = port;
  }

  async #connect(): Promise<UdpSocket> {
    if (this.#socket !== null) return this.#socket;
    // Resolved once, as go-kit's connection manager dials once (again after a failure).
    const ip = isIP(this.#host) !== 0 ? this.#host : (await lookup(this.#host)).address;
    const socket = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    socket.unref();
    socket.on('error', () => this.#drop());
    this.#socket = socket;
    this.#ip = ip;
    return socket;
  }

  #drop(): void {
    this.#socket?.close();
    this.#socket = null;
    this.#ip = null;
  }

  async send(series: readonly PushSeries[]): Promise<void> {
    const socket = await this.#connect();
    const ip = this.#ip!;
    try {
      for (const datagram of packDatagrams(this.#format(series), MAX_DATAGRAM)) {
        await new Promise<void>((resolve, reject) =>
          socket.send(datagram, this.#port, ip, (err) => (err ? reject(err) : resolve())),
        );
      }
    } catch (err) {
      this.#drop();
      throw err;
    }
  }

  close(): void {
    this.#drop();
  }
}

/** `metrics.statsD`: `<prefix>.<name>` lines without labels (go-kit statsd). */
export function statsdSink(address: string, prefix: string): UdpLineSink {
  const p = prefix === '' ? 'traefik' : prefix;
  return new UdpLineSink('statsD', address === '' ? 'localhost:8125' : address, (s) => statsdLines(s, p));
}

/** `metrics.datadog`: DogStatsD lines with tags (go-kit dogstatsd). */
export function datadogSink(address: string, prefix: string): UdpLineSink {
  const p = prefix === '' ? 'traefik' : prefix;
  return new UdpLineSink('datadog', address === '' ? 'localhost:8125' : address, (s) => dogstatsdLines(s, p));
}

/**
 * Traefik's Datadog.SetDefaults: DD_AGENT_HOST (default localhost) and DD_DOGSTATSD_PORT
 * (default 8125), joined as net.JoinHostPort does.
 */
export function datadogDefaultAddress(env: NodeJS.ProcessEnv): string {
  const host = env['DD_AGENT_HOST'] ?? 'localhost';
  const port = env['DD_DOGSTATSD_PORT'] ?? '8125';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface InfluxTarget {
  readonly address: string;
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  readonly additionalLabels: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/**
 * The write endpoint influxdb-client-go's blocking write API posts to: the address, `/api/v2/write`,
 * and org, bucket and precision (nanoseconds) as its query (url.Values.Encode: sorted).
 */
export function influxWriteUrl(t: Pick<InfluxTarget, 'address' | 'org' | 'bucket'>): URL {
  const base = t.address.endsWith('/') ? t.address : `${t.address}/`;
  const url = new URL('api/v2/write', base);
  url.search = new URLSearchParams([
    ['bucket', t.bucket],
    ['org', t.org],
    ['precision', 'ns'],
  ]).toString();
  return url;
}

/** `metrics.influxDB2`: line protocol POSTed with `Authorization: Token …` (influxdb-client-go). */
export class InfluxLineSink implements LineSink {
  readonly name = 'influxDB2';
  readonly target: string;
  readonly #t: InfluxTarget;
  readonly #url: URL;

  constructor(t: InfluxTarget) {
    this.#t = t;
    this.#url = influxWriteUrl(t);
    this.target = this.#url.origin;
  }

  send(series: readonly PushSeries[], nowMs: number): Promise<void> {
    const body = Buffer.from(`${influxLines(series, this.#t.additionalLabels, nowMs).join('\n')}\n`);
    const url = this.#url;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Token ${this.#t.token}`,
            'content-type': 'text/plain; charset=utf-8',
            'content-length': body.length,
          },
          timeout: this.#t.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else
              reject(
                new Error(`HTTP ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200).trim()}`),
              );
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {}
}
