import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDynamic } from '../config/dynamic/load.ts';
import { formatIssue } from '../config/issues.ts';
import { activeOptions } from './server-health.ts';

/** Parses one load balancer with this `healthCheck` (YAML flow mapping). */
function healthCheck(flow: string) {
  const text = `http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{ url: "http://127.0.0.1:8080" }]\n        healthCheck: ${flow}\n`;
  const r = loadDynamic([{ file: 'dyn.yaml', text }]);
  const svc = r.config?.http.services['s'];
  return {
    lines: r.issues.map(formatIssue),
    config: svc?.kind === 'loadBalancer' ? svc.loadBalancer.healthCheck : undefined,
  };
}

describe('active health check options from the configuration', () => {
  it('loads zero or negative durations, as Traefik, and probes with its defaults', () => {
    const r = healthCheck('{ path: /health, interval: 0, unhealthyInterval: -1s, timeout: 0s }');
    assert.deepEqual(r.lines, [
      'dyn.yaml:6:49: warning: http.services.s.loadBalancer.healthCheck.interval: interval is not positive: the default 30s is used (as in Traefik)',
      'dyn.yaml:6:71: warning: http.services.s.loadBalancer.healthCheck.unhealthyInterval: unhealthyInterval is not positive: the default 30s is used (as in Traefik)',
      'dyn.yaml:6:85: warning: http.services.s.loadBalancer.healthCheck.timeout: timeout is not positive: the default 5s is used (as in Traefik)',
    ]);
    assert.ok(r.config);
    const o = activeOptions(r.config);
    assert.equal(o.intervalMs, 30_000);
    assert.equal(o.unhealthyIntervalMs, 30_000);
    assert.equal(o.timeoutMs, 5_000);
  });

  it('a non-positive unhealthyInterval is 30s, not the interval (Traefik’s rule)', () => {
    const r = healthCheck('{ path: /health, interval: 2s, unhealthyInterval: 0 }');
    assert.ok(r.config);
    assert.equal(activeOptions(r.config).intervalMs, 2_000);
    assert.equal(activeOptions(r.config).unhealthyIntervalMs, 30_000);
    const absent = healthCheck('{ path: /health, interval: 2s }');
    assert.ok(absent.config);
    assert.equal(activeOptions(absent.config).unhealthyIntervalMs, 2_000);
  });

  it('reads port 0 and status 0 as not set, as Traefik does', () => {
    const r = healthCheck('{ path: /health, port: 0, status: 0 }');
    assert.deepEqual(r.lines, []);
    assert.ok(r.config);
    const o = activeOptions(r.config);
    assert.equal(o.port, undefined);
    assert.deepEqual(o.status, []);
  });

  it('sends any method token as written; an empty one is GET', () => {
    const lower = healthCheck('{ path: /health, method: get }');
    assert.deepEqual(lower.lines, []);
    assert.equal(lower.config?.method, 'get');
    assert.equal(healthCheck('{ path: /health, method: PURGE }').config?.method, 'PURGE');
    assert.equal(healthCheck('{ path: /health, method: "" }').config?.method, 'GET');
    assert.equal(healthCheck('{ path: /health, method: "GE T" }').lines.length, 1);
  });

  it('loads a check without a path (the server URL is probed) or with a relative one, as Traefik', () => {
    // With a key: `healthCheck: {}` alone is refused, as Traefik's decoder refuses an empty section.
    const none = healthCheck('{ interval: 10s }');
    assert.deepEqual(none.lines, []);
    assert.ok(none.config);
    assert.equal(activeOptions(none.config).path, '');
    assert.deepEqual(healthCheck('{ path: "health?x=1" }').lines, []);
    // Loaded, as Traefik v3.6.8 loads it, its checks failing (health/probe.ts).
    const url = healthCheck('{ path: "http://other.example/health" }');
    assert.ok(url.config);
    assert.deepEqual(url.lines, [
      'dyn.yaml:6:30: warning: http.services.s.loadBalancer.healthCheck.path: path must be a path (with an optional query), not a URL: every check fails and the servers are down (as in Traefik v3.6.8)',
    ]);
  });

  it('takes the schemes Traefik’s transport speaks for `scheme`; absent = the server URL’s', () => {
    for (const scheme of ['http', 'https', 'h2c']) {
      const r = healthCheck(`{ path: /health, scheme: ${scheme} }`);
      assert.deepEqual(r.lines, []);
      assert.equal(r.config?.scheme, scheme);
    }
    assert.equal(healthCheck('{ path: /health }').config?.scheme, undefined);
    assert.equal(healthCheck('{ path: /health, scheme: ftp }').lines.length, 1);
  });
});
