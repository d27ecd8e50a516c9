import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OtlpFailure, OtlpSender } from './otlp-http.ts';
import { grpcRetryable, httpRetryable, RetryingSender } from './otlp-retry.ts';

/** A sender answering from a script, and the waits asked for, with a clock the waits move. */
function scripted(answers: Array<OtlpFailure | null>): {
  sender: (opts: { budgetMs: number; grpc?: boolean; random?: number }) => RetryingSender;
  waits: number[];
  calls: () => number;
} {
  let calls = 0;
  let clock = 0;
  const waits: number[] = [];
  const inner: OtlpSender = {
    url: 'http://collector/v1/traces',
    send: async () => answers[calls++] ?? null,
    close() {},
  };
  return {
    waits,
    calls: () => calls,
    sender: ({ budgetMs, grpc = false, random = 0.5 }) =>
      new RetryingSender(inner, {
        retryable: grpc ? grpcRetryable : httpRetryable,
        budgetMs,
        random: () => random,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
          return true;
        },
      }),
  };
}

describe('RetryingSender (Go OTLP exporters retry)', () => {
  it('retries 429/502/503/504 with the exponential backoff, and stops at the first success', async () => {
    const s = scripted([{ status: 503 }, { status: 429 }, { status: 502 }, null]);
    assert.equal(await s.sender({ budgetMs: 30_000 }).send(new Uint8Array()), null);
    assert.equal(s.calls(), 4);
    // random 0.5: the interval itself (5 s, ×1.5 each time), plus cenkalti's +0.5 ms.
    assert.deepEqual(s.waits, [5_000.5, 7_500.5, 11_250.5]);
  });

  it('does not retry other statuses nor a refused connection', async () => {
    for (const f of [
      { status: 400 },
      { status: 500 },
      { error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) },
    ]) {
      const s = scripted([f, null]);
      assert.deepEqual(await s.sender({ budgetMs: 30_000 }).send(new Uint8Array()), f);
      assert.equal(s.calls(), 1);
    }
  });

  it('waits at least Retry-After, and gives up when the export context would end', async () => {
    const s = scripted([{ status: 429, retryAfterSeconds: 12 }, { status: 503 }, { status: 503 }, null]);
    const failure = await s.sender({ budgetMs: 30_000 }).send(new Uint8Array());
    // 12 s, then 7.5 s (19.5 s elapsed); the next 11.25 s would pass 30 s: the last failure.
    assert.deepEqual(s.waits, [12_000, 7_500.5]);
    assert.deepEqual(failure, { status: 503, attempts: 3 });
  });

  it('over gRPC: Unavailable and an unreachable collector are retried within the export timeout', async () => {
    const s = scripted([{ grpcStatus: 'Unavailable' }, { error: 'connect ECONNREFUSED' }, null]);
    // A 10 s export timeout: one wait of 5 s fits, the second (7.5 s more) does not.
    const failure = await s.sender({ budgetMs: 10_000, grpc: true }).send(new Uint8Array());
    assert.deepEqual(s.waits, [5_000.5]);
    assert.deepEqual(failure, { error: 'connect ECONNREFUSED', attempts: 2 });
    const t = scripted([{ grpcStatus: 'InvalidArgument' }, { grpcStatus: 'ResourceExhausted' }]);
    assert.deepEqual(await t.sender({ budgetMs: 10_000, grpc: true }).send(new Uint8Array()), {
      grpcStatus: 'InvalidArgument',
    });
    assert.equal(t.calls(), 1);
  });

  it('gives up once the backoff would pass one minute in all', async () => {
    const s = scripted(Array.from({ length: 20 }, () => ({ status: 503 })));
    await s.sender({ budgetMs: Number.POSITIVE_INFINITY, random: 0.999 }).send(new Uint8Array());
    const total = s.waits.reduce((a, b) => a + b, 0);
    assert.ok(total <= 60_000, String(total));
    assert.ok(s.waits.length >= 3);
  });

  it('stopRetrying cuts a wait short and makes no more attempts', async () => {
    let calls = 0;
    const inner: OtlpSender = {
      url: 'x',
      send: async () => {
        calls++;
        return { status: 503 };
      },
      close() {},
    };
    const r = new RetryingSender(inner, { retryable: httpRetryable, budgetMs: 30_000 });
    const p = r.send(new Uint8Array());
    // The first attempt has failed and a 2.5-7.5 s wait begun once the microtasks ran.
    await new Promise((resolve) => setImmediate(resolve));
    r.stopRetrying();
    assert.deepEqual(await p, { status: 503 });
    assert.equal(calls, 1);
  });
});
