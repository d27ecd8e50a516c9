/**
 * Traefik's httpChallenge.delay / tlsChallenge.delay (lego's http01 / tlsalpn01 SetDelay): the
 * answer is served first, and the CA is told to look only once the delay is over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcmeAuthorization, AcmeChallenge } from './acme-resources.ts';
import { Http01Store } from './http01-store.ts';
import { delayedSolver, http01Solver } from './obtain-certificate.ts';

const authz = { identifier: { type: 'dns', value: 'a.example' } } as unknown as AcmeAuthorization;
const challenge = { type: 'http-01', token: 'tok', url: 'https://ca/chall/1' } as unknown as AcmeChallenge;

describe('delayedSolver', () => {
  it('serves the answer, then waits the delay before present() resolves (the CA is told after)', async () => {
    const store = new Http01Store();
    const asked: number[] = [];
    let wake!: () => void;
    const slept = new Promise<void>((r) => {
      wake = r;
    });
    const solver = delayedSolver(http01Solver(store), 5000, (ms) => {
      asked.push(ms);
      return slept;
    });
    let presented = false;
    const present = solver.present(authz, challenge, 'tok.thumb').then(() => {
      presented = true;
    });
    // The sleep is asked for only once the answer is in place.
    while (asked.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, [5000]);
    assert.equal(store.lookup('tok'), 'tok.thumb');
    assert.equal(presented, false);
    wake();
    await present;
    assert.equal(presented, true);
    await solver.cleanup(authz, challenge, 'tok.thumb');
    assert.equal(store.lookup('tok'), undefined);
  });

  it('is the solver itself without a delay, and the wait ends with the signal', async () => {
    const plain = http01Solver(new Http01Store());
    assert.equal(delayedSolver(plain, 0), plain);
    const ac = new AbortController();
    const p = delayedSolver(http01Solver(new Http01Store()), 3_600_000).present(
      authz,
      challenge,
      'k',
      ac.signal,
    );
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
  });
});
