/**
 * Node CVE-2025-59465 (Node 24.13.0, January 2026): one HTTP/2 HEADERS frame whose HPACK block
 * cannot be decoded, over TLS, ended in an unhandled TLSSocket error that killed the process.
 * Against the real proxy on a TLS entry point (ALPN h2), with both HTTP/2 engines: a few kinds
 * of undecodable header blocks each end only their own connection (GOAWAY COMPRESSION_ERROR or
 * a close), and the proxy serves the next HTTP/2 client.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { END_HEADERS, END_STREAM, frame, HEADERS, PREFACE, SETTINGS } from '../helpers/h2-frames.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

/** Header blocks no HPACK decoder can read. */
const BLOCKS: Readonly<Record<string, Buffer>> = {
  'index 0': Buffer.from([0x80]),
  'an index past both tables': Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
  'a string longer than the block': Buffer.from([0x00, 0x7f, 0xff, 0x01, 0x61]),
  'an integer that overflows': Buffer.from([0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
  'a table size update above the limit': Buffer.from([0x3f, 0xe1, 0xff, 0xff, 0x0f, 0x82]),
  'bad Huffman padding': Buffer.from([0x00, 0x81, 0xff, 0x81, 0x00]),
};

for (const engine of H2_ENGINES) {
  describe(`undecodable HTTP/2 header blocks over TLS (Node CVE-2025-59465, ${engine} engine)`, () => {
    let pki: TestPki;
    let cert: Issued;
    let backend: Backend;
    let proxy: ProxyProcess;

    before(async () => {
      pki = new TestPki('h2 malformed headers CA');
      cert = pki.issue('a.test', ['a.test']);
      backend = await startBackend((req, res) => res.end(`ok ${req.url}`));
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
`,
        files: { 'a.pem': cert.certPem, 'a.key': cert.keyPem },
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
      pki?.remove();
    });

    /** Sends the preface, SETTINGS and a HEADERS frame holding `block`; resolves once closed. */
    const send = (block: Buffer): Promise<boolean> =>
      new Promise((resolve) => {
        const s = tlsConnect({
          host: '127.0.0.1',
          port: proxy.ports['websecure']!,
          servername: 'a.test',
          ca: pki.ca.certPem,
          ALPNProtocols: ['h2'],
        });
        const timer = setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 20_000);
        s.on('secureConnect', () => {
          s.write(
            Buffer.concat([
              PREFACE,
              frame(SETTINGS, 0, 0),
              frame(HEADERS, END_STREAM | END_HEADERS, 1, block),
            ]),
          );
        });
        s.on('data', () => {});
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });

    async function served(): Promise<number> {
      const client = http2.connect(`https://a.test:${proxy.ports['websecure']!}`, {
        host: '127.0.0.1',
        servername: 'a.test',
        ca: pki.ca.certPem,
      });
      client.on('error', () => {});
      try {
        const req = client.request({ ':path': '/after' });
        req.resume();
        return await new Promise<number>((resolve, reject) => {
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
        });
      } finally {
        client.close();
      }
    }

    for (const [what, block] of Object.entries(BLOCKS)) {
      it(`ends the connection on ${what}, and serves the next client`, async () => {
        assert.equal(await send(block), true, 'the proxy closed the connection');
        assert.equal(await served(), 200);
        assert.equal(proxy.child.exitCode, null, 'the proxy process is alive');
      });
    }
  });
}
