/**
 * Slow clients against the real proxy: 2,000 slowloris connections (request heads trickled one
 * byte at a time) and 200 slow-POST uploads (bodies trickled the same way) at once, kept at those
 * counts while the proxy closes them on its read timeouts and the attacker opens them again.
 * Meanwhile a well-behaved client (another loopback address) keeps getting its answers.
 *
 * Asserted: every probe request is answered 200 during the attack; the proxy ends slow heads with
 * 408 (readHeaderTimeout) and slow bodies with 408 (readTimeout); its RSS stays within a bound
 * during the attack and its file descriptors go back to where they were once the attack stops.
 * Measured and printed (never asserted here, this 2-core machine is shared and noisy): RSS
 * before/during/after and the probe's p99 unloaded and under attack. The 2x latency criterion is
 * checked by the overload benchmark (`npm run bench -- --mode overload`, bench/lib/overload.ts).
 *
 * About 4,500 file descriptors are needed between this process and the proxy: the soft limit is
 * raised to the hard one with prlimit when needed (it fails fast, naming the fix, otherwise).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { readRss, sampleRss } from '../helpers/rss.ts';
import { ensureFileLimit, fdCount, percentile, probe, SlowAttack } from '../helpers/slow-clients.ts';

const SLOWLORIS = 2000;
const SLOW_POSTS = 200;
const FILES_NEEDED = 8192;
/** The attack may cost the proxy this much resident memory at most (measured: see docs/performance.md). */
const RSS_BOUND = 100 * 1024 * 1024;
const MB = 1024 * 1024;

describe('slow clients: 2,000 slowloris and 200 slow POSTs at once', () => {
  let be: Backend;
  let proxy: ProxyProcess;
  const limitError = ensureFileLimit(FILES_NEEDED);

  before(async () => {
    if (limitError !== undefined) return;
    be = await startBackend((req, res) => {
      // Slow uploads are read as they come; they never finish before the proxy's readTimeout.
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    be.server.requestTimeout = 0;
    be.server.headersTimeout = 0;
    proxy = await startProxy({
      // Read timeouts short enough that the proxy recycles every attacking connection during the
      // test; the attacker reopens them (the churn must not leak either).
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 3s, readTimeout: 5s }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await be?.close();
  });

  it('keeps answering others, ends slow requests with 408, bounds its memory and frees every socket', async (t) => {
    assert.equal(limitError, undefined, limitError);
    const pid = proxy.child.pid!;
    const url = `http://127.0.0.1:${proxy.ports.web}/`;
    // Warm up (JIT, the upstream pool), then the unloaded baseline.
    await probe(url, 2000, 4, '127.0.0.2');
    const fdsBefore = fdCount(pid);
    const rssBefore = readRss(pid);
    const unloaded = await probe(url, 1000, 4, '127.0.0.2');
    assert.equal(unloaded.failed, 0, unloaded.failures.join('; '));

    const attack = new SlowAttack({
      port: proxy.ports.web!,
      localAddress: '127.0.0.1',
      slowloris: SLOWLORIS,
      slowPosts: SLOW_POSTS,
      trickleEveryMs: 1000,
    });
    t.after(() => attack.stop());
    const rss = sampleRss(pid, 100);
    await attack.start();
    assert.equal(attack.stats.errors, 0, 'every attacking connection was accepted');
    // Under attack for longer than both read timeouts: every connection is cut and reopened.
    const underAttack = await probe(url, 1000, 4, '127.0.0.2');
    while (attack.stats.timeouts408 < SLOWLORIS + SLOW_POSTS) {
      const more = await probe(url, 200, 4, '127.0.0.2');
      assert.equal(more.failed, 0, more.failures.join('; '));
    }
    const openDuring = attack.open;
    attack.stop();
    const rssPeak = rss.stop();
    assert.equal(underAttack.failed, 0, underAttack.failures.join('; '));
    assert.ok(attack.stats.timeouts408 >= SLOWLORIS + SLOW_POSTS, 'slow heads and bodies ended by 408');
    assert.ok(
      rssPeak - rssBefore < RSS_BOUND,
      `RSS grew by ${((rssPeak - rssBefore) / MB).toFixed(1)} MB under attack (bound ${RSS_BOUND / MB} MB)`,
    );

    // The proxy closes its side of every attacking connection once they are gone.
    let fdsAfter = fdCount(pid);
    for (let i = 0; i < 100 && fdsAfter > fdsBefore + 5; i++) {
      await delay(100);
      fdsAfter = fdCount(pid);
    }
    assert.ok(fdsAfter <= fdsBefore + 5, `fds: ${fdsBefore} before, ${fdsAfter} after the attack`);
    const rssAfter = readRss(pid);
    const p99Unloaded = percentile(unloaded.latenciesMs, 99);
    const p99Attack = percentile(underAttack.latenciesMs, 99);
    t.diagnostic(
      `RSS before ${(rssBefore / MB).toFixed(1)} MB, peak during ${(rssPeak / MB).toFixed(1)} MB, ` +
        `after ${(rssAfter / MB).toFixed(1)} MB; fds ${fdsBefore} → ${fdsAfter}; ` +
        `attack: ${attack.stats.opened} connections opened, ${openDuring} open at the end, ` +
        `${attack.stats.timeouts408} ended by 408; probe p50 ${percentile(unloaded.latenciesMs, 50).toFixed(2)} → ` +
        `${percentile(underAttack.latenciesMs, 50).toFixed(2)} ms, p99 ${p99Unloaded.toFixed(2)} → ` +
        `${p99Attack.toFixed(2)} ms (×${(p99Attack / p99Unloaded).toFixed(2)})`,
    );
  });
});
