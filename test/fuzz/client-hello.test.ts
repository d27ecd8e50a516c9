/**
 * Fuzzing the TLS ClientHello peek (src/tls/sni.ts) that the TLS entry points run on the first
 * bytes of every connection, before node's handshake: real ClientHellos from node's own client
 * (several SNI and ALPN lists, TLS 1.2 and 1.3), mutated (bytes, length fields set to boundary
 * values, truncations, extensions duplicated, records re-split), and random bytes.
 *
 * In-process: the reader never throws, answers only incomplete / invalid / hello, and never
 * decides early: a prefix of a hello it accepts is `incomplete` (or that hello, once it is all
 * there), and the same hello
 * split over more TLS records reads the same. Through the real proxy: mutated hellos on the TLS
 * entry point never take it down, it keeps serving HTTPS, and its descriptors come back.
 *
 *   FUZZ_HELLO_CASES=200000 FUZZ_SEED=5 node --test test/fuzz/client-hello.test.ts
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type ClientHello, MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../../src/tls/sni.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { assertBackToIdle, type Footprint, footprint, idleChange } from '../helpers/chaos.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const CASES = Number(process.env['FUZZ_HELLO_CASES'] ?? 20_000);
const PROXY_CASES = Number(process.env['FUZZ_HELLO_PROXY_CASES'] ?? 300);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** The first flight of node's TLS client with these options, as a server receives it. */
async function captureHello(opts: {
  servername?: string;
  ALPNProtocols?: string[];
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (parseClientHello(buf).kind !== 'incomplete') {
          resolve(buf);
          s.destroy();
        }
      });
    });
  });
  const client = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** Re-frames a one-record hello into records of the given sizes (the handshake split across them). */
function resplit(hello: Buffer, sizes: readonly number[]): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  let at = 0;
  for (const s of [...sizes, body.length]) {
    if (at >= body.length) break;
    const piece = body.subarray(at, Math.min(body.length, at + Math.max(1, s)));
    const head = Buffer.from([0x16, hello[1]!, hello[2]!, 0, 0]);
    head.writeUInt16BE(piece.length, 3);
    out.push(head, piece);
    at += piece.length;
  }
  return Buffer.concat(out);
}

/** Offsets of the 16- and 24-bit length fields of a one-record ClientHello (record, handshake, vectors). */
function lengthFields(h: Buffer): { at: number; bytes: 1 | 2 | 3 }[] {
  const fields: { at: number; bytes: 1 | 2 | 3 }[] = [
    { at: 3, bytes: 2 },
    { at: 6, bytes: 3 },
  ];
  let p = 9 + 2 + 32; // record 5 + handshake 4, version, random
  if (p >= h.length) return fields;
  fields.push({ at: p, bytes: 1 }); // session id
  p += 1 + h[p]!;
  if (p + 2 > h.length) return fields;
  fields.push({ at: p, bytes: 2 }); // cipher suites
  p += 2 + h.readUInt16BE(p);
  if (p >= h.length) return fields;
  fields.push({ at: p, bytes: 1 }); // compression
  p += 1 + h[p]!;
  if (p + 2 > h.length) return fields;
  fields.push({ at: p, bytes: 2 }); // extensions
  p += 2;
  while (p + 4 <= h.length) {
    fields.push({ at: p + 2, bytes: 2 }); // each extension's length
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    if (type === 0 || type === 16) {
      fields.push({ at: p + 4, bytes: 2 }); // server_name list / ALPN list length
      if (type === 0 && p + 9 <= h.length) fields.push({ at: p + 7, bytes: 2 }); // host_name length
    }
    p += 4 + len;
  }
  return fields;
}

function mutate(r: Rand, seeds: readonly Buffer[]): Buffer {
  const h = Buffer.from(pick(r, seeds));
  switch (int(r, 8)) {
    case 0: {
      const n = 1 + int(r, 4);
      for (let i = 0; i < n; i++) h[int(r, h.length)] = int(r, 256);
      return h;
    }
    case 1:
    case 2: {
      const f = pick(r, lengthFields(h));
      const v = pick(r, [
        0,
        1,
        2,
        0x7f,
        0xff,
        0x100,
        0x3fff,
        0x4000,
        0x4001,
        0xffff,
        0xffffff,
        int(r, 0x1000000),
      ]);
      h.writeUIntBE(v % 2 ** (8 * f.bytes), f.at, f.bytes);
      return h;
    }
    case 3:
      return h.subarray(0, int(r, h.length));
    case 4: // a chunk of the hello repeated inside it (duplicated extensions and vectors)
      {
        const a = int(r, h.length);
        const b = Math.min(h.length, a + int(r, 64));
        const at = int(r, h.length);
        return Buffer.concat([h.subarray(0, at), h.subarray(a, b), h.subarray(at)]);
      }
    case 5:
      return resplit(
        h,
        Array.from({ length: 1 + int(r, 6) }, () => int(r, 300)),
      );
    case 6: {
      const n = int(r, 600);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = int(r, 256);
      if (n > 0 && r() < 0.5) b[0] = pick(r, [0x16, 0x80, 0x47]);
      return b;
    }
    default: // more data after the hello (the rest of a flight, or garbage)
      return Buffer.concat([h, Buffer.alloc(int(r, 100), int(r, 256))]);
  }
}

function assertShape(res: ClientHello, what: string): void {
  assert.ok(['incomplete', 'invalid', 'hello'].includes(res.kind), `${what}: kind ${res.kind}`);
  if (res.kind === 'hello') {
    assert.ok(res.serverName === undefined || typeof res.serverName === 'string', what);
    assert.ok(Array.isArray(res.alpn), what);
  }
}

describe(`fuzz: the TLS ClientHello peek (${CASES} cases in process, ${PROXY_CASES} through the proxy, seed ${SEED})`, () => {
  let seeds: Buffer[];

  before(async () => {
    seeds = [];
    for (const servername of ['a.test', 'fuzz.example.com', 'x'.repeat(200)])
      for (const ALPNProtocols of [undefined, ['h2', 'http/1.1'], ['http/1.1'], ['acme-tls/1']])
        for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const)
          seeds.push(
            await captureHello({
              servername,
              maxVersion,
              ...(ALPNProtocols === undefined ? {} : { ALPNProtocols }),
            }),
          );
    seeds.push(await captureHello({}));
  });

  it('reads every real ClientHello, whole or split over records, and waits on every prefix', () => {
    for (const h of seeds) {
      const res = parseClientHello(h);
      assert.equal(res.kind, 'hello');
      for (let n = 0; n < h.length; n++)
        assert.equal(parseClientHello(h.subarray(0, n)).kind, 'incomplete', `prefix ${n}`);
      for (const sizes of [[1], [4, 4], [100], [3, 1, 2000]])
        assert.deepEqual(parseClientHello(resplit(h, sizes)), res);
    }
  });

  it('never throws on mutated or random input, and never refuses a prefix of a hello it accepts', () => {
    const r = seededRandom(SEED);
    const kinds = { incomplete: 0, invalid: 0, hello: 0 };
    for (let i = 0; i < CASES; i++) {
      const input = mutate(r, seeds);
      let res: ClientHello;
      try {
        res = parseClientHello(input);
      } catch (e) {
        assert.fail(`case ${i} (seed ${SEED}) threw ${String(e)} on ${input.toString('hex')}`);
      }
      assertShape(res, `case ${i}`);
      kinds[res.kind]++;
      if (res.kind === 'hello' && input.length < MAX_CLIENT_HELLO_BYTES) {
        // A hello must not be refused before its last byte (a slow client sends it in pieces); a
        // prefix gives `incomplete`, or the same hello once the hello itself is all there
        // (what follows it is the rest of the flight).
        const n = int(r, input.length);
        const prefix = parseClientHello(input.subarray(0, n));
        if (prefix.kind !== 'incomplete')
          assert.deepEqual(
            prefix,
            res,
            `case ${i}: prefix ${n}/${input.length} gave ${JSON.stringify(prefix)}`,
          );
      }
    }
    assert.ok(kinds.hello > 0 && kinds.invalid > 0 && kinds.incomplete > 0, JSON.stringify(kinds));
  });

  describe('through the TLS entry point of the real proxy', () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let pid: number;
    let idle: Footprint;

    const https = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: proxy.port,
            path: '/hello',
            servername: 'a.test',
            rejectUnauthorized: false,
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });

    before(async () => {
      backend = await startBackend((_req, res) => res.end('ok'));
      proxy = await startProxy({
        config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
    transport:
      respondingTimeouts: { readHeaderTimeout: 2s }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      pid = proxy.child.pid!;
      assert.equal(await https(), 200);
      idle = footprint(pid);
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('stays up, keeps serving HTTPS, and holds no descriptor afterwards', async (t) => {
      const r = seededRandom(SEED * 7919);
      let next = 0;
      const outcomes = { closed: 0, quiet: 0 };
      const worker = async (): Promise<void> => {
        while (next < PROXY_CASES) {
          const i = next++;
          const input = mutate(r, seeds);
          const o = await new Promise<'closed' | 'quiet'>((resolve) => {
            const s = net.connect(proxy.port, '127.0.0.1');
            let timer: NodeJS.Timeout | undefined;
            s.on('error', () => {});
            s.on('close', () => {
              clearTimeout(timer);
              resolve('closed');
            });
            s.on('connect', () =>
              s.write(input, () => {
                // A hello still incomplete waits for more (until the hello timeout): we hang up.
                timer = setTimeout(() => {
                  s.destroy();
                  resolve('quiet');
                }, 100);
              }),
            );
          });
          outcomes[o]++;
          if (i % 50 === 49) {
            assert.equal(proxy.child.exitCode, null);
            assert.equal(await https(), 200, `HTTPS after case ${i}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      assert.equal(await https(), 200);
      const bad = proxy.logs.filter((l) => l.level === 'raw' || l.msg === 'internal error');
      assert.deepEqual(bad, []);
      t.diagnostic(
        `${PROXY_CASES} hellos: ${outcomes.closed} closed by the proxy, ${outcomes.quiet} left waiting (incomplete)`,
      );
      t.diagnostic(
        idleChange(idle, await assertBackToIdle(pid, idle, 'after the hellos', 15_000, PROXY_CASES <= 1000)),
      );
    });
  });
});
