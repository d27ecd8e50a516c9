import assert from 'node:assert/strict';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { Ticker } from '../core/ticker.ts';
import { AlpnPool } from './alpn-pool.ts';
import { h2PoolOptions, RecordingUser } from './test-h2.ts';

const ENGINES = ['node', 'own'] as const;

import { type Issued, TestPki } from './test-pki.ts';
import { loadUpstreamTls, type UpstreamTls } from './transport-tls.ts';

let pki: TestPki;
let cert: Issued;
let tls: UpstreamTls;
const ticker = new Ticker(20);

before(() => {
  pki = new TestPki();
  cert = pki.issue('backend', ['127.0.0.1']);
  const r = loadUpstreamTls({ rootCAs: [pki.ca.certFile] });
  assert.ok(r.ok);
  tls = r.tls;
});

after(() => {
  ticker.stop();
  pki.remove();
});

for (const engine of ENGINES) {
  describe(`AlpnPool (https servers, HTTP/2 allowed) (${engine} engine)`, () => {
    it('speaks HTTP/2 to a server that picks h2, on one TLS connection', async (t) => {
      const handshakes: string[] = [];
      const server = createSecureServer({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: true });
      server.on('secureConnection', (s: TLSSocket) => handshakes.push(String(s.alpnProtocol)));
      server.on('stream', (s, h) => {
        s.respond({ ':status': 200 });
        s.end(`h2 ${h[':scheme']} ${h[':path']}`);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const pool = new AlpnPool(h2PoolOptions(port, { tls }), h2PoolOptions(port, { tls }), ticker, engine);
      t.after(() => {
        pool.close();
        server.close();
      });
      const users = [1, 2, 3].map((i) => new RecordingUser({ target: `/${i}` }));
      for (const u of users) pool.acquire(u, 'GET');
      await Promise.all(users.map((u) => u.done));
      assert.deepEqual(
        users.map((u) => u.body),
        ['h2 https /1', 'h2 https /2', 'h2 https /3'],
      );
      assert.equal(pool.protocol, 'h2');
      assert.deepEqual(handshakes, ['h2'], 'one connection, ALPN h2');
      assert.equal(pool.streams!.opened, 3);
    });

    it('hands the connection to HTTP/1.1 when the server picks http/1.1, without a second handshake', async (t) => {
      const handshakes: string[] = [];
      const server = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
        res.end(`h1 ${req.url}`);
      });
      server.keepAliveTimeout = 30_000;
      server.on('secureConnection', (s: TLSSocket) => handshakes.push(String(s.alpnProtocol)));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const pool = new AlpnPool(h2PoolOptions(port, { tls }), h2PoolOptions(port, { tls }), ticker, engine);
      t.after(() => {
        pool.close();
        server.closeAllConnections();
        server.close();
      });
      const a = new RecordingUser({ target: '/a' });
      pool.acquire(a, 'GET');
      await a.done;
      assert.equal(a.body, 'h1 /a');
      assert.equal(pool.protocol, 'http/1.1');
      const b = new RecordingUser({ target: '/b' });
      pool.acquire(b, 'GET');
      await b.done;
      assert.equal(b.body, 'h1 /b');
      assert.deepEqual(handshakes, ['http/1.1'], 'the first connection served both requests');
      assert.equal(pool.stats.reused, 1);
      assert.equal(pool.streams, null);
    });
  });
}
