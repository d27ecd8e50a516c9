import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decodeMetricsProto, startOtlpReceiver } from '../../../test/helpers/otlp-receiver.ts';
import { clientTlsOptions } from '../../core/client-tls.ts';
import { silentLogger } from '../../core/logger.ts';
import { TestPki } from '../../upstream/test-pki.ts';
import { OtlpMetricsPusher } from './otlp-pusher.ts';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

async function collector(status: number): Promise<{ base: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      got.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    got,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const FILTER = { addEntryPointsLabels: true, addRoutersLabels: false, addServicesLabels: true, buckets: [1] };

describe('OtlpMetricsPusher', () => {
  it('pushes once more at close, in protobuf to /v1/metrics with the configured headers', async () => {
    const c = await collector(200);
    try {
      const pusher = new OtlpMetricsPusher(
        {
          endpoint: c.base,
          headers: { 'x-tenant': 'one' },
          serviceName: 'edge',
          resourceAttributes: {},
          pushIntervalMs: 3_600_000,
          filter: FILTER,
          render: async () => '# TYPE traefik_config_reloads_total counter\ntraefik_config_reloads_total 4\n',
        },
        silentLogger,
      );
      await pusher.close();
      assert.equal(c.got.length, 1);
      const [r] = c.got;
      assert.equal(r!.path, '/v1/metrics');
      // Go's otlpmetrichttp sends protobuf only.
      assert.equal(r!.headers['content-type'], 'application/x-protobuf');
      // Traefik's exporter compresses (otel.go newHTTPExporter: WithCompression(GzipCompression)).
      assert.equal(r!.headers['content-encoding'], 'gzip');
      assert.equal(r!.headers['x-tenant'], 'one');
      const [point] = decodeMetricsProto(r!.body);
      assert.equal(point!.metric, 'traefik_config_reloads_total');
      assert.equal(point!.type, 'sum');
      assert.equal(point!.asDouble, 4);
      assert.equal(point!.resource['service.name'], 'edge');
      assert.equal(pusher.pushed, 1);
    } finally {
      await c.close();
    }
  });

  it('counts a refused push as failed and warns, without throwing', async () => {
    // 400: not among the statuses Go's exporters retry (otlp-retry.ts).
    const c = await collector(400);
    const warnings: string[] = [];
    try {
      const pusher = new OtlpMetricsPusher(
        {
          endpoint: `${c.base}/custom`,
          headers: {},
          serviceName: 'edge',
          resourceAttributes: {},
          pushIntervalMs: 3_600_000,
          filter: FILTER,
          render: () => '',
        },
        { ...silentLogger, warn: (msg: string) => warnings.push(msg) },
      );
      await pusher.push();
      await pusher.close();
      assert.deepEqual(
        c.got.map((r) => r.path),
        ['/custom', '/custom'],
      );
      assert.equal(pusher.failed, 2);
      assert.deepEqual(warnings, ['metrics: OTLP export failed'], 'one warning a minute at most');
    } finally {
      await c.close();
    }
  });

  it('pushes over TLS with `tls`: the collector checked with its CA, a client certificate shown', async () => {
    const pki = new TestPki();
    const server = pki.issue('collector', ['127.0.0.1']);
    const client = pki.issue('edge', ['edge']);
    const receiver = await startOtlpReceiver({ ...server, clientCaPem: pki.ca.certPem });
    const push = async (tls: Parameters<typeof clientTlsOptions>[0]) => {
      const pusher = new OtlpMetricsPusher(
        {
          endpoint: receiver.base,
          headers: {},
          serviceName: 'edge',
          resourceAttributes: {},
          pushIntervalMs: 3_600_000,
          filter: FILTER,
          render: () => '# TYPE traefik_config_reloads_total counter\ntraefik_config_reloads_total 1\n',
          tls: clientTlsOptions(tls),
        },
        silentLogger,
      );
      await pusher.close();
      return pusher;
    };
    try {
      // Files, as Traefik's types.ClientTLS takes them (PEM text works too).
      const ok = await push({
        ca: pki.ca.certFile,
        cert: client.certFile,
        key: client.keyFile,
        insecureSkipVerify: false,
      });
      assert.equal(ok.pushed, 1);
      assert.equal(receiver.metricExports.length, 1);
      assert.equal(
        (await push({ cert: client.certPem, key: client.keyPem, insecureSkipVerify: false })).failed,
        1,
        'the system CAs do not know the collector',
      );
      assert.equal(
        (await push({ ca: pki.ca.certPem, insecureSkipVerify: false })).failed,
        1,
        'no client certificate',
      );
      assert.equal(
        (await push({ cert: client.certPem, key: client.keyPem, insecureSkipVerify: true })).pushed,
        1,
      );
      assert.equal(receiver.metricExports.length, 2);
    } finally {
      await receiver.close();
      pki.remove();
    }
  });
});
