/**
 * Go CVE-2026-78660 (Go 1.26.9, net/http http2clientConnReadLoop.handleResponse): Go's HTTP/2
 * client accepted responses whose framing-related fields were malformed (a Transfer-Encoding, a
 * Content-Length that is no number or is given twice, other connection-specific fields), and a
 * reverse proxy such as Traefik passed them on to an HTTP/1.1 client, which could frame the
 * response otherwise than the proxy did: response smuggling. Since the fix such a response is a
 * failed round trip (Traefik: 502). Ours, with both HTTP/2 client engines: `502`, and the
 * client's connection serves its next request. The backend is a scripted HTTP/2 server
 * (src/upstream/test-raw-h2.ts), as node:http2 refuses to send these responses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RawH2Server, startRawH2Server } from '../../src/upstream/test-raw-h2.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

/** The response head each path gets from the backend, before a 5-byte body `hello`. */
const HEADS: Readonly<Record<string, readonly string[]>> = {
  '/ok': [':status', '200', 'content-length', '5'],
  '/te-chunked': [':status', '200', 'transfer-encoding', 'chunked'],
  '/te-and-length': [':status', '200', 'content-length', '5', 'transfer-encoding', 'chunked'],
  '/length-list': [':status', '200', 'content-length', '5, 5'],
  '/length-twice': [':status', '200', 'content-length', '5', 'content-length', '50'],
  '/length-sign': [':status', '200', 'content-length', '+5'],
  '/connection': [':status', '200', 'connection', 'keep-alive', 'content-length', '5'],
  '/keep-alive': [':status', '200', 'keep-alive', 'timeout=5', 'content-length', '5'],
  '/upgrade': [':status', '200', 'upgrade', 'h2c', 'content-length', '5'],
};

for (const engine of H2_ENGINES) {
  describe(`an HTTP/2 backend's malformed framing fields never reach an HTTP/1.1 client (${engine} engine)`, () => {
    let backend: RawH2Server;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startRawH2Server((peer, id, fields) => {
        let path = '';
        for (let i = 0; i < fields.length; i += 2) if (fields[i] === ':path') path = fields[i + 1]!;
        peer.headers(id, HEADS[path] ?? [':status', '404'], false);
        peer.writer.data(id, Buffer.from('hello'), 0, 5, true);
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: h2 }
  services:
    h2: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${backend.port}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    for (const path of Object.keys(HEADS)) {
      const want = path === '/ok' ? 200 : 502;
      it(`${path}: ${want}, one well-framed response, then the connection's next request`, async () => {
        const r = await rawRequest(
          proxy.ports['web']!,
          `GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\nGET /ok HTTP/1.1\r\nHost: a.test\r\n\r\n`,
          { responses: 2, timeoutMs: 10_000 },
        );
        assert.equal(r.parseError, null, r.data.toString('latin1'));
        assert.equal(r.responses.length, 2, r.data.toString('latin1'));
        const [first, second] = r.responses;
        assert.equal(first!.status, want, r.data.toString('latin1'));
        for (const name of ['keep-alive', 'upgrade']) assert.equal(header(first!, name), undefined, name);
        if (want === 200) assert.equal(first!.body.toString(), 'hello');
        assert.equal(second!.status, 200);
        assert.equal(second!.body.toString(), 'hello');
      });
    }
  });
}

/**
 * Go CVE-2026-33814 (Go 1.26.3, x/net v0.53.0): Go's HTTP/2 transport looped for ever writing
 * CONTINUATION frames once a server announced SETTINGS_MAX_FRAME_SIZE 0. Ours refuses the value
 * (RFC 9113 §6.5.2: below 16384 is a PROTOCOL_ERROR): the request, a head large enough to need
 * CONTINUATION frames included, fails with 502 and the proxy serves on.
 */
for (const engine of H2_ENGINES) {
  describe(`an HTTP/2 backend announcing SETTINGS_MAX_FRAME_SIZE 0 (${engine} engine)`, () => {
    let backend: RawH2Server;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startRawH2Server(
        (peer, id) => {
          peer.headers(id, [':status', '200', 'content-length', '5'], false);
          peer.writer.data(id, Buffer.from('hello'), 0, 5, true);
        },
        [0x5, 0],
      );
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http: { maxHeaderBytes: 131072 }
ping: { entryPoint: web }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: h2 }
  services:
    h2: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${backend.port}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('fails the request with 502, a head needing CONTINUATION frames too, and serves on', async () => {
      // Random letters, so that HPACK's Huffman coding leaves well over 16384 bytes to send.
      const letters = (n: number): string =>
        Array.from({ length: n }, (_, i) => 'qzjxkv'[(i * 7) % 6]).join('');
      const big = `X-Big: ${letters(20_000)}\r\nX-Big2: ${letters(20_000)}\r\n`;
      for (const extra of ['', big]) {
        const r = await rawRequest(proxy.ports['web']!, `GET /x HTTP/1.1\r\nHost: a.test\r\n${extra}\r\n`, {
          responses: 1,
          timeoutMs: 20_000,
        });
        assert.equal(r.responses[0]?.status, 502, r.data.toString('latin1').slice(0, 200));
      }
      const ping = await rawRequest(proxy.ports['web']!, 'GET /ping HTTP/1.1\r\nHost: a.test\r\n\r\n', {
        responses: 1,
        timeoutMs: 5000,
      });
      assert.equal(ping.responses[0]?.status, 200);
    });
  });
}
