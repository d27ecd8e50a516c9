import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from './options.ts';

describe('parseOptions', () => {
  it('defaults to 3 rounds of 10 s with 2 s warm-up, 50 connections, every proxy', () => {
    assert.deepEqual(parseOptions([]), {
      modes: ['http'],
      rounds: 3,
      durationS: 10,
      warmupS: 2,
      connections: 50,
      streams: 10,
      only: undefined,
      profile: false,
      gc: false,
      variants: [],
      builds: [],
      nginxVariants: [],
      headers: [],
      rate: undefined,
      rateScale: new Map(),
      spread: false,
      help: false,
    });
  });

  it('reads --spread (no pinning)', () => {
    assert.equal(parseOptions(['--spread']).spread, true);
  });

  it('reads --gc (trace garbage collection)', () => {
    assert.equal(parseOptions(['--gc']).gc, true);
  });

  it('reads --build as another checkout of ours to run beside', () => {
    assert.deepEqual(parseOptions(['--build', 'before=../base']).builds, [
      { name: 'before', dir: '../base' },
    ]);
  });

  it('reads nginx variants and header fields, and refuses malformed ones', () => {
    const o = parseOptions([
      '--nginx-variant',
      'nginx-auth=bench/peers/nginx-basic-auth.conf',
      '--header',
      'Authorization: Basic dTpw',
      '--header=X-A: 1',
    ]);
    assert.deepEqual(o.nginxVariants, [{ name: 'nginx-auth', config: 'bench/peers/nginx-basic-auth.conf' }]);
    assert.deepEqual(o.headers, ['Authorization: Basic dTpw', 'X-A: 1']);
    assert.throws(() => parseOptions(['--header', 'no colon']), /Name: value/);
    assert.throws(() => parseOptions(['--nginx-variant', 'x']), /--nginx-variant must look like/);
  });

  it('reads every flag', () => {
    const o = parseOptions([
      '--rounds=5',
      '--duration',
      '30',
      '--warmup=0',
      '--connections=200',
      '--streams=20',
      '--mode',
      'h2,handshake',
      '--only',
      'nginx, ours',
      '--profile',
      '--variant',
      'ours-mw=bench/configs/mw.yaml',
    ]);
    assert.equal(o.rounds, 5);
    assert.equal(o.durationS, 30);
    assert.equal(o.warmupS, 0);
    assert.equal(o.connections, 200);
    assert.equal(o.streams, 20);
    assert.deepEqual(o.modes, ['h2', 'handshake']);
    assert.deepEqual(o.only, ['nginx', 'ours']);
    assert.equal(o.profile, true);
    assert.deepEqual(o.variants, [{ name: 'ours-mw', config: 'bench/configs/mw.yaml' }]);
  });

  it('rejects counts that are not positive integers', () => {
    assert.throws(() => parseOptions(['--rounds=0']), /--rounds must be a positive integer/);
    assert.throws(() => parseOptions(['--duration=1.5']), /--duration must be a positive integer/);
    assert.throws(() => parseOptions(['--warmup=-1']), /--warmup must be a non-negative integer/);
  });

  it('reads --mode workers alone or after another mode, without turning --spread on', () => {
    assert.deepEqual(parseOptions(['--mode', 'workers']).modes, ['workers']);
    const o = parseOptions(['--mode=http,workers']);
    assert.deepEqual(o.modes, ['http', 'workers']);
    assert.equal(o.spread, false);
  });

  it('expands --mode tls to the three TLS modes without repeating one named twice', () => {
    assert.deepEqual(parseOptions(['--mode=https,tls']).modes, ['https', 'h2', 'handshake']);
  });

  it('rejects an unknown or empty --mode', () => {
    assert.throws(
      () => parseOptions(['--mode=quic']),
      /unknown --mode "quic" \(known: http, https, h2, handshake, ws, compress, grpc, tcp-bulk, tcp-conn, udp, overload, latency, workers, tls, l4\)/,
    );
    assert.throws(() => parseOptions(['--mode=,']), /--mode needs at least one/);
    assert.throws(() => parseOptions(['--streams=0']), /--streams must be a positive integer/);
  });

  it('rejects an empty --only and a malformed --variant', () => {
    assert.throws(() => parseOptions(['--only=,']), /at least one proxy/);
    assert.throws(() => parseOptions(['--variant=no-equals-sign']), /name=path/);
    assert.throws(() => parseOptions(['--variant=Bad Name=x.yaml']), /name=path/);
  });

  it("reads --rate as nginx's maximum for --mode latency, and refuses it anywhere else", () => {
    assert.equal(parseOptions(['--mode', 'latency', '--rate', '25000']).rate, 25_000);
    assert.equal(parseOptions(['--mode', 'latency']).rate, undefined);
    assert.throws(() => parseOptions(['--rate', '25000']), /--rate is for --mode latency only/);
    assert.throws(() => parseOptions(['--mode=latency', '--rate=1']), /at least 2/);
    assert.throws(() => parseOptions(['--mode=latency', '--rate=1.5']), /--rate must be a positive integer/);
  });

  it('reads --rate-scale per proxy for --mode latency, and refuses malformed or stray ones', () => {
    const o = parseOptions(['--mode=latency', '--rate-scale', 'w2=2', '--rate-scale', 'w4=4.5']);
    assert.deepEqual(
      [...o.rateScale],
      [
        ['w2', 2],
        ['w4', 4.5],
      ],
    );
    assert.throws(() => parseOptions(['--rate-scale', 'w2=2']), /--rate-scale is for --mode latency only/);
    for (const bad of ['w2=0', 'w2=-1', 'w2=x', 'w2=', '=2', 'W2=2']) {
      assert.throws(
        () => parseOptions(['--mode=latency', '--rate-scale', bad]),
        /--rate-scale must look like/,
      );
    }
    assert.throws(
      () => parseOptions(['--mode=latency', '--rate-scale', 'w2=2', '--rate-scale', 'w2=3']),
      /w2 given twice/,
    );
  });

  it('rejects unknown flags and stray arguments', () => {
    assert.throws(() => parseOptions(['--round=3']), /Unknown option/);
    assert.throws(() => parseOptions(['nginx']), /unexpected argument "nginx"/);
  });
});
