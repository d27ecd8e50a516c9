import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseH2loadOutput } from './h2load.ts';

// nghttp2 1.52's output for `h2load -c2 -m10 -D2 https://127.0.0.1:8443/`, progress lines included.
const OUTPUT = `starting benchmark...
spawning thread #0: 2 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.01s, 1000.00 req/s, 77.21KB/s
requests: 2011 total, 2018 started, 2011 done, 2000 succeeded, 11 failed, 9 errored, 1 timeout
status codes: 2000 2xx, 0 3xx, 2 4xx, 0 5xx
traffic: 154.43KB (158132) total, 95.70KB (98000) headers (space savings 50.51%), 23.44KB (24000) data
                     min         max         mean         sd        +/- sd
time for request:       50us      2.89ms       409us       217us    87.75%
time for connect:     3.85ms      6.66ms      5.26ms      1.99ms   100.00%
time to 1st byte:     6.80ms      7.82ms      7.31ms       717us   100.00%
req/s           :   17397.19    17561.16    17479.18      115.95   100.00%
`;

describe('parseH2loadOutput', () => {
  const r = parseH2loadOutput(OUTPUT);

  it('reads the duration, the request counts and the status classes', () => {
    assert.equal(r.durationS, 2.01);
    assert.equal(r.rps, 1000);
    assert.deepEqual(r.requests, {
      total: 2011,
      started: 2018,
      done: 2011,
      succeeded: 2000,
      failed: 11,
      errored: 9,
      timeout: 1,
    });
    assert.deepEqual(r.status, { s2xx: 2000, s3xx: 0, s4xx: 2, s5xx: 0 });
  });

  it('reads the request time line in milliseconds, not the connect or first-byte lines', () => {
    assert.deepEqual(r.requestMs, { min: 0.05, max: 2.89, mean: 0.409, sd: 0.217 });
  });

  it('reads the response body bytes of the traffic line', () => {
    assert.equal(r.dataBytes, 24000);
  });

  it('keeps what h2load says was negotiated', () => {
    assert.equal(r.tls['Application protocol'], 'h2');
    assert.equal(r.tls['Cipher'], 'TLS_AES_128_GCM_SHA256');
    assert.equal(r.tls['Server Temp Key'], 'X25519 253 bits');
  });

  it('fails loudly on output without totals, naming the missing line', () => {
    assert.throws(() => parseH2loadOutput('client could not connect to host'), /no "finished in" line/);
    const noTimes = OUTPUT.replace(/^time for request:.*\n/m, '');
    assert.throws(() => parseH2loadOutput(noTimes), /no "time for request:" line/);
  });
});
