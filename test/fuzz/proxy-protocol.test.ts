/**
 * Fuzzing the PROXY protocol reader (src/core/proxy-protocol.ts) that an entry point with
 * `proxyProtocol` runs on the first bytes of every connection: real headers (ours, which the e2e
 * test checks against HAProxy's `send-proxy`/`send-proxy-v2`, plus v2 headers with TLVs, LOCAL
 * and AF_UNIX), mutated (bytes, v1 characters, v2 length/version/family fields at boundary
 * values, truncations, repeats, what follows), and random bytes.
 *
 * In process, against a reference reading of HAProxy's doc/proxy-protocol.txt written here from
 * the spec alone: the reader never throws, gives the same verdict as the reference (header,
 * addresses and length; or invalid; or none; or incomplete), never asks for more bytes than a
 * header can have (an `incomplete` input is shorter than the longest header: it cannot make a
 * connection wait for ever), and never decides early (a prefix of a header is `incomplete`).
 * Through the real proxy: every mutated header, followed by a request and the client's FIN, ends
 * with the proxy closing the connection; a malformed header gets no byte back; a header gets its
 * request served with the declared client as X-Forwarded-For; the proxy stays up and its
 * descriptors come back.
 *
 *   FUZZ_PP_CASES=500000 FUZZ_SEED=5 node --test test/fuzz/proxy-protocol.test.ts
 */
import assert from 'node:assert/strict';
import net, { isIPv4 } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeProxyHeader, type ProxyHeaderParse, parseProxyHeader } from '../../src/core/proxy-protocol.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { assertBackToIdle, type Footprint, footprint, idleChange } from '../helpers/chaos.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const CASES = Number(process.env['FUZZ_PP_CASES'] ?? 50_000);
const PROXY_CASES = Number(process.env['FUZZ_PP_PROXY_CASES'] ?? 400);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const V1_MAX = 107;
const V2_MAX = 16 + 4096;

/**
 * Inputs that once broke the reader (or that the reference and the reader once disagreed on), kept
 * as regression cases. Each was found by this fuzzer; the commit that added it says how.
 */
const REGRESSIONS: readonly { readonly hex: string; readonly why: string }[] = [
  {
    // Seed 1, case 17: byte 14 = 0x03, family UNSPEC with transport 3, was read as a header.
    hex: '0d0a0d0a000d0a515549540a2103002420010db8000000000000000000000007000000000000000000000000000000010001ffff',
    why: 'v2 transport protocol other than 0-2 is invalid',
  },
  {
    // Seed 1, case 35: `PROXY TCP6 fe80::1%eth0 ::1 1 65535`, the zone reached the client address.
    hex: '50524f5859205443503620666538303a3a312565746830203a3a3120312036353533350d0a',
    why: 'v1 IPv6 address with a zone is invalid',
  },
  {
    // Family 4 on a header declaring 256 bytes: refused at byte 14, not after waiting for them.
    hex: '0d0a0d0a000d0a515549540a21410100',
    why: 'v2 unknown family is invalid before the rest arrives',
  },
];

// ---- the reference: the spec, read independently of the reader under test ----

/** Dotted quad, four decimal octets 0–255 without leading zeros (inet_pton's AF_INET form). */
function refIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address as inet_pton(AF_INET6) takes it: hex groups, one `::`, an optional final IPv4; no zone. */
function refIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  let text = s;
  if (s.includes('.')) {
    // A final dotted quad stands for the last two groups.
    const at = s.lastIndexOf(':');
    if (at < 0 || !refIPv4(s.slice(at + 1))) return false;
    text = `${s.slice(0, at + 1)}0:0`;
  }
  const hex = (g: string): boolean => /^[0-9A-Fa-f]{1,4}$/.test(g);
  const halves = text.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) {
    const groups = text.split(':');
    return groups.length === 8 && groups.every(hex);
  }
  const left = halves[0] === '' ? [] : halves[0]!.split(':');
  const right = halves[1] === '' ? [] : halves[1]!.split(':');
  // `::` stands for one group or more.
  return left.every(hex) && right.every(hex) && left.length + right.length <= 7;
}

function refPort(s: string): number {
  return /^(0|[1-9]\d{0,4})$/.test(s) && Number(s) <= 65_535 ? Number(s) : -1;
}

type RefVerdict =
  | { kind: 'incomplete' | 'none' | 'invalid' }
  | { kind: 'header'; version: 1 | 2; length: number; source: string | null; sourcePort: number | null };

function reference(b: Buffer): RefVerdict {
  if (b.length === 0) return { kind: 'incomplete' };
  const n12 = Math.min(b.length, 12);
  if (b.subarray(0, n12).equals(SIG.subarray(0, n12))) {
    if (b.length < 16) return { kind: 'incomplete' };
    // Byte 13: version 2 in the high nibble; command LOCAL (0) or PROXY (1).
    if (b[12]! >> 4 !== 2) return { kind: 'invalid' };
    const cmd = b[12]! & 0xf;
    if (cmd > 1) return { kind: 'invalid' };
    // Byte 14: family 0–3 and transport 0–2; "other values are unspecified and must not be emitted
    // in version 2 of this protocol and must be rejected as invalid by receivers".
    const fam = b[13]! >> 4;
    const transport = b[13]! & 0xf;
    if (fam > 3 || transport > 2) return { kind: 'invalid' };
    const len = 16 + b.readUInt16BE(14);
    if (len > V2_MAX) return { kind: 'invalid' };
    if (b.length < len) return { kind: 'incomplete' };
    if (cmd === 0 || fam === 0 || fam === 3)
      return { kind: 'header', version: 2, length: len, source: null, sourcePort: null };
    const need = fam === 1 ? 12 : 36;
    if (len - 16 < need) return { kind: 'invalid' };
    if (fam === 1) {
      return {
        kind: 'header',
        version: 2,
        length: len,
        source: [...b.subarray(16, 20)].join('.'),
        sourcePort: b.readUInt16BE(24),
      };
    }
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(16 + 2 * i).toString(16));
    const source = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
    return { kind: 'header', version: 2, length: len, source, sourcePort: b.readUInt16BE(48) };
  }
  const prefix = Buffer.from('PROXY ', 'latin1');
  const n6 = Math.min(b.length, 6);
  if (!b.subarray(0, n6).equals(prefix.subarray(0, n6))) return { kind: 'none' };
  if (b.length < 6) return { kind: 'incomplete' };
  // A v1 line ends at the first CRLF, 107 bytes at most with it.
  let end = -1;
  for (let i = 0; i + 1 < Math.min(b.length, V1_MAX); i++) {
    if (b[i] === 0x0d && b[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) return b.length >= V1_MAX ? { kind: 'invalid' } : { kind: 'incomplete' };
  const line = b.toString('latin1', 0, end);
  if (/[\r\n]/.test(line)) return { kind: 'invalid' };
  const f = line.split(' ');
  // UNKNOWN: "the receiver must ignore anything presented before the CRLF".
  if (f[1] === 'UNKNOWN')
    return { kind: 'header', version: 1, length: end + 2, source: null, sourcePort: null };
  if (f.length !== 6) return { kind: 'invalid' };
  const ok = f[1] === 'TCP4' ? refIPv4 : f[1] === 'TCP6' ? refIPv6 : null;
  if (ok === null || !ok(f[2]!) || !ok(f[3]!)) return { kind: 'invalid' };
  const sp = refPort(f[4]!);
  if (sp < 0 || refPort(f[5]!) < 0) return { kind: 'invalid' };
  return { kind: 'header', version: 1, length: end + 2, source: f[2]!, sourcePort: sp };
}

/** The reader's verdict in the reference's terms. */
function verdict(p: ProxyHeaderParse): RefVerdict {
  if (p.kind !== 'header') return { kind: p.kind };
  return {
    kind: 'header',
    version: p.version,
    length: p.length,
    source: p.addresses?.sourceAddress ?? null,
    sourcePort: p.addresses?.sourcePort ?? null,
  };
}

// ---- inputs ----

function v2(cmd: number, famByte: number, addr: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(16);
  SIG.copy(h);
  h[12] = 0x20 | cmd;
  h[13] = famByte;
  h.writeUInt16BE(addr.length + tlvs.length, 14);
  return Buffer.concat([h, addr, tlvs]);
}

function seedHeaders(): Buffer[] {
  const four = { remoteAddress: '192.0.2.7', remotePort: 51_000, localAddress: '127.0.0.1', localPort: 80 };
  const six = { remoteAddress: '2001:db8::7', remotePort: 1, localAddress: '::1', localPort: 65_535 };
  const mixed = {
    remoteAddress: '::ffff:198.51.100.1',
    remotePort: 0,
    localAddress: 'fe80::1:2',
    localPort: 443,
  };
  const out: Buffer[] = [];
  for (const v of [1, 2] as const) {
    for (const c of [four, six, mixed, undefined]) out.push(encodeProxyHeader(v, c));
  }
  const tlv = (type: number, value: string): Buffer => {
    const t = Buffer.alloc(3);
    t[0] = type;
    t.writeUInt16BE(value.length, 1);
    return Buffer.concat([t, Buffer.from(value, 'latin1')]);
  };
  const addr4 = Buffer.from([203, 0, 113, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb]);
  out.push(v2(1, 0x11, addr4, Buffer.concat([tlv(0x01, 'h2'), tlv(0x02, 'a.test'), tlv(0x04, '')])));
  out.push(v2(1, 0x12, addr4)); // UDP over IPv4
  out.push(v2(0, 0x11, addr4)); // LOCAL with addresses (ignored)
  out.push(v2(1, 0x31, Buffer.alloc(216, 0x61))); // AF_UNIX
  out.push(v2(1, 0x00, Buffer.alloc(0)));
  out.push(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n', 'latin1'));
  out.push(Buffer.from('PROXY TCP6 ::ffff:10.1.2.3 ::1 65535 0\r\n', 'latin1'));
  out.push(Buffer.from('PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n', 'latin1'));
  return out;
}

const V1_CHARS = '0123456789abcdefABCDEF.: %\r\n\0-+xPROXYTCP46UNKNOW';

function mutate(r: Rand, seeds: readonly Buffer[]): Buffer {
  const h = Buffer.from(pick(r, seeds));
  const isV2 = h[0] === 0x0d;
  switch (int(r, 10)) {
    case 0: {
      const n = 1 + int(r, 3);
      for (let i = 0; i < n; i++) h[int(r, h.length)] = int(r, 256);
      return h;
    }
    case 1: {
      // A character of the v1 alphabet put in, or over, one of the line's.
      const at = int(r, h.length);
      const c = Buffer.from(pick(r, [...V1_CHARS]), 'latin1');
      return r() < 0.5
        ? Buffer.concat([h.subarray(0, at), c, h.subarray(at)])
        : Buffer.concat([h.subarray(0, at), c, h.subarray(at + 1)]);
    }
    case 2:
    case 3: {
      if (!isV2) {
        // A v1 field replaced by another one's, or by an edge value.
        const f = h.toString('latin1').split(' ');
        const i = int(r, f.length);
        f[i] = pick(r, [
          '',
          '0',
          '00',
          '65536',
          '99999',
          '1.2.3',
          '1.2.3.4.5',
          '01.2.3.4',
          '256.1.1.1',
          '::',
          '::1',
          'fe80::1%eth0',
          '1:2:3:4:5:6:7:8:9',
          '::ffff:1.2.3.4',
          'TCP4',
          'TCP6',
          'UNKNOWN',
          'UDP4',
          f[int(r, f.length)]!,
        ]);
        return Buffer.from(f.join(' '), 'latin1');
      }
      // v2: version/command, family/transport or the length at boundary values.
      const which = int(r, 3);
      if (which === 0) h[12] = pick(r, [0x20, 0x21, 0x22, 0x2f, 0x11, 0x31, 0x01, int(r, 256)]);
      else if (which === 1)
        h[13] = pick(r, [0x00, 0x11, 0x12, 0x13, 0x21, 0x22, 0x31, 0x32, 0x41, 0x1f, int(r, 256)]);
      else
        h.writeUInt16BE(
          pick(r, [0, 1, 11, 12, 13, 35, 36, 37, 216, 4095, 4096, 4097, 0xffff, int(r, 0x10000)]),
          14,
        );
      return h;
    }
    case 4:
      return h.subarray(0, int(r, h.length));
    case 5: {
      const a = int(r, h.length);
      const b = Math.min(h.length, a + int(r, 40));
      const at = int(r, h.length);
      return Buffer.concat([h.subarray(0, at), h.subarray(a, b), h.subarray(at)]);
    }
    case 6: {
      // Padding inside a v1 line (long lines), or a long v2 TLV area.
      const pad = Buffer.alloc(int(r, 200), pick(r, [0x20, 0x30, 0x41]));
      const at = isV2 ? h.length : Math.max(0, h.indexOf('\r\n'));
      const out = Buffer.concat([h.subarray(0, at), pad, h.subarray(at)]);
      if (isV2) out.writeUInt16BE(Math.min(0xffff, out.length - 16), 14);
      return out;
    }
    case 7: {
      const n = int(r, 300);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = int(r, 256);
      const start = pick(r, [SIG, Buffer.from('PROXY ', 'latin1'), Buffer.alloc(0)]);
      start.copy(b, 0, 0, Math.min(n, start.length));
      return b;
    }
    default: // what follows the header: a request, TLS bytes, or another header
      return Buffer.concat([
        h,
        pick(r, [Buffer.from('GET / HTTP/1.1\r\n'), Buffer.from([0x16, 3, 1]), h, Buffer.from('\r\n')]),
      ]);
  }
}

function readAll(input: Buffer, what: string): ProxyHeaderParse {
  try {
    return parseProxyHeader(input);
  } catch (e) {
    assert.fail(`${what} threw ${String(e)} on ${input.toString('hex')}`);
  }
}

describe(`fuzz: the PROXY protocol reader (${CASES} cases in process, ${PROXY_CASES} through the proxy, seed ${SEED})`, () => {
  const seeds = seedHeaders();

  it('reads every seed header as the reference does, and waits on each of its prefixes', () => {
    for (const h of seeds) {
      const p = readAll(h, 'seed');
      assert.equal(p.kind, 'header', h.toString('hex'));
      assert.deepEqual(verdict(p), reference(h), h.toString('hex'));
      for (let n = 0; n < h.length; n++)
        assert.equal(parseProxyHeader(h.subarray(0, n)).kind, 'incomplete', `prefix ${n}`);
    }
  });

  it('gives the reference verdict for the inputs that once found bugs', () => {
    for (const { hex, why } of REGRESSIONS) {
      const input = Buffer.from(hex, 'hex');
      assert.equal(readAll(input, why).kind, 'invalid', why);
      assert.deepEqual(verdict(readAll(input, why)), reference(input), why);
    }
  });

  it('never throws, agrees with the reference, never waits past the longest header, never decides early', () => {
    const r = seededRandom(SEED);
    const kinds = { incomplete: 0, none: 0, invalid: 0, header: 0 };
    for (let i = 0; i < CASES; i++) {
      const input = mutate(r, seeds);
      const what = `case ${i} (seed ${SEED}): ${input.toString('hex')}`;
      const p = readAll(input, what);
      kinds[p.kind]++;
      assert.deepEqual(verdict(p), reference(input), what);
      if (p.kind === 'incomplete')
        assert.ok(input.length < V2_MAX, `${what}: incomplete at ${input.length} bytes`);
      if (p.kind === 'header') {
        assert.ok(p.length > 0 && p.length <= input.length, what);
        // What follows the header does not change it, and no prefix of it is a verdict yet.
        assert.deepEqual(parseProxyHeader(Buffer.concat([input, Buffer.from('x')])), p, what);
        const n = int(r, p.length);
        assert.equal(parseProxyHeader(input.subarray(0, n)).kind, 'incomplete', `${what}: prefix ${n}`);
      }
    }
    assert.ok(
      Object.values(kinds).every((k) => k > 0),
      JSON.stringify(kinds),
    );
  });

  describe('through an entry point with proxyProtocol', () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let pid: number;
    let idle: Footprint;

    /** Writes `input`, then FIN; resolves with what came back once the proxy closed. */
    const exchange = (input: Buffer): Promise<{ data: Buffer; closed: boolean }> =>
      new Promise((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1');
        const chunks: Buffer[] = [];
        // Only a hang detector: the proxy closes every connection long before (first-bytes and
        // read-header timeouts are 2 s here); a case that reaches it fails.
        const timer = setTimeout(() => {
          s.destroy();
          resolve({ data: Buffer.concat(chunks), closed: false });
        }, 15_000);
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve({ data: Buffer.concat(chunks), closed: true });
        });
        s.on('connect', () => s.end(input));
      });

    const REQUEST = Buffer.from('GET /pp HTTP/1.1\r\nHost: fuzz.test\r\nConnection: close\r\n\r\n', 'latin1');

    before(async () => {
      // Connection: close, so that no pooled upstream connection counts against the idle descriptors.
      backend = await startBackend((req, res) => {
        res.setHeader('connection', 'close');
        res.end(`xff=${req.headers['x-forwarded-for'] ?? ''}`);
      });
      proxy = await startProxy({
        config: `entryPoints:
  pp:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["127.0.0.1"] }
    transport:
      respondingTimeouts: { readHeaderTimeout: 2s }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      pid = proxy.child.pid!;
      const ok = await exchange(Buffer.concat([seeds[0]!, REQUEST]));
      assert.match(ok.data.toString('latin1'), /^HTTP\/1\.1 200 [\s\S]*xff=192\.0\.2\.7$/);
      idle = footprint(pid);
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('closes every connection, answers nothing to a malformed header, serves the declared client', async (t) => {
      const r = seededRandom(SEED * 7919);
      let next = 0;
      const outcomes = { header: 0, invalid: 0, none: 0, incomplete: 0 };
      let served = 0;
      const worker = async (): Promise<void> => {
        while (next < PROXY_CASES) {
          const i = next++;
          const header = mutate(r, seeds);
          const input = Buffer.concat([header, REQUEST]);
          const expect = parseProxyHeader(input);
          const what = `case ${i}: ${header.toString('hex')} (${expect.kind})`;
          const got = await exchange(input);
          assert.ok(got.closed, `${what}: the proxy did not close the connection`);
          outcomes[expect.kind]++;
          if (expect.kind === 'invalid')
            assert.equal(got.data.length, 0, `${what}: answered ${got.data.toString('latin1')}`);
          if (expect.kind === 'header' && input.subarray(expect.length).equals(REQUEST)) {
            const src = expect.addresses?.sourceAddress;
            const xff =
              src === undefined
                ? '127.0.0.1'
                : src.startsWith('::ffff:') && isIPv4(src.slice(7))
                  ? src.slice(7)
                  : src;
            const text = got.data.toString('latin1');
            assert.match(text, /^HTTP\/1\.1 200 /, what);
            assert.ok(text.endsWith(`xff=${xff}`), `${what}: ${text}`);
            served++;
          }
          if (i % 50 === 49) {
            assert.equal(proxy.child.exitCode, null);
            const ok = await exchange(Buffer.concat([seeds[0]!, REQUEST]));
            assert.match(ok.data.toString('latin1'), /^HTTP\/1\.1 200 /, `after case ${i}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      const bad = proxy.logs.filter((l) => l.level === 'raw' || l.msg === 'internal error');
      assert.deepEqual(bad, []);
      t.diagnostic(
        `${PROXY_CASES} connections by verdict: ${JSON.stringify(outcomes)}; ${served} requests served with the declared client`,
      );
      assert.ok(served > 0 && outcomes.invalid > 0, 'the cases reached both sides');
      t.diagnostic(
        idleChange(idle, await assertBackToIdle(pid, idle, 'after the headers', 15_000, PROXY_CASES <= 1000)),
      );
    });
  });
});
