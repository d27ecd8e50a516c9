import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedFamily, parseExposition, sampleValue } from './test-exposition-parser.ts';
import { GET, requestHead } from './test-request-head.ts';
import { goCipherName, goTlsVersion } from './tls-labels.ts';
import { TrafficMetrics } from './traffic-metrics.ts';
import type { MetricsOptions } from './types.ts';

const ALL_ON: MetricsOptions = {
  buckets: [0.1, 0.3, 1.2, 5],
  addEntryPointsLabels: true,
  addRoutersLabels: true,
  addServicesLabels: true,
  processMetrics: false,
};

function scrape(metrics: TrafficMetrics): Map<string, ParsedFamily> {
  return parseExposition(metrics.render());
}

function requestFamilies(families: Map<string, ParsedFamily>): string[] {
  return [...families.keys()].filter((name) => name.startsWith('traefik_'));
}

/** Traefik's labels of a GET answered `code` over plain HTTP. */
function get(code: string): { code: string; method: string; protocol: string } {
  return { code, method: 'GET', protocol: 'http' };
}

describe('TrafficMetrics', () => {
  it('counts durations into cumulative buckets where a duration equal to a bound is in that bucket', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'api@file', 'app@file');
    for (const seconds of [0.05, 0.1, 0.2, 2, 10]) series.observe(200, seconds, 0, 0, GET, null);
    const families = scrape(metrics);
    const h = 'traefik_service_request_duration_seconds';
    const labels = { service: 'app@file', ...get('200') };
    assert.deepEqual(
      ['0.1', '0.3', '1.2', '5', '+Inf'].map((le) => sampleValue(families, `${h}_bucket`, { ...labels, le })),
      [2, 3, 3, 4, 5],
    );
    assert.equal(sampleValue(families, `${h}_count`, labels), 5);
    assert.ok(Math.abs(sampleValue(families, `${h}_sum`, labels)! - 12.35) < 1e-9);
    assert.equal(sampleValue(families, 'traefik_service_requests_total', labels), 5);
  });

  it('labels requests by their exact status code, method and protocol, as Traefik does', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    for (const status of [100, 204, 204, 301, 404, 404, 500, 599, 0])
      series.observe(status, 0.01, 0, 0, GET, null);
    series.observe(200, 0.01, 0, 0, requestHead('PROPFIND'), null);
    series.observe(101, 0.01, 0, 0, GET, 'websocket');
    series.observe(200, 0.01, 0, 0, requestHead('GET', [['Accept', 'text/html, Text/Event-Stream']]), null);
    series.observe(200, 0.01, 0, 0, requestHead('POST', [['Content-Type', 'application/grpc+proto']]), null);
    series.observe(
      200,
      0.01,
      0,
      0,
      requestHead('POST', [['Content-Type', 'application/grpc-web-text']]),
      null,
    );
    const families = scrape(metrics);
    const count = (labels: Record<string, string>) =>
      sampleValue(families, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...labels });
    assert.deepEqual(
      ['100', '204', '301', '404', '500', '599', '0'].map((c) => count(get(c))),
      [1, 2, 1, 2, 1, 1, 1],
    );
    assert.equal(count({ code: '200', method: 'EXTENSION_METHOD', protocol: 'http' }), 1);
    assert.equal(count({ code: '101', method: 'GET', protocol: 'websocket' }), 1);
    assert.equal(count({ code: '200', method: 'GET', protocol: 'sse' }), 1);
    // A gRPC request's code is its gRPC status: Unknown (2) when the answer had no grpc-status.
    assert.equal(count({ code: '2', method: 'POST', protocol: 'grpc' }), 1);
    assert.equal(count({ code: '2', method: 'POST', protocol: 'grpc-web' }), 1);
    const rows = families.get('traefik_service_requests_total')!.samples;
    assert.equal(rows.length, 12, 'one series per (code, method, protocol) seen');
    assert.deepEqual(Object.keys(rows[0]!.labels).sort(), ['code', 'method', 'protocol', 'service']);
  });

  it('counts a request no router took on its entry point only', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', '', '').observe(404, 0.001, 0, 19, GET, null);
    const families = scrape(metrics);
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('404') }),
      1,
    );
    assert.equal(families.has('traefik_router_requests_total'), false);
    assert.equal(families.has('traefik_service_requests_total'), false);
  });

  it('adds up requests and bytes of every router that shares an entry point or a service', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'a', 'svc').observe(200, 0.01, 10, 100, GET, null);
    metrics.requestSeries('web', 'b', 'svc').observe(200, 0.01, 5, 50, GET, null);
    metrics.requestSeries('admin', 'c', 'other').observe(200, 0.01, 1, 1, GET, null);
    const families = scrape(metrics);
    const ok = get('200');
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_requests_bytes_total', { entrypoint: 'web', ...ok }),
      15,
    );
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_responses_bytes_total', { entrypoint: 'web', ...ok }),
      150,
    );
    assert.equal(sampleValue(families, 'traefik_service_requests_total', { service: 'svc', ...ok }), 2);
    assert.equal(
      sampleValue(families, 'traefik_router_requests_total', { router: 'a', service: 'svc', ...ok }),
      1,
    );
    assert.equal(
      sampleValue(families, 'traefik_router_responses_bytes_total', { router: 'b', service: 'svc', ...ok }),
      50,
    );
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_requests_bytes_total', { entrypoint: 'admin', ...ok }),
      1,
    );
  });

  it("labels gRPC and gRPC-Web requests with the answer's grpc-status, read as gRPC's Code.UnmarshalJSON", () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    const grpc = requestHead('POST', [['Content-Type', 'application/grpc']]);
    const grpcWeb = requestHead('POST', [['Content-Type', 'application/grpc-web+proto']]);
    for (const value of ['0', '9', '16', '"NOT_FOUND"', '17', 'OK', '"ok"', '', ' 1', '-1', undefined])
      series.observe(200, 0.01, 0, 0, grpc, null, value);
    series.observe(200, 0.01, 0, 0, grpcWeb, null, '14');
    // Not a gRPC request: the HTTP status, whatever grpc-status the answer had.
    series.observe(200, 0.01, 0, 0, GET, null, '5');
    const families = scrape(metrics);
    const count = (code: string, protocol = 'grpc', method = 'POST') =>
      sampleValue(families, 'traefik_service_requests_total', { service: 's', code, method, protocol });
    assert.equal(count('0'), 1);
    assert.equal(count('9'), 1);
    assert.equal(count('16'), 1);
    assert.equal(count('5'), 1, 'a quoted code name');
    assert.equal(count('2'), 7, 'out of range, unquoted or lower-case names, blanks, signs, none: Unknown');
    assert.equal(count('14', 'grpc-web'), 1);
    assert.equal(count('200', 'http', 'GET'), 1);
    assert.equal(count('5', 'http', 'GET'), undefined);
  });

  it('counts a try that was not the answer on the service only, with its own status and no bytes', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    series.tryEnded(502, 0.05, GET, null);
    series.tryEnded(504, 2, GET, null);
    series.retry();
    series.retry();
    series.observe(200, 2.5, 7, 11, GET, null);
    const families = scrape(metrics);
    const svc = (name: string, code: string) => sampleValue(families, name, { service: 's', ...get(code) });
    assert.equal(svc('traefik_service_requests_total', '502'), 1);
    assert.equal(svc('traefik_service_requests_total', '504'), 1);
    assert.equal(svc('traefik_service_requests_total', '200'), 1);
    assert.equal(svc('traefik_service_requests_bytes_total', '502'), 0);
    assert.equal(svc('traefik_service_requests_bytes_total', '200'), 7);
    assert.equal(svc('traefik_service_request_duration_seconds_sum', '504'), 2);
    assert.equal(sampleValue(families, 'traefik_service_retries_total', { service: 's' }), 2);
    for (const [family, labels] of [
      ['traefik_router_requests_total', { router: 'r', service: 's' }],
      ['traefik_entrypoint_requests_total', { entrypoint: 'web' }],
    ] as const) {
      assert.equal(sampleValue(families, family, { ...labels, ...get('200') }), 1);
      assert.equal(sampleValue(families, family, { ...labels, ...get('502') }), undefined);
    }
  });

  it("gives the service level its own duration (its last try's) and the others the request's", () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    series.observe(200, 2, 0, 0, GET, null, undefined, 0.2);
    series.observe(200, 0.05, 0, 0, GET, null, undefined, -1);
    const families = scrape(metrics);
    const sum = (level: string, labels: Record<string, string>, suffix = 'sum') =>
      sampleValue(families, `traefik_${level}_request_duration_seconds_${suffix}`, {
        ...labels,
        ...get('200'),
      });
    assert.equal(sum('entrypoint', { entrypoint: 'web' }), 2.05);
    assert.equal(sum('router', { router: 'r', service: 's' }), 2.05);
    assert.equal(sum('service', { service: 's' }), 0.25);
    assert.equal(
      sampleValue(families, 'traefik_service_request_duration_seconds_bucket', {
        service: 's',
        ...get('200'),
        le: '0.3',
      }),
      2,
    );
    assert.equal(
      sampleValue(families, 'traefik_router_request_duration_seconds_bucket', {
        router: 'r',
        service: 's',
        ...get('200'),
        le: '0.3',
      }),
      1,
    );
  });

  it("gives the service level its own answer's status and bytes where a router middleware changed them", () => {
    // Traefik's service metrics sit below the router's middlewares (pkg/middlewares/metrics):
    // buffering refusing a 200 of 31 bytes answers 500 with 21; compress sends 40 of 100.
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    series.observe(500, 0.5, 3, 21, GET, null, undefined, 0.2, 200, 31);
    series.observe(200, 0.5, 0, 40, GET, null, undefined, 0.2, 200, 100);
    series.observe(200, 0.5, 0, 9, GET, null, undefined, 0.2, 200, -1);
    const families = scrape(metrics);
    const value = (family: string, labels: Record<string, string>) => sampleValue(families, family, labels);
    const levels = [
      ['entrypoint', { entrypoint: 'web' }],
      ['router', { router: 'r', service: 's' }],
    ] as const;
    for (const [level, labels] of levels) {
      assert.equal(value(`traefik_${level}_requests_total`, { ...labels, ...get('500') }), 1, level);
      assert.equal(value(`traefik_${level}_responses_bytes_total`, { ...labels, ...get('500') }), 21, level);
      assert.equal(value(`traefik_${level}_responses_bytes_total`, { ...labels, ...get('200') }), 49, level);
      assert.equal(value(`traefik_${level}_request_duration_seconds_sum`, { ...labels, ...get('200') }), 1);
    }
    const svc = { service: 's' };
    assert.equal(value('traefik_service_requests_total', { ...svc, ...get('500') }), undefined);
    assert.equal(value('traefik_service_requests_total', { ...svc, ...get('200') }), 3);
    assert.equal(value('traefik_service_responses_bytes_total', { ...svc, ...get('200') }), 140);
    assert.equal(value('traefik_service_requests_bytes_total', { ...svc, ...get('200') }), 3);
    assert.equal(
      value('traefik_service_request_duration_seconds_sum', { ...svc, ...get('200') }),
      0.6000000000000001,
    );
  });

  it('counts retries per service and shows zero for a service that never retried', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const a = metrics.requestSeries('web', 'r1', 'a');
    metrics.requestSeries('web', 'r2', 'b');
    a.retry();
    a.retry();
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traefik_service_retries_total', { service: 'a' }), 2);
    assert.equal(sampleValue(families, 'traefik_service_retries_total', { service: 'b' }), 0);
  });

  it('treats NaN or negative durations and byte counts as zero instead of poisoning the sums', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    series.observe(200, Number.NaN, Number.NaN, -5, GET, null);
    series.observe(200, -1, 3, 4, GET, null);
    const families = scrape(metrics);
    const labels = { entrypoint: 'web', ...get('200') };
    assert.equal(sampleValue(families, 'traefik_entrypoint_request_duration_seconds_sum', labels), 0);
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_request_duration_seconds_bucket', { ...labels, le: '0.1' }),
      2,
    );
    assert.equal(sampleValue(families, 'traefik_entrypoint_requests_bytes_total', labels), 3);
    assert.equal(sampleValue(families, 'traefik_entrypoint_responses_bytes_total', labels), 4);
  });

  it('escapes quotes, backslashes and line feeds in label values so that they read back unchanged', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const nasty = 'a"b\\c\nd';
    metrics.requestSeries(nasty, nasty, nasty).observe(200, 0.01, 1, 1, GET, null);
    metrics.entryPoint(nasty).connectionOpened();
    const text = metrics.render();
    assert.ok(text.includes('entrypoint="a\\"b\\\\c\\nd"'));
    const families = parseExposition(text);
    assert.equal(
      sampleValue(families, 'traefik_service_requests_total', { service: nasty, ...get('200') }),
      1,
    );
    assert.equal(
      sampleValue(families, 'traefik_open_connections', { entrypoint: nasty, protocol: 'TCP' }),
      1,
    );
    assert.equal(
      sampleValue(families, 'traefik_router_requests_total', {
        router: nasty,
        service: nasty,
        ...get('200'),
      }),
      1,
    );
  });

  it('renders only the label families that are switched on', () => {
    const cases: Array<[Partial<MetricsOptions>, string[]]> = [
      [
        { addEntryPointsLabels: false, addRoutersLabels: false, addServicesLabels: false },
        ['traefik_open_connections', 'traefik_entrypoint_open_connections'],
      ],
      [
        { addEntryPointsLabels: false, addServicesLabels: false },
        ['traefik_router_', 'traefik_open_connections', 'traefik_entrypoint_open_connections'],
      ],
      [
        { addRoutersLabels: false, addServicesLabels: false },
        ['traefik_entrypoint_', 'traefik_open_connections'],
      ],
      [
        { addEntryPointsLabels: false, addRoutersLabels: false },
        ['traefik_service_', 'traefik_open_connections', 'traefik_entrypoint_open_connections'],
      ],
    ];
    for (const [toggles, prefixes] of cases) {
      const metrics = new TrafficMetrics({ ...ALL_ON, ...toggles });
      const series = metrics.requestSeries('web', 'r', 's');
      series.observe(200, 0.01, 1, 1, GET, null);
      series.retry();
      metrics.entryPoint('web').connectionOpened();
      const names = requestFamilies(scrape(metrics));
      assert.ok(
        names.every((name) => prefixes.some((p) => name.startsWith(p))),
        `${JSON.stringify(toggles)}: ${names.join(' ')}`,
      );
      for (const p of prefixes)
        assert.ok(
          names.some((name) => name.startsWith(p)),
          `${p} missing`,
        );
    }
  });

  it('renders the whole family set for each level when everything is on', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 1, 1, GET, null);
    metrics.entryPoint('web');
    assert.deepEqual(requestFamilies(scrape(metrics)), [
      'traefik_entrypoint_open_connections',
      'traefik_entrypoint_request_duration_seconds',
      'traefik_entrypoint_requests_bytes_total',
      'traefik_entrypoint_requests_total',
      'traefik_entrypoint_responses_bytes_total',
      'traefik_open_connections',
      'traefik_router_request_duration_seconds',
      'traefik_router_requests_bytes_total',
      'traefik_router_requests_total',
      'traefik_router_responses_bytes_total',
      'traefik_service_request_duration_seconds',
      'traefik_service_requests_bytes_total',
      'traefik_service_requests_total',
      'traefik_service_responses_bytes_total',
      'traefik_service_retries_total',
    ]);
  });

  it("keeps Traefik's names for Traefik's families and puts the configured prefix on ours", () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, prefix: 'edge' });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 1, 1, GET, null);
    metrics.tunnels.opened('r', 's');
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traefik_service_requests_total', { service: 's', ...get('200') }), 1);
    assert.equal(sampleValue(families, 'edge_tunnels_open', { router: 'r', service: 's' }), 1);
    assert.ok(families.has('edge_metrics_collector_errors_total'));
    assert.throws(() => new TrafficMetrics({ ...ALL_ON, prefix: 'bad-prefix' }), RangeError);
  });

  it('returns the same series object for the same names and distinct ones otherwise', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const a = metrics.requestSeries('web', 'r', 's');
    assert.equal(metrics.requestSeries('web', 'r', 's'), a);
    assert.notEqual(metrics.requestSeries('web', 'r', 's2'), a);
    assert.notEqual(metrics.requestSeries('web', 'r2', 's'), a);
    // Names containing the key separator must not collide with their neighbours.
    assert.notEqual(
      metrics.requestSeries('web\u0000r', 's', ''),
      metrics.requestSeries('web', 'r\u0000s', ''),
    );
    assert.equal(metrics.entryPoint('web'), metrics.entryPoint('web'));
    assert.notEqual(metrics.entryPoint('web'), metrics.entryPoint('websecure'));
  });

  it('tracks open connections per entry point', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const web = metrics.entryPoint('web');
    web.connectionOpened();
    web.connectionOpened();
    web.connectionClosed();
    metrics.entryPoint('idle');
    const families = scrape(metrics);
    for (const name of ['traefik_open_connections', 'traefik_entrypoint_open_connections']) {
      assert.equal(sampleValue(families, name, { entrypoint: 'web', protocol: 'TCP' }), 1);
      assert.equal(sampleValue(families, name, { entrypoint: 'idle', protocol: 'TCP' }), 0);
    }
  });

  it('sorts, dedupes and drops non-finite buckets, always ending with +Inf', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, buckets: [5, 0.5, 5, Infinity, 1] });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.7, 0, 0, GET, null);
    const les = scrape(metrics)
      .get('traefik_service_request_duration_seconds')!
      .samples.filter((s) => s.name.endsWith('_bucket'))
      .map((s) => [s.labels['le'], s.value]);
    assert.deepEqual(les, [
      ['0.5', 0],
      ['1', 1],
      ['5', 1],
      ['+Inf', 1],
    ]);
  });

  it('has only the +Inf bucket when no buckets are configured', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, buckets: [] });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.7, 0, 0, GET, null);
    const samples = scrape(metrics).get('traefik_service_request_duration_seconds')!.samples;
    assert.deepEqual(
      samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels['le']),
      ['+Inf'],
    );
  });

  it('forgets routers and services that a reload removed, keeping the live ones', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const kept = metrics.requestSeries('web', 'keep', 'live');
    const gone = metrics.requestSeries('web', 'gone', 'dead');
    kept.observe(200, 0.01, 0, 0, GET, null);
    gone.observe(200, 0.01, 0, 0, GET, null);
    metrics.prune({ routers: new Set(['keep']), services: new Set(['live']) });
    gone.observe(200, 0.01, 0, 0, GET, null);
    const families = scrape(metrics);
    assert.equal(
      sampleValue(families, 'traefik_service_requests_total', { service: 'dead', ...get('200') }),
      undefined,
    );
    assert.equal(
      sampleValue(families, 'traefik_router_requests_total', {
        router: 'gone',
        service: 'dead',
        ...get('200'),
      }),
      undefined,
    );
    assert.equal(
      sampleValue(families, 'traefik_service_requests_total', { service: 'live', ...get('200') }),
      1,
    );
    assert.equal(metrics.requestSeries('web', 'keep', 'live'), kept);
    assert.notEqual(metrics.requestSeries('web', 'gone', 'dead'), gone);
    // Entry points are static; their totals still include the pruned router's requests.
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('200') }),
      3,
    );
  });

  it("counts HTTPS requests by Traefik's TLS version and cipher names, asking each connection once", () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const asked: string[] = [];
    /** A stand-in TLS connection (a TLSSocket's two methods the labels read). */
    const connection = (protocol: string, standardName: string) => ({
      getPeerX509Certificate: () => undefined,
      getProtocol: () => {
        asked.push(protocol);
        return protocol;
      },
      getCipher: () => ({ name: '', standardName, version: '' }),
    });
    const over = (tls: ReturnType<typeof connection>) => ({ ...GET, tls });
    const a = connection('TLSv1.3', 'TLS_AES_128_GCM_SHA256');
    const b = connection('TLSv1.3', 'TLS_AES_128_GCM_SHA256');
    const c = connection('TLSv1.2', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256');
    const routed = metrics.requestSeries('websecure', 'r', 's');
    const unrouted = metrics.requestSeries('websecure', '', '');
    for (let i = 0; i < 3; i++) routed.observe(200, 0.01, 0, 0, over(a), null);
    routed.observe(503, 0.01, 0, 0, over(b), null);
    routed.observe(200, 0.01, 0, 0, over(c), null);
    unrouted.observe(404, 0.01, 0, 0, over(c), null);
    routed.observe(200, 0.01, 0, 0, GET, null);
    assert.deepEqual(asked, ['TLSv1.3', 'TLSv1.3', 'TLSv1.2'], 'one look per connection');
    const families = scrape(metrics);
    const tls13 = { tls_version: '1.3', tls_cipher: 'TLS_AES_128_GCM_SHA256' };
    const tls12 = { tls_version: '1.2', tls_cipher: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' };
    const ep = 'traefik_entrypoint_requests_tls_total';
    assert.equal(sampleValue(families, ep, { entrypoint: 'websecure', ...tls13 }), 4);
    assert.equal(sampleValue(families, ep, { entrypoint: 'websecure', ...tls12 }), 2);
    const rt = 'traefik_router_requests_tls_total';
    assert.equal(sampleValue(families, rt, { router: 'r', service: 's', ...tls13 }), 4);
    assert.equal(sampleValue(families, rt, { router: 'r', service: 's', ...tls12 }), 1);
    const sv = 'traefik_service_requests_tls_total';
    assert.equal(sampleValue(families, sv, { service: 's', ...tls12 }), 1);
    assert.equal(families.get(sv)!.samples.length, 2, 'no series for cleartext requests');
    assert.deepEqual(Object.keys(families.get(rt)!.samples[0]!.labels).sort(), [
      'router',
      'service',
      'tls_cipher',
      'tls_version',
    ]);
    assert.equal(families.get(sv)!.type, 'counter');
  });

  it("names TLS versions and ciphers as Traefik's GetVersion and GetCipherName do", () => {
    assert.deepEqual(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'SSLv3', null].map(goTlsVersion), [
      '1.0',
      '1.1',
      '1.2',
      '1.3',
      'unknown',
      'unknown',
    ]);
    assert.equal(goCipherName('TLS_CHACHA20_POLY1305_SHA256'), 'TLS_CHACHA20_POLY1305_SHA256');
    // Suites Go does not implement (DHE, CCM) are "unknown" to Traefik.
    assert.equal(goCipherName('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'), 'unknown');
    assert.equal(goCipherName('TLS_AES_128_CCM_SHA256'), 'unknown');
    assert.equal(goCipherName(undefined), 'unknown');
  });

  it("labels the requests_total families with the configured headers' values (Traefik's headerLabels)", () => {
    const metrics = new TrafficMetrics({
      ...ALL_ON,
      headerLabels: { agent: 'User-Agent', tenant: 'X-Tenant', host: 'Host' },
    });
    const series = metrics.requestSeries('web', 'r', 's');
    const from = (headers: Array<[string, string]>) =>
      requestHead('GET', [['Host', 'shop.test'], ...headers]);
    series.observe(
      200,
      0.01,
      0,
      0,
      from([
        ['User-Agent', 'curl'],
        ['X-Tenant', 'a'],
      ]),
      null,
    );
    series.observe(
      200,
      0.01,
      0,
      0,
      from([
        ['User-Agent', 'curl'],
        ['X-Tenant', 'a'],
      ]),
      null,
    );
    // The first value of a repeated header, as Go's Header.Get.
    series.observe(
      200,
      0.01,
      0,
      0,
      from([
        ['User-Agent', 'curl'],
        ['x-tenant', 'b'],
        ['X-Tenant', 'c'],
      ]),
      null,
    );
    series.observe(404, 0.01, 0, 0, from([['X-Tenant', 'say "hi"']]), null);
    series.observe(200, 0.01, 0, 0, from([]), null);
    const families = scrape(metrics);
    for (const [name, labels] of [
      ['traefik_entrypoint_requests_total', { entrypoint: 'web' }],
      ['traefik_router_requests_total', { router: 'r', service: 's' }],
      ['traefik_service_requests_total', { service: 's' }],
    ] as const) {
      // Host is always "": Go's server keeps it out of the header map Traefik reads.
      const count = (code: string, agent: string, tenant: string) =>
        sampleValue(families, name, { ...labels, ...get(code), agent, tenant, host: '' });
      assert.equal(count('200', 'curl', 'a'), 2, name);
      assert.equal(count('200', 'curl', 'b'), 1, name);
      assert.equal(count('404', '', 'say "hi"'), 1, name);
      assert.equal(count('200', '', ''), 1, name);
      assert.equal(families.get(name)!.samples.length, 4, name);
    }
    // Only requests_total has them (prometheus.go newCounterWithHeadersFrom).
    assert.deepEqual(
      Object.keys(families.get('traefik_service_request_duration_seconds')!.samples[0]!.labels).sort(),
      ['code', 'le', 'method', 'protocol', 'service'],
    );
    assert.equal(
      sampleValue(families, 'traefik_service_responses_bytes_total', { service: 's', ...get('200') }),
      0,
    );
    assert.throws(() => new TrafficMetrics({ ...ALL_ON, headerLabels: { code: 'X-Code' } }), RangeError);
    assert.throws(() => new TrafficMetrics({ ...ALL_ON, headerLabels: { 'a-b': 'X' } }), RangeError);
  });

  it('labels the router with its own service and counts on a service only the requests its servers took', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 'tree', 'leaf').observe(200, 0.01, 0, 0, GET, null);
    metrics.requestSeries('web', 'r', 'tree', null).observe(401, 0.01, 0, 0, GET, null);
    const families = scrape(metrics);
    const rt = 'traefik_router_requests_total';
    assert.equal(sampleValue(families, rt, { router: 'r', service: 'tree', ...get('200') }), 1);
    assert.equal(sampleValue(families, rt, { router: 'r', service: 'tree', ...get('401') }), 1);
    const sv = 'traefik_service_requests_total';
    assert.deepEqual(
      families.get(sv)!.samples.map((x) => [x.labels['service'], x.labels['code'], x.value]),
      [['leaf', '200', 1]],
    );
    assert.equal(
      sampleValue(families, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('401') }),
      1,
    );
  });

  it('exports a removed router and service once more, at the next scrape, then forgets them (Traefik)', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    let alive = { routers: new Set(['r', 'gone']), services: new Set(['s', 'dead']) };
    metrics.pruneAfterScrape(() => alive);
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 0, 0, GET, null);
    metrics.requestSeries('web', 'gone', 'dead').observe(200, 0.01, 0, 0, GET, null);
    metrics.requestSeries('web', '', '').observe(404, 0.01, 0, 0, GET, null);
    /** Some sample of `name` has these labels (among others). */
    const has = (text: string, labels: Record<string, string>, name = 'traefik_service_requests_total') =>
      [...parseExposition(text).values()].some((f) =>
        f.samples.some((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)),
      );
    assert.ok(has(metrics.render(), { service: 'dead' }));
    alive = { routers: new Set(['r']), services: new Set(['s']) };
    const last = metrics.render();
    assert.ok(has(last, { service: 'dead' }), 'scraped once after the reload');
    assert.ok(has(last, { router: 'gone' }, 'traefik_router_requests_total'));
    const after = metrics.render();
    assert.ok(!has(after, { service: 'dead' }));
    assert.ok(!has(after, { router: 'gone' }, 'traefik_router_requests_total'));
    assert.ok(has(after, { service: 's' }));
    assert.ok(has(after, { entrypoint: 'web', code: '404' }, 'traefik_entrypoint_requests_total'));
  });

  it("writes labels sorted by name and a family's series sorted by label values, as client_golang", () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r@file', 's@file').observe(500, 0.01, 0, 0, GET, null);
    metrics.requestSeries('api', 'r@file', 's@file').observe(200, 0.01, 0, 0, GET, null);
    metrics.requestSeries('web', 'r@file', 's@file').observe(200, 0.01, 0, 0, GET, null);
    metrics.entryPoint('web').connectionOpened();
    metrics.entryPoint('api').connectionOpened();
    metrics.addCollector((w) => {
      w.gauge('traffic_x', 'X.', { z: '1', a: 'b' }, 1);
      w.gauge('traffic_x', 'X.', { z: '0', a: 'b' }, 2);
      w.gauge('traffic_x', 'X.', { z: '9', a: 'a' }, 3);
    });
    const lines = metrics.render().split('\n');
    const family = (name: string) => lines.filter((l) => l.startsWith(`${name}{`));
    assert.deepEqual(family('traefik_entrypoint_requests_total'), [
      'traefik_entrypoint_requests_total{code="200",entrypoint="api",method="GET",protocol="http"} 1',
      'traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 1',
      'traefik_entrypoint_requests_total{code="500",entrypoint="web",method="GET",protocol="http"} 1',
    ]);
    assert.deepEqual(family('traefik_router_requests_total'), [
      'traefik_router_requests_total{code="200",method="GET",protocol="http",router="r@file",service="s@file"} 2',
      'traefik_router_requests_total{code="500",method="GET",protocol="http",router="r@file",service="s@file"} 1',
    ]);
    assert.deepEqual(family('traefik_service_request_duration_seconds_bucket').slice(0, 1), [
      'traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="s@file",le="0.1"} 2',
    ]);
    assert.deepEqual(family('traefik_open_connections'), [
      'traefik_open_connections{entrypoint="api",protocol="TCP"} 1',
      'traefik_open_connections{entrypoint="web",protocol="TCP"} 1',
    ]);
    assert.deepEqual(family('traffic_x'), [
      'traffic_x{a="a",z="9"} 3',
      'traffic_x{a="b",z="0"} 2',
      'traffic_x{a="b",z="1"} 1',
    ]);
  });

  it('renders byte-identical text for the same state', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(503, 0.4, 1, 2, GET, null);
    metrics.addCollector((w) => w.gauge('z_gauge', 'Z.', { a: '1' }, 1));
    assert.equal(metrics.render(), metrics.render());
  });
});
