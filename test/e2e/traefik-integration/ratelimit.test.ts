/**
 * Traefik's integration/ratelimit_test.go (v3 branch) run against our proxy. The Go test times
 * 101 successful requests against `average = 100` (at least 0.99 s); ours asserts no time: the
 * rate is one a minute, so of requests sent at once only the burst gets through, the rest are
 * refused with Traefik's 429. The Redis variant (TestRedisRateLimitSimpleConfiguration) is
 * test/e2e/redis-rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { startFixture, startWhoami } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

describe('traefik integration/ratelimit_test.go', () => {
  // integration/fixtures/ratelimit/simple.toml (v3 form), its rate lowered so that no timing matters.
  it('TestSimpleConfiguration: past the burst, requests are refused with 429 until the rate allows', async () => {
    const w = await startWhoami('whoami1');
    open.push(() => w.close());
    const p = await startFixture(
      `[entryPoints]
  [entryPoints.web]
    address = ":8081"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    middlewares = ["ratelimit"]
    rule = "Path(\`/\`)"

[http.middlewares]
  [http.middlewares.ratelimit.rateLimit]
    average = 1
    period = "1m"
    burst = 2

[http.services]
  [http.services.service1.loadBalancer]
    passHostHeader = true
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
`,
      { Server1: w.url },
    );
    open.push(() => p.stop());
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => httpRequest(p.ports.web!).then((r) => r.status)),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 2, String(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 8, String(statuses));
    assert.equal(w.count, 2);
  });
});
