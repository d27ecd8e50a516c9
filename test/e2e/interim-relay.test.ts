/**
 * Which 1xx a backend's client gets: every one but 101, as Traefik's reverse proxy writes each
 * informational response its transport hands the Got1xxResponse hook (net/http/httputil
 * ReverseProxy; Go's server writes any 1xx status). Ours relayed only 100 and 103 and dropped
 * `102 Processing` (WebDAV's keep-alive during a long operation) and `104 Upload Resumption
 * Supported`. HTTP/1.1 and HTTP/2 clients, both engines; HTTP/1.0 clients get none.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleConfig } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

const ANSWER =
  'HTTP/1.1 102 Processing\r\n\r\n' +
  'HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 6\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

for (const engine of H2_ENGINES) {
  describe(`1xx relayed to the client (${engine} engine)`, () => {
    let server: net.Server;
    let proxy: ProxyProcess;

    before(async () => {
      server = net.createServer((s) => {
        s.on('error', () => {});
        s.on('data', () => s.write(ANSWER));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as net.AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        config: simpleConfig([`http://127.0.0.1:${port}`]),
      });
    });

    after(async () => {
      await proxy?.stop();
      server?.close();
    });

    it('HTTP/1.1: 102 and 104 with its fields, then the response; HTTP/1.0: the response only', async () => {
      const r = await rawRequest(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', {
        timeoutMs: 5000,
      });
      const text = r.data.toString('latin1');
      assert.match(
        text,
        /^HTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 6\r\n\r\nHTTP\/1\.1 200 OK\r\n/,
      );
      const old = await rawRequest(proxy.port, 'GET / HTTP/1.0\r\nHost: a\r\nConnection: close\r\n\r\n', {
        timeoutMs: 5000,
      });
      assert.match(old.data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
    });

    it('HTTP/2: 102 and 104 as informational HEADERS, then the response', async () => {
      const session = connect(`http://127.0.0.1:${proxy.port}`);
      session.on('error', () => {});
      try {
        const req = session.request({ ':path': '/' });
        const interim: [number, string | undefined][] = [];
        req.on('headers', (h) =>
          interim.push([Number(h[':status']), h['upload-draft-interop-version'] as string | undefined]),
        );
        const [head] = (await once(req, 'response')) as [Record<string, unknown>];
        req.resume();
        await once(req, 'end');
        assert.equal(head[':status'], 200);
        assert.deepEqual(interim, [
          [102, undefined],
          [104, '6'],
        ]);
      } finally {
        session.close();
      }
    });
  });
}
