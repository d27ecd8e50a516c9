import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { END_HEADERS, END_STREAM, frame, HEADERS, requestBlock, SETTINGS } from '../helpers/h2-frames.ts';
import { answered, goawayCode, RawH2 } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * Traefik v3.6's `entryPoints.<ep>.http2.maxDecoderHeaderTableSize` (Go's http2.Server
 * MaxDecoderHeaderTableSize): announced as SETTINGS_HEADER_TABLE_SIZE, and the largest dynamic
 * table size update a client may send (RFC 7541 §4.2, §6.3): above it, COMPRESSION_ERROR.
 * `maxEncoderHeaderTableSize` is accepted (our encoder keeps no dynamic table). Both engines.
 */

const S_HEADER_TABLE_SIZE = 0x1;
const COMPRESSION_ERROR = 0x9;
/** A dynamic table size update to 4096 (RFC 7541 §6.3: 001 + 5-bit prefix integer). */
const SIZE_UPDATE_4096 = Buffer.from([0x3f, 0xe1, 0x1f]);

/** The SETTINGS values the proxy announced (its first SETTINGS frame, not an ACK). */
function announced(c: RawH2): Map<number, number> {
  const s = c.frames.find((f) => f.type === SETTINGS && f.stream === 0 && (f.flags & 1) === 0);
  const out = new Map<number, number>();
  for (let p = 0; s !== undefined && p + 6 <= s.payload.length; p += 6) {
    out.set(s.payload.readUInt16BE(p), s.payload.readUInt32BE(p + 2));
  }
  return out;
}

for (const engine of ['own', 'node'] as const) {
  describe(`http2.maxDecoderHeaderTableSize (${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startBackend((_req, res) => res.end('ok'));
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  small:
    address: "127.0.0.1:0"
    http2: { maxDecoderHeaderTableSize: 256, maxEncoderHeaderTableSize: 0 }
experimental: { http2Engine: ${engine} }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('announces it, and refuses a table size update above it (COMPRESSION_ERROR)', async () => {
      const c = new RawH2(proxy.ports['small']!, true);
      try {
        await c.until((f) => f.some((x) => x.type === SETTINGS && (x.flags & 1) === 0), 'server SETTINGS');
        assert.equal(announced(c).get(S_HEADER_TABLE_SIZE), 256);
        const block = Buffer.concat([SIZE_UPDATE_4096, requestBlock('/x', '127.0.0.1')]);
        c.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, block));
        const f = await c.until((x) => goawayCode(x) !== undefined, 'GOAWAY');
        assert.equal(goawayCode(f), COMPRESSION_ERROR);
      } finally {
        c.destroy();
      }
    });

    it("keeps the protocol's 4096 by default: the same update is served", async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      try {
        await c.until((f) => f.some((x) => x.type === SETTINGS && (x.flags & 1) === 0), 'server SETTINGS');
        const table = announced(c).get(S_HEADER_TABLE_SIZE);
        assert.ok(table === undefined || table === 4096, String(table));
        const block = Buffer.concat([SIZE_UPDATE_4096, requestBlock('/x', '127.0.0.1')]);
        c.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, block));
        await c.until((f) => answered(f, 1), 'answer');
      } finally {
        c.destroy();
      }
    });
  });
}
