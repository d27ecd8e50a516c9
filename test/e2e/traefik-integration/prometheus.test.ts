/**
 * Traefik's integration/prometheus_test.go run against our proxy. That file exists only in Traefik
 * v1 (its fixture integration/fixtures/prometheus/simple.toml has v1's `[web.metrics.prometheus]`,
 * `[retry]`, backends and frontends); v2 and v3 test Prometheus in simple_test.go
 * (TestMetricsPrometheusDefaultEntryPoint, TestMetricsPrometheusTwoRoutersOneService,
 * TestMetricsWithBufferingMiddleware: ./simple.test.ts). Its scenario is ported here in v3 form,
 * with v3's names for what it checks:
 * - the fixture: one router on `Host(test.localhost)`, the retry (v1's global `[retry] attempts =
 *   3`) as a router middleware, a service of two servers of weight 1, the first one a closed port
 *   (v1's 127.0.0.10:80, "this endpoint does not exist, but retries should make requests
 *   succeed"), the second a loopback whoami stand-in; the API and `/metrics` on the `traefik`
 *   entry point (v1's `[web]` on :8080), on port 0;
 * - v1's backend series are v3's service series (`traefik_service_*`, `service` label
 *   `backend1@file`); every v3 series carries `protocol`; v3 has no
 *   `traefik_config_reloads_failure_total` (pkg/metrics/prometheus.go registers reloads and
 *   last_reload_success only); v3's retry middleware feeds no retries counter.
 * The Go test compares the labels of each family's first series; the exposition is read parsed
 * here (label order apart: see TestMetricsWithBufferingMiddleware in ./simple.test.ts).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type ParsedFamily,
  parseExposition,
  sampleValue,
} from '../../../src/observability/metrics/test-exposition-parser.ts';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import { startFixture, startWhoami } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

/** The family's series (samples of its own name, histograms: their _count), by their labels. */
function series(families: Map<string, ParsedFamily>, name: string, sample = name) {
  const f = families.get(name);
  assert.ok(f, `gathered metrics do not contain '${name}'`);
  return f.samples.filter((s) => s.name === sample);
}

describe('traefik integration/prometheus_test.go (v1, in v3 form)', () => {
  it('TestSimpleConfiguration: reloads, entry point and service series of two requests, a retry middleware not counted', async () => {
    const w = await startWhoami('whoami');
    open.push(() => w.close());
    const proxy = await startFixture(
      `[entryPoints]
  [entryPoints.http]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[api]

[metrics.prometheus]
  buckets = [0.1, 0.3, 1.2, 5.0]

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.frontend1]
  rule = "Host(\`test.localhost\`)"
  service = "backend1"
  middlewares = ["retry"]

[http.middlewares.retry.retry]
  attempts = 3

[http.services.backend1.loadBalancer]
  [[http.services.backend1.loadBalancer.servers]]
    url = "{{ .Closed }}"
    weight = 1
  [[http.services.backend1.loadBalancer.servers]]
    url = "{{ .Server }}"
    weight = 1
`,
      { Closed: `http://127.0.0.1:${await freePort()}`, Server: w.url },
    );
    open.push(() => proxy.stop());

    for (let i = 0; i < 2; i++) {
      const r = await httpRequest(proxy.ports.http!, { headers: { Host: 'test.localhost' } });
      assert.equal(r.status, 200);
    }
    const metrics = await httpRequest(proxy.ports.traefik!, { path: '/metrics' });
    assert.equal(metrics.status, 200);
    const families = parseExposition(metrics.text);

    // traefik_config_reloads_total: the one configuration applied.
    assert.equal(sampleValue(families, 'traefik_config_reloads_total'), 1);
    assert.equal(families.get('traefik_config_reloads_failure_total'), undefined);
    // traefik_config_last_reload_success: a Unix time in seconds.
    const last = sampleValue(families, 'traefik_config_last_reload_success');
    assert.ok(last !== undefined && last > 1e9 && last <= Date.now() / 1000, String(last));

    const ep = { code: '200', entrypoint: 'http', method: 'GET', protocol: 'http' };
    assert.equal(sampleValue(families, 'traefik_entrypoint_requests_total', ep), 2);
    assert.equal(sampleValue(families, 'traefik_entrypoint_request_duration_seconds_count', ep), 2);
    for (const s of series(families, 'traefik_entrypoint_requests_total'))
      assert.deepEqual(Object.keys(s.labels).sort(), Object.keys(ep).sort());

    const svc = { code: '200', method: 'GET', protocol: 'http', service: 'backend1@file' };
    assert.equal(sampleValue(families, 'traefik_service_requests_total', svc), 2);
    assert.equal(sampleValue(families, 'traefik_service_request_duration_seconds_count', svc), 2);
    for (const s of series(families, 'traefik_service_requests_total'))
      assert.deepEqual(Object.keys(s.labels).sort(), Object.keys(svc).sort());

    // v1 asserted traefik_backend_retries_total >= 1. In v2 and v3 a router's retry middleware
    // has no listener (pkg/server/middleware/middlewares.go: `retry.New(…, retry.Listeners{}, …)`,
    // "FIXME missing metrics / accessLog"): the series is there, and stays 0.
    assert.equal(sampleValue(families, 'traefik_service_retries_total', { service: 'backend1@file' }), 0);
  });
});
