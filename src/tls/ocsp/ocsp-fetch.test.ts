import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { postOcsp } from './ocsp-fetch.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A responder that reads the whole request, answers `reply` and closes. */
async function answering(reply: string | Buffer): Promise<{ url: string; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const server = createServer((s) => {
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(got.toString('latin1'))?.[1] ?? -1);
      if (end !== -1 && got.length >= end + 4 + length) {
        requests.push(got);
        s.end(reply);
      }
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp?x=1`, requests };
}

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('postOcsp', () => {
  it('POSTs the request as application/ocsp-request and returns the body of a 200', async () => {
    const r = await answering(
      'HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 3\r\n\r\nabc',
    );
    const body = await postOcsp(r.url, Buffer.from([1, 2, 3, 4]), signal());
    assert.equal(body.toString(), 'abc');
    const sent = r.requests[0]!.toString('latin1');
    assert.match(sent, /^POST \/ocsp\?x=1 HTTP\/1\.0\r\n/);
    assert.match(sent, /\r\nContent-Type: application\/ocsp-request\r\n/);
    assert.match(sent, /\r\nContent-Length: 4\r\n/);
    assert.ok(r.requests[0]!.subarray(-4).equals(Buffer.from([1, 2, 3, 4])));
  });

  it('refuses an error status, a body cut short and what is not HTTP', async () => {
    const cases: [string, RegExp][] = [
      ['HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n', /HTTP 500/],
      ['HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc', /cut short/],
      ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP response/],
    ];
    for (const [reply, error] of cases) {
      const r = await answering(reply);
      await assert.rejects(postOcsp(r.url, Buffer.from([1]), signal()), error);
    }
  });

  it('gives up when the signal aborts, and refuses a URL that is not http(s)', async () => {
    const silent = createServer(() => {});
    servers.push(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const controller = new AbortController();
    const pending = postOcsp(
      `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
      Buffer.from([1]),
      controller.signal,
    );
    controller.abort(new Error('stop'));
    await assert.rejects(pending, /no answer: Error: stop/);
    await assert.rejects(postOcsp('ldap://x/', Buffer.from([1]), signal()), /unsupported responder URL/);
  });
});
