/**
 * metrics.statsD, metrics.datadog and metrics.influxDB2 end to end: the real proxy pushes what
 * its requests counted to a UDP receiver (StatsD, DogStatsD) or an HTTP one (InfluxDB v2's write
 * API) on loopback, in the lines Traefik's go-kit clients write.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { get, getMany, killWorkers, startWorkers } from '../helpers/workers.ts';

interface Waiter {
  readonly pred: () => boolean;
  readonly resolve: () => void;
}

/** Lines received, and a way to wait until they say something. */
class Received {
  readonly lines: string[] = [];
  readonly #waiters: Waiter[] = [];

  add(lines: readonly string[]): void {
    this.lines.push(...lines);
    for (const w of [...this.#waiters])
      if (w.pred()) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
  }

  until(pred: (lines: readonly string[]) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (pred(this.lines)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; got:\n${this.lines.join('\n')}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred: () => pred(this.lines),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

interface UdpReceiver {
  readonly port: number;
  readonly got: Received;
  readonly datagrams: string[];
  close(): Promise<void>;
}

async function udpReceiver(): Promise<UdpReceiver> {
  const socket: Socket = createSocket('udp4');
  const got = new Received();
  const datagrams: string[] = [];
  socket.on('message', (msg) => {
    const text = msg.toString('utf8');
    datagrams.push(text);
    got.add(text.split('\n').filter((l) => l !== ''));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: (socket.address() as AddressInfo).port,
    got,
    datagrams,
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** The sum of a counter's values over the lines that start with `prefix` (the deltas of each push). */
function total(lines: readonly string[], prefix: string): number {
  let n = 0;
  for (const l of lines) if (l.startsWith(prefix)) n += Number(l.slice(prefix.length).split('|')[0]);
  return n;
}

const ROUTES = (backend: Backend) => `http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;

describe('metrics.statsD, metrics.datadog, metrics.influxDB2', () => {
  let backend: Backend;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('hello'));
  });

  after(async () => {
    await backend?.close();
  });

  it('StatsD and DogStatsD: the requests counted, pushed every pushInterval over UDP', async () => {
    const statsd = await udpReceiver();
    const dd = await udpReceiver();
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  statsD:
    address: "127.0.0.1:${statsd.port}"
    pushInterval: 50ms
    prefix: edge
  datadog:
    address: "127.0.0.1:${dd.port}"
    pushInterval: 50ms
    addRoutersLabels: true
${ROUTES(backend)}`,
        entryPoints: 1,
      });
      const replies = await getMany(proxy.ports['web']!, 3);
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200, 200],
      );
      // StatsD (go-kit statsd): no labels, counters as each interval's share, timings in ms.
      await statsd.got.until(
        (l) =>
          total(l, 'edge.service.request.total:') === 3 && total(l, 'edge.entrypoint.request.total:') === 3,
        'three requests in the StatsD counters',
      );
      assert.ok(
        statsd.got.lines.some((l) =>
          /^edge\.entrypoint\.request\.duration:\d+\.\d{6}\|ms(\|@[\d.]+)?$/.test(l),
        ),
      );
      assert.ok(
        total(statsd.got.lines, 'edge.entrypoint.responses.bytes.total:') >= 15,
        'three "hello" bodies',
      );
      assert.ok(
        !statsd.got.lines.some((l) => l.startsWith('edge.router.')),
        'addRoutersLabels is false by default',
      );
      assert.ok(statsd.got.lines.some((l) => /^edge\.open\.connections:\d+\.000000\|g$/.test(l)));
      assert.ok(
        statsd.datagrams.every((d) => d.endsWith('\n')),
        'each line ends with a newline',
      );
      // DogStatsD (go-kit dogstatsd): the labels as tags in Traefik's order, durations in seconds.
      const tagsEp = '|c|#entrypoint:web,method:GET,protocol:http,code:200';
      await dd.got.until(
        (l) =>
          total(
            l.filter((x) => x.endsWith(tagsEp)),
            'traefik.entrypoint.request.total:',
          ) === 3 &&
          total(
            l.filter((x) =>
              x.endsWith('|#router:app@file,service:app@file,method:GET,protocol:http,code:200'),
            ),
            'traefik.router.request.total:',
          ) === 3,
        'three requests in the DogStatsD counters',
      );
      // A service's duration is observed when the exchange ends, after its count (at the
      // response head): a push can carry the count before it (ci50 saw that once).
      await dd.got.until(
        (lines) =>
          lines.some((l) =>
            /^traefik\.service\.request\.duration:0\.\d{6}\|h(\|@[\d.]+)?\|#service:app@file,method:GET,protocol:http,code:200$/.test(
              l,
            ),
          ),
        'the service duration in the DogStatsD lines',
      );
      assert.ok(
        dd.got.lines.some((l) =>
          /^traefik\.open\.connections:\d+\.000000\|g\|#entrypoint:web,protocol:TCP$/.test(l),
        ),
      );
    } finally {
      await proxy?.stop();
      await Promise.all([statsd.close(), dd.close()]);
    }
  });

  it('Datadog: the agent address from DD_AGENT_HOST and DD_DOGSTATSD_PORT when none is written; Prometheus beside it keeps its buckets', async () => {
    const dd = await udpReceiver();
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { insecure: true }
metrics:
  prometheus: { buckets: [0.3, 5] }
  datadog:
    pushInterval: 50ms
    prefix: dd
${ROUTES(backend)}`,
        env: { DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(dd.port) },
      });
      await getMany(proxy.ports['web']!, 2);
      await dd.got.until(
        (l) => total(l, 'dd.entrypoint.request.total:') === 2,
        'two requests, sent to the agent the environment names',
      );
      // The registry holds the push exporters' finer bounds too; /metrics shows Prometheus's only.
      const scrape = await get(proxy.ports['traefik']!, '/metrics');
      const les = new Set(
        [
          ...scrape.body.matchAll(/^traefik_entrypoint_request_duration_seconds_bucket\{[^}]*le="([^"]+)"/gm),
        ].map((m) => m[1]),
      );
      assert.deepEqual([...les].sort(), ['+Inf', '0.3', '5']);
    } finally {
      await proxy?.stop();
      await dd.close();
    }
  });

  it('InfluxDB v2: line protocol POSTed to /api/v2/write with the token (read from its file), org and bucket', async () => {
    const got = new Received();
    const requests: { url: string; auth: string | undefined; type: string | undefined }[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({
          url: req.url ?? '',
          auth: req.headers.authorization,
          type: req.headers['content-type'],
        });
        res.statusCode = 204;
        res.end();
        got.add(
          Buffer.concat(chunks)
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  influxDB2:
    address: "http://127.0.0.1:${port}/influx"
    token: ./influx-token
    org: my org
    bucket: b1
    pushInterval: 50ms
    additionalLabels: { host: edge-1 }
${ROUTES(backend)}`,
        files: { 'influx-token': 's3cr3t' },
        entryPoints: 1,
      });
      await getMany(proxy.ports['web']!, 3);
      const counted = (l: readonly string[]) =>
        l
          .filter((x) =>
            x.startsWith(
              'traefik.entrypoint.requests.total,code=200,entrypoint=web,host=edge-1,method=GET,protocol=http count=',
            ),
          )
          .reduce((n, x) => n + Number(/ count=(\S+) /.exec(x)![1]), 0);
      await got.until((l) => counted(l) === 3, 'three requests in the InfluxDB points');
      assert.equal(requests[0]!.url, '/influx/api/v2/write?bucket=b1&org=my+org&precision=ns');
      assert.equal(requests[0]!.auth, 'Token s3cr3t');
      assert.equal(requests[0]!.type, 'text/plain; charset=utf-8');
      assert.ok(
        got.lines.some((l) =>
          /^traefik\.service\.request\.duration,code=200,host=edge-1,method=GET,protocol=http,service=app@file p50=[\d.]+,p90=[\d.]+,p95=[\d.]+,p99=[\d.]+ \d{19}$/.test(
            l,
          ),
        ),
        got.lines.join('\n'),
      );
      assert.ok(
        got.lines.some((l) =>
          /^traefik\.open\.connections,entrypoint=web,host=edge-1,protocol=TCP value=\d+ \d{19}$/.test(l),
        ),
      );
    } finally {
      await proxy?.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('with workers, the control plane pushes their sum; at shutdown, what the last interval counted', async () => {
    const statsd = await udpReceiver();
    const proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web:
    address: "127.0.0.1:0"
metrics:
  statsD:
    address: "127.0.0.1:${statsd.port}"
    pushInterval: 1h
${ROUTES(backend)}`,
      entryPoints: 1,
    });
    try {
      const replies = await getMany(proxy.ports['web']!, 40);
      assert.ok(replies.every((r) => r.status === 200));
      // pushInterval is an hour: what arrives comes from the shutdown.
      assert.equal(await proxy.stop('SIGTERM', 30_000), 0);
      await statsd.got.until(
        (l) => total(l, 'traefik.entrypoint.request.total:') === 40,
        'the sum of both workers, pushed at shutdown',
      );
    } finally {
      await killWorkers(proxy);
      await statsd.close();
    }
  });

  it('InfluxDB v2 without a token, org or bucket: logged, and no metrics sent (Traefik’s newInfluxDB2Client)', async () => {
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO, format: json }
metrics:
  influxDB2:
    address: "http://127.0.0.1:9"
    org: o
${ROUTES(backend)}`,
      entryPoints: 1,
    });
    try {
      const line = await proxy.waitForLog((l) => String(l.msg).includes('metrics.influxDB2'));
      assert.equal(line.level, 'error');
      assert.match(String(line.msg), /token, org or bucket property is missing/);
    } finally {
      await proxy.stop();
    }
  });
});
