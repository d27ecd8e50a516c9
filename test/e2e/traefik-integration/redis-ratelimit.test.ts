/**
 * Traefik's integration/redis_ratelimit_test.go (v3) run against our proxy and a real redis-server
 * on loopback (test/helpers/redis.ts). Fixture: integration/fixtures/ratelimit/simple_redis.toml.
 * The Go test times 101 successful requests against `average = 100` (at least 0.99 s); ours asserts
 * no time: the rate is lowered to one a minute, so of requests sent at once only the burst gets
 * through, the rest are refused with Traefik's 429, and the bucket is the one in Redis. The
 * sharing of one bucket by several proxies is test/e2e/redis-rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { startRedis } from '../../helpers/redis.ts';
import { startFixture, startWhoami } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

describe('traefik integration/redis_ratelimit_test.go', () => {
  it('TestSimpleConfiguration: past the burst, requests are refused with 429, the bucket kept in Redis', async () => {
    const redis = await startRedis();
    open.push(() => redis.close());
    const w = await startWhoami('whoami1');
    open.push(() => w.close());
    const p = await startFixture(
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[api]
  insecure = true

[log]
  level = "DEBUG"
  noColor = true

[entryPoints]
  [entryPoints.web]
    address = ":8081"

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[http.routers]
  [http.routers.router1]
    service = "service1"
    middlewares = [ "ratelimit" ]
    rule = "Path(\`/\`)"

[http.middlewares]
  [http.middlewares.ratelimit.rateLimit]
    average = 1
    period = "1m"
    burst = 1
    [http.middlewares.ratelimit.rateLimit.redis]
    endpoints = ["{{ .RedisEndpoint }}"]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      passHostHeader = true
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"
`,
      { RedisEndpoint: redis.endpoint, Server1: w.url },
    );
    open.push(() => p.stop());
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => httpRequest(p.ports.web!).then((r) => r.status)),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 1, String(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 9, String(statuses));
    assert.equal(w.count, 1);
    const keys = (await redis.command('KEYS', '*')) as unknown[];
    assert.ok(keys.length > 0, 'the bucket is a Redis key');
  });
});
