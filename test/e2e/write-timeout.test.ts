import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES, type H2Engine } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';

/*
 * respondingTimeouts.writeTimeout (Traefik's key, Go's WriteTimeout): the time from a request's
 * head to the end of its response. A client that stops reading an endless response keeps the
 * response from ever ending: the proxy must let go of it (HTTP/1.1: the connection is closed;
 * HTTP/2: the stream is reset with INTERNAL_ERROR, as Go's HTTP/2 server does). The other timers
 * are long, so only writeTimeout can end it.
 */

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes the response body for as long as the proxy reads it (the write callbacks pace it). */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const more = (): void => {
    while (!res.destroyed && res.write(CHUNK));
  };
  res.on('drain', more);
  more();
}

function configFor(be: Backend): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { writeTimeout: 500ms, readTimeout: 10m, idleTimeout: 10m, readHeaderTimeout: 10m }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`;
}

describe('respondingTimeouts.writeTimeout', () => {
  let be: Backend;
  /** One proxy per HTTP/2 engine; `proxy` serves the HTTP/1.1 cases. */
  const proxies: Partial<Record<H2Engine, ProxyProcess>> = {};
  let proxy: ProxyProcess;
  /** Responses of the endless backend that ended because the proxy dropped them. */
  const dropped: ServerResponse[] = [];
  let onDropped: (() => void) | null = null;

  before(async () => {
    be = await startBackend((req, res) => {
      if (req.url !== '/endless') {
        res.end('ok');
        return;
      }
      res.on('close', () => {
        if (!res.writableFinished) {
          dropped.push(res);
          onDropped?.();
        }
      });
      endless(res);
    });
    for (const engine of H2_ENGINES) {
      proxies[engine] = await startProxy({ config: configFor(be), env: engineEnv(engine) });
    }
    proxy = proxies[H2_ENGINES[0]!]!;
  });
  after(async () => {
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    await be?.close();
  });

  function nextDrop(): Promise<void> {
    const seen = dropped.length;
    return new Promise((resolve) => {
      onDropped = () => {
        if (dropped.length > seen) resolve();
      };
    });
  }

  it('answers a response written in time as usual, on a connection that stays open', async (t) => {
    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    for (let i = 0; i < 2; i++) {
      c.write('GET /ok HTTP/1.1\r\nHost: test.local\r\n\r\n');
      const res = await c.readResponse();
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
    }
    assert.equal(c.isClosed, false);
  });

  it('closes an HTTP/1.1 connection whose client stops reading the response', async (t) => {
    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    const drop = nextDrop();
    c.socket.pause(); // reads nothing from now on: the response can never be written whole
    c.write('GET /endless HTTP/1.1\r\nHost: test.local\r\n\r\n');
    await drop; // the proxy let go of the upstream response
    c.socket.resume();
    await c.waitClosed();
    const got = c.received();
    assert.match(got, /^HTTP\/1\.1 200 /, 'the response had started');
    assert.doesNotMatch(got, /\r\n0\r\n\r\n$/, 'the chunked body never ended: the response was cut');
  });

  for (const engine of H2_ENGINES) {
    it(`resets an HTTP/2 stream whose client stops reading it, and the connection goes on (${engine} engine)`, async (t) => {
      const client = http2Connect(`http://127.0.0.1:${proxies[engine]!.port}`);
      t.after(() => client.close());
      client.on('error', () => {});
      const drop = nextDrop();
      // No 'data' listener: the stream's buffer fills, its window closes, the proxy cannot finish.
      const stream = client.request({ ':path': '/endless' });
      let error: Error | undefined;
      stream.on('error', (e: Error) => {
        error = e;
      });
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      assert.equal(headers[':status'], 200);
      await Promise.all([drop, new Promise((resolve) => stream.on('close', resolve))]);
      assert.equal(stream.rstCode, 2, 'RST_STREAM(INTERNAL_ERROR), as Go');
      assert.match(String(error), /NGHTTP2_INTERNAL_ERROR/);
      const ok = client.request({ ':path': '/ok' });
      const [okHeaders] = (await once(ok, 'response')) as [Record<string, unknown>];
      ok.resume();
      assert.equal(okHeaders[':status'], 200, 'the same connection serves the next stream');
    });
  }
});
