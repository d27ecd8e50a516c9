import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RedisServer, startRedis } from '../../../test/helpers/redis.ts';
import { silentLogger } from '../../core/logger.ts';
import type { DirectResponse } from '../../core/request.ts';
import { Ticker } from '../../core/ticker.ts';
import { type RequestControl, SUSPEND } from '../middleware.ts';
import { build, makeRequest, testContext } from '../test-request.ts';
import { RedisClient, type ReplyHandler } from './redis-client.ts';
import { encodeCommand, RedisError, type RedisReply, ReplyParser } from './resp.ts';

function reply(client: RedisClient, args: (string | number)[]): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const h: ReplyHandler = { onReply: resolve, onFailure: (r) => reject(new Error(r)) };
    client.send(args, h);
  });
}

describe('RESP', () => {
  it('encodes commands as arrays of bulk strings', () => {
    assert.equal(encodeCommand(['SET', 'k', 'é']).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
  });

  it('parses replies split anywhere across chunks', () => {
    const wire = Buffer.from('+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$1\r\nx\r\n');
    for (let cut = 1; cut < wire.length; cut++) {
      const p = new ReplyParser();
      const got = [...p.feed(wire.subarray(0, cut)), ...p.feed(wire.subarray(cut))];
      assert.deepEqual(
        got,
        ['OK', new RedisError('ERR bad'), 42, 'hello', null, [1, ['x']]],
        `cut at ${cut}`,
      );
    }
  });
});

describe('RedisClient and the Redis rate limit against redis-server', () => {
  let redis: RedisServer;
  const ticker = new Ticker(20);

  before(async () => {
    redis = await startRedis(['--requirepass', 'pw']);
  });
  after(async () => {
    ticker.stop();
    await redis?.close();
  });

  const options = (endpoints: string[]) => ({
    endpoints,
    tls: undefined,
    username: undefined,
    password: 'pw',
    db: 3,
    dialTimeoutMs: 2000,
    readTimeoutMs: 2000,
  });

  it('authenticates, selects the db and pipelines commands in order', async () => {
    const c = new RedisClient(options([redis.endpoint]), ticker, silentLogger);
    const replies = await Promise.all([
      reply(c, ['SET', 'k', 'v']),
      reply(c, ['GET', 'k']),
      reply(c, ['INCR', 'n']),
      reply(c, ['CLIENT', 'INFO']),
    ]);
    assert.deepEqual(replies.slice(0, 3), ['OK', 'v', 1]);
    assert.match(String(replies[3]), / db=3 /);
    c.close();
  });

  it('fails over to the next endpoint, and fails commands at once while none answers', async () => {
    const clock = { now: 0 };
    const manual = new Ticker(60_000, () => clock.now);
    const c = new RedisClient(options(['127.0.0.1:1', redis.endpoint]), manual, silentLogger);
    await assert.rejects(reply(c, ['PING']), /ECONNREFUSED/);
    await assert.rejects(reply(c, ['PING']), /redis unavailable/);
    // After the pause, the next endpoint.
    clock.now += 1000;
    manual.tick();
    assert.equal(await reply(c, ['PING']), 'PONG');
    c.close();
    manual.stop();
  });

  it('admits a burst, then refuses with Retry-After, sharing the bucket between middlewares of one name', async () => {
    const config = {
      average: 1,
      period: '10s',
      burst: 3,
      redis: { endpoints: [redis.endpoint], password: 'pw', db: 5 },
    };
    const a = build('rateLimit', config, testContext({}, 'shared@file'));
    const b = build('rateLimit', config, testContext({}, 'shared@file'));
    const outcomes: (DirectResponse | undefined)[] = [];
    for (const m of [a, b, a, b, a]) {
      const r = await new Promise<DirectResponse | undefined>((resolve) => {
        const ctl: RequestControl = { resume: resolve, onEnd() {}, transformBody() {} };
        const first = m.inner.onRequest!(makeRequest('http://x.test/'), ctl);
        if (first !== SUSPEND) resolve(first);
      });
      outcomes.push(r);
    }
    assert.deepEqual(outcomes.slice(0, 3), [undefined, undefined, undefined]);
    assert.equal(outcomes[3]?.status, 429);
    assert.deepEqual(outcomes[3]?.headers?.[0], ['Retry-After', '10']);
    assert.equal(outcomes[3]?.headers?.[1]?.[0], 'X-Retry-In');
    assert.match(outcomes[3]?.headers?.[1]?.[1] ?? '', /^\d+(\.\d+)?s$/, 'about 10 s, as Go writes it');
    assert.equal(outcomes[4]?.status, 429);
  });

  it("holds a request whose token is due within the max delay, as Traefik's script and middleware do", async () => {
    // 10/s, burst 1: the max delay is 1 / (2 × rate) = 50 ms.
    const m = build(
      'rateLimit',
      { average: 10, period: '1s', burst: 1, redis: { endpoints: [redis.endpoint], password: 'pw' } },
      testContext({}, 'paced@file'),
    );
    const run = () =>
      new Promise<DirectResponse | undefined>((resolve) => {
        const ctl: RequestControl = { resume: resolve, onEnd() {}, transformBody() {} };
        const first = m.inner.onRequest!(makeRequest('http://x.test/'), ctl);
        if (first !== SUSPEND) resolve(first);
      });
    const t0 = performance.now();
    assert.equal(await run(), undefined);
    assert.equal((await run())?.status, 429, 'a wait of ~100 ms is over the max delay');
    await new Promise((r) => setTimeout(r, 70));
    assert.equal(await run(), undefined, 'a wait of at most 30 ms is held, then let through');
    const at = performance.now() - t0;
    assert.ok(at >= 90, `let through once its token was due (100 ms after the first): ${at} ms`);
  });

  it("forgets a bucket left idle for Traefik's ttl, so its source finds it full again", async () => {
    // 1/s: the key expires 2 s after its last request; the refill alone would give 2 tokens by then.
    const m = build(
      'rateLimit',
      { average: 1, period: '1s', burst: 3, redis: { endpoints: [redis.endpoint], password: 'pw' } },
      testContext({}, 'idle@file'),
    );
    const run = () =>
      new Promise<DirectResponse | undefined>((resolve) => {
        const ctl: RequestControl = { resume: resolve, onEnd() {}, transformBody() {} };
        const first = m.inner.onRequest!(makeRequest('http://x.test/'), ctl);
        if (first !== SUSPEND) resolve(first);
      });
    for (let k = 0; k < 3; k++) assert.equal(await run(), undefined);
    await new Promise((r) => setTimeout(r, 2100));
    const again = [await run(), await run(), await run()];
    assert.deepEqual(
      again.map((r) => r?.status ?? 200),
      [200, 200, 200],
    );
  });
});
