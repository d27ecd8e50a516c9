/**
 * Fuzzing the HTTP/2 frame layer of the real proxy process over h2c with prior knowledge:
 * seeded random frame sequences (h2-frame-gen.ts), each on a connection of its own. Whatever the
 * bytes, the proxy must stay up, log no internal error, keep serving a well-behaved client
 * (checked between batches), and hold no more descriptors than before once the fuzz connections
 * are gone.
 *
 *   FUZZ_H2_CASES=20000 FUZZ_SEED=7 node --test test/fuzz/h2-frames.test.ts
 *
 * A case that breaks something is kept in REGRESSIONS (its seed) and runs every time.
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { assertBackToIdle, type Footprint, footprint, idleChange } from '../helpers/chaos.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { h2Case } from './h2-frame-gen.ts';

const CASES = Number(process.env['FUZZ_H2_CASES'] ?? 400);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);
const CONCURRENCY = 8;
/** How long a case waits for the proxy to answer or close after its last byte. */
const QUIET_MS = 150;

/** Seeds of cases that once found a bug (none so far); each replays the exact byte stream. */
const REGRESSIONS: readonly number[] = [];

/** Writes one case; resolves once the proxy closed the connection or went quiet. */
function runCase(port: number, pieces: readonly Buffer[]): Promise<'closed' | 'quiet'> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const quiet = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        sock.destroy();
        resolve('quiet');
      }, QUIET_MS);
    };
    sock.on('error', () => {});
    sock.on('data', quiet);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    sock.on('connect', async () => {
      for (const p of pieces) {
        if (sock.destroyed) return;
        await new Promise<void>((r) => sock.write(p, () => r()));
      }
      quiet();
    });
  });
}

/** A well-formed request with node's own client: the proxy still serves. */
function healthy(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': '/health-check' });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

for (const engine of H2_ENGINES) {
  describe(`fuzz: HTTP/2 frames against the h2c entry point (${CASES} cases from seed ${SEED}) [${engine} engine]`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let pid: number;
    let idle: Footprint;

    before(async () => {
      backend = await startBackend((req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
serversTransport:
  forwardingTimeouts: { idleConnTimeout: 1s }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      pid = proxy.child.pid!;
      assert.equal(await healthy(proxy.port), 200);
      idle = footprint(pid);
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    function assertHealthy(what: string): void {
      assert.equal(proxy.child.exitCode, null, `${what}: the proxy exited`);
      const bad = proxy.logs.filter((l) => l.level === 'raw' || l.msg === 'internal error');
      assert.deepEqual(bad, [], `${what}: the proxy logged internal errors`);
    }

    for (const seed of REGRESSIONS) {
      it(`regression: seed ${seed}`, async () => {
        await runCase(proxy.port, h2Case(seededRandom(seed)));
        assertHealthy(`seed ${seed}`);
        assert.equal(await healthy(proxy.port), 200);
      });
    }

    it('survives every case, keeps serving, and goes back to idle', async (t) => {
      const outcomes = { closed: 0, quiet: 0 };
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < CASES) {
          const i = next++;
          const seed = SEED * 1_000_003 + i;
          const o = await runCase(proxy.port, h2Case(seededRandom(seed)));
          outcomes[o]++;
          if (i % 50 === 49) {
            assertHealthy(`after case ${i} (seed ${seed})`);
            assert.equal(await healthy(proxy.port), 200, `served after case ${i} (seed ${seed})`);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      assertHealthy('at the end');
      assert.equal(await healthy(proxy.port), 200);
      t.diagnostic(
        `${CASES} cases: the proxy closed ${outcomes.closed} connections, went quiet on ${outcomes.quiet}`,
      );
      // RSS only for the default run: thousands of sessions raise V8's committed heap to a plateau
      // (heap used comes back; docs/operations.md#soak), which is not what this test is about.
      const back = await assertBackToIdle(pid, idle, 'after the fuzz cases', 15_000, CASES <= 1000);
      t.diagnostic(idleChange(idle, back));
    });
  });
}
