import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrkOutput, parseWrkTimeMs, totalErrors } from './wrk.ts';

const CLEAN = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.92ms  420.11us  12.05ms   88.10%
    Req/Sec    26.21k     1.02k   28.40k    71.00%
  Latency Distribution
     50%    1.89ms
     75%    2.01ms
     90%  850.00us
     99%    5.11ms
  260843 requests in 10.00s, 40.05MB read
Requests/sec:  26083.51
Transfer/sec:      4.00MB
`;

const WITH_ERRORS = CLEAN.replace(
  'Requests/sec:',
  '  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 5\nRequests/sec:',
);

describe('parseWrkTimeMs', () => {
  it('converts every unit wrk prints to milliseconds', () => {
    assert.equal(parseWrkTimeMs('850.00us'), 0.85);
    assert.equal(parseWrkTimeMs('1.89ms'), 1.89);
    assert.equal(parseWrkTimeMs('10.00s'), 10_000);
    assert.equal(parseWrkTimeMs('1.50m'), 90_000);
  });

  it('rejects text that is not a wrk time', () => {
    assert.throws(() => parseWrkTimeMs('fast'), /unrecognised wrk time/);
  });
});

describe('parseWrkOutput', () => {
  it('reads totals, throughput and the latency distribution', () => {
    const r = parseWrkOutput(CLEAN);
    assert.equal(r.requests, 260843);
    assert.equal(r.durationS, 10);
    assert.equal(r.rps, 26083.51);
    assert.deepEqual(r.latencyMs, { p50: 1.89, p75: 2.01, p90: 0.85, p99: 5.11 });
  });

  it('reports zero errors when wrk prints no error lines', () => {
    assert.equal(totalErrors(parseWrkOutput(CLEAN)), 0);
  });

  it('counts socket errors and non-2xx responses', () => {
    const r = parseWrkOutput(WITH_ERRORS);
    assert.deepEqual(r.errors, { non2xx: 5, connect: 1, read: 2, write: 3, timeout: 4 });
    assert.equal(totalErrors(r), 15);
  });

  it('fails loudly when the latency distribution is missing', () => {
    const noLatency = CLEAN.replace(/ {5}99%.*\n/, '');
    assert.throws(() => parseWrkOutput(noLatency), /no 99% latency line/);
  });

  it('fails loudly on output that is not wrk’s', () => {
    assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:8080'), /unrecognised wrk output/);
  });
});
