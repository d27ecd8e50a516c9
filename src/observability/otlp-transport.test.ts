import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import {
  batchEnv,
  createSender,
  detectedResource,
  exporterEnv,
  metricExportTimeout,
  resourceFromEnv,
} from './otlp-transport.ts';

const noWarn = (msg: string): never => assert.fail(msg);

describe('exporterEnv (OTEL_EXPORTER_OTLP_*, as Go otlpconfig reads them)', () => {
  it('reads the timeout in milliseconds, the signal’s own variable winning', () => {
    assert.deepEqual(exporterEnv('traces', { OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, noWarn), {
      timeoutMs: 2500,
    });
    assert.deepEqual(
      exporterEnv(
        'metrics',
        { OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '700' },
        noWarn,
      ),
      { timeoutMs: 700 },
    );
    const warnings: string[] = [];
    assert.deepEqual(
      exporterEnv('traces', { OTEL_EXPORTER_OTLP_TIMEOUT: '2s' }, (m) => warnings.push(m)),
      {},
    );
    assert.match(warnings[0]!, /OTEL_EXPORTER_OTLP_TIMEOUT/);
  });

  it('takes insecure from the endpoint’s scheme and from _INSECURE, and the endpoint’s path', () => {
    assert.deepEqual(exporterEnv('traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base/' }, noWarn), {
      insecure: true,
      urlPath: '/base/v1/traces',
    });
    assert.deepEqual(exporterEnv('traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318' }, noWarn), {
      insecure: false,
      urlPath: '/v1/traces',
    });
    assert.deepEqual(
      exporterEnv(
        'metrics',
        { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://c:4318/custom', OTEL_EXPORTER_OTLP_INSECURE: 'TRUE' },
        noWarn,
      ),
      { insecure: true, urlPath: '/custom' },
    );
  });

  it('reads the CA and the client certificate files for TLS', () => {
    const files: Record<string, string> = { '/ca.pem': 'CA', '/c.pem': 'CERT', '/k.pem': 'KEY' };
    const env = {
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.pem',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/c.pem',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/k.pem',
    };
    assert.deepEqual(
      exporterEnv('traces', env, noWarn, (p) => files[p]!),
      {
        tls: { ca: 'CA', cert: 'CERT', key: 'KEY' },
      },
    );
    // Another signal's variables are not read.
    assert.deepEqual(
      exporterEnv('metrics', env, noWarn, (p) => files[p]!),
      { tls: { ca: 'CA' } },
    );
  });
});

describe('createSender', () => {
  it('posts to the endpoint’s own path, else to the environment’s, else to /v1/<signal>', () => {
    const url = (endpoint: string, env: Record<string, string> = {}) => {
      const s = createSender('traces', { endpoint, headers: {}, env }, 10_000, silentLogger);
      s.close();
      return s.url;
    };
    assert.equal(url('http://c:4318'), 'http://c:4318/v1/traces');
    assert.equal(url('http://c:4318/mine'), 'http://c:4318/mine');
    // Go's cleanPath: a trailing slash, `//` and `.` segments go.
    assert.equal(url('http://c:4318/otlp//v1/./traces/'), 'http://c:4318/otlp/v1/traces');
    assert.equal(url('http://c:4318/'), 'http://c:4318/');
    assert.equal(
      url('http://c:4318', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:1/theirs' }),
      'http://c:4318/theirs',
    );
    assert.equal(
      url('http://c:4318/mine', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:1/theirs' }),
      'http://c:4318/mine',
    );
    // The host and port are always Traefik's (WithEndpoint); Insecure from the environment makes it cleartext.
    assert.equal(url('https://c:4318', { OTEL_EXPORTER_OTLP_INSECURE: 'true' }), 'http://c:4318/v1/traces');
  });

  it('makes a gRPC client for a `grpc` section, TLS unless insecure', () => {
    const url = (insecure: boolean, env: Record<string, string> = {}) => {
      const s = createSender(
        'metrics',
        { endpoint: 'c:4317', headers: {}, grpc: { insecure }, env },
        10_000,
        silentLogger,
      );
      s.close();
      return s.url;
    };
    assert.equal(url(false), 'https://c:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(url(true), 'http://c:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(url(false, { OTEL_EXPORTER_OTLP_INSECURE: 'true' }).slice(0, 5), 'http:');
  });
});

describe('resourceFromEnv (Go resource/env.go)', () => {
  it('reads key=value pairs, trimmed and percent-decoded; OTEL_SERVICE_NAME wins for service.name', () => {
    assert.deepEqual(resourceFromEnv({}), {});
    assert.deepEqual(
      resourceFromEnv({
        OTEL_RESOURCE_ATTRIBUTES: ' a = 1 ,b=x%2Cy, service.name=s1',
        OTEL_SERVICE_NAME: 's2',
      }),
      { a: '1', b: 'x,y', 'service.name': 's2' },
    );
    assert.deepEqual(resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'bad=%zz' }), { bad: '%zz' });
  });

  it('throws on a pair without `=`, an empty one included (a partial resource)', () => {
    assert.throws(() => resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,' }), /missing value/);
    assert.throws(() => resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a' }), /missing value: \[a\]/);
  });
});

describe('detectedResource (Traefik’s WithHost, WithOS, WithProcess)', () => {
  it('names the host, the OS as Go’s GOOS, and the process', () => {
    const r = detectedResource({});
    assert.equal(r['host.name'], hostname());
    assert.equal(r['os.type'], 'linux');
    assert.equal(r['process.pid'], process.pid);
    assert.equal(r['process.executable.path'], process.execPath);
    assert.equal(r['process.runtime.version'], process.versions.node);
    assert.equal(typeof r['process.owner'], 'string');
  });
});

describe('batchEnv (OTEL_BSP_*, OTEL_BLRP_*: the Go SDK’s batch processors)', () => {
  it('reads the delay, the queue and the batch, cutting a batch larger than the queue', () => {
    assert.deepEqual(batchEnv('BSP', {}, noWarn), {});
    assert.deepEqual(
      batchEnv(
        'BSP',
        {
          OTEL_BSP_SCHEDULE_DELAY: '250',
          OTEL_BSP_MAX_QUEUE_SIZE: '100',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1000',
        },
        noWarn,
      ),
      { scheduleDelayMs: 250, maxQueue: 100, maxBatch: 100 },
    );
    assert.deepEqual(
      batchEnv('BLRP', { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '7', OTEL_BSP_MAX_QUEUE_SIZE: '1' }, noWarn),
      {
        maxBatch: 7,
      },
    );
    const warnings: string[] = [];
    assert.deepEqual(
      batchEnv('BSP', { OTEL_BSP_SCHEDULE_DELAY: '5s' }, (m) => warnings.push(m)),
      {},
    );
    assert.equal(warnings.length, 1);
  });

  it('reads EXPORT_TIMEOUT in milliseconds, 0 or less being no deadline (if ExportTimeout > 0)', () => {
    assert.deepEqual(batchEnv('BSP', { OTEL_BSP_EXPORT_TIMEOUT: '1500' }, noWarn), { exportTimeoutMs: 1500 });
    assert.deepEqual(batchEnv('BLRP', { OTEL_BLRP_EXPORT_TIMEOUT: '0' }, noWarn), { exportTimeoutMs: 0 });
    assert.deepEqual(batchEnv('BSP', { OTEL_BSP_EXPORT_TIMEOUT: '-5' }, noWarn), { exportTimeoutMs: 0 });
    const warnings: string[] = [];
    assert.deepEqual(
      batchEnv('BSP', { OTEL_BSP_EXPORT_TIMEOUT: '2s' }, (m) => warnings.push(m)),
      {},
    );
    assert.equal(warnings.length, 1);
  });

  it('OTEL_METRIC_EXPORT_TIMEOUT: above 0 only (the periodic reader keeps 30 s otherwise)', () => {
    assert.equal(metricExportTimeout({ OTEL_METRIC_EXPORT_TIMEOUT: '800' }, noWarn), 800);
    assert.equal(metricExportTimeout({}, noWarn), undefined);
    const warnings: string[] = [];
    assert.equal(
      metricExportTimeout({ OTEL_METRIC_EXPORT_TIMEOUT: '0' }, (m) => warnings.push(m)),
      undefined,
    );
    assert.equal(warnings.length, 1);
  });
});
