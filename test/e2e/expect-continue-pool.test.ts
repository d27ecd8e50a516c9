/**
 * Go CVE-2024-24791 (net/http, httputil.ReverseProxy): a backend answering an
 * `Expect: 100-continue` request with a final status before it read the body left the proxy's
 * pooled connection in a state where the next request on it failed (the backend still waited for
 * the body, and read the next request as its bytes). Ours never hands such a connection to the
 * next request: a backend that frames the body it was promised reads the next client's request
 * whole. The backend here is raw and strict: after a head with Content-Length it reads that
 * many bytes as the body, whatever they are, as Go's and node's servers do.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleConfig } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('Expect: 100-continue answered early by the backend (Go CVE-2024-24791)', () => {
  let server: net.Server;
  let port = 0;
  /** Request lines the backend parsed, with the body it read for each. */
  const seen: string[] = [];
  let proxy: ProxyProcess;

  before(async () => {
    server = net.createServer((sock) => {
      sock.on('error', () => {});
      let buf = Buffer.alloc(0);
      let bodyLeft = 0;
      let line = '';
      let body = '';
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (bodyLeft > 0) {
            if (buf.length === 0) return;
            const n = Math.min(bodyLeft, buf.length);
            body += buf.subarray(0, n).toString('latin1');
            buf = buf.subarray(n);
            bodyLeft -= n;
            if (bodyLeft > 0) return;
            seen.push(`${line} body=${JSON.stringify(body)}`);
            if (!line.includes('/reject')) sock.write(answer(200, `at ${line.split(' ')[1]}`));
            continue;
          }
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buf.subarray(0, end).toString('latin1');
          buf = buf.subarray(end + 4);
          line = head.split('\r\n')[0]!;
          body = '';
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          bodyLeft = cl === null ? 0 : Number(cl[1]);
          // The early answer: a final status at once, the connection kept alive, the body still
          // to be read.
          if (line.includes('/reject')) sock.write(answer(401, 'nope'));
          if (bodyLeft === 0) {
            seen.push(`${line} body=""`);
            if (!line.includes('/reject')) sock.write(answer(200, `at ${line.split(' ')[1]}`));
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    proxy = await startProxy({
      config: simpleConfig([`http://127.0.0.1:${port}`]),
    });
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  function answer(status: number, text: string): string {
    return `HTTP/1.1 ${status} X\r\nContent-Length: ${text.length}\r\n\r\n${text}`;
  }

  it("relays the early status, and the next client's request reaches the backend whole", async () => {
    for (let round = 0; round < 3; round++) {
      // The client announces a body and waits for 100 Continue, which never comes.
      const early = await rawRequest(
        proxy.ports['web']!,
        'POST /reject HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n',
        { responses: 1, timeoutMs: 5000 },
      );
      assert.equal(early.responses[0]?.status, 401, early.data.toString('latin1'));
      const victim = await rawRequest(
        proxy.ports['web']!,
        `GET /victim${round} HTTP/1.1\r\nHost: a.test\r\n\r\n`,
        {
          responses: 1,
          timeoutMs: 5000,
        },
      );
      assert.equal(
        victim.responses[0]?.status,
        200,
        `${victim.data.toString('latin1')} / ${seen.join(' | ')}`,
      );
      assert.equal(victim.responses[0]?.body.toString(), `at /victim${round}`);
    }
    assert.ok(
      seen.every((s) => !s.startsWith('POST /reject') || !s.includes('GET /victim')),
      `a victim's request was read as a body: ${seen.join(' | ')}`,
    );
  });
});
