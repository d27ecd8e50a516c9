/**
 * The httpreq provider against real node:http and node:https servers on 127.0.0.1, which record
 * each request (method, path, headers, body) and answer as the test tells them to. The exchange's
 * timeout goes through a manual scheduler, so the test decides when it expires.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../x509/index.ts';
import { HttpReqDnsProvider, type HttpReqDnsProviderOptions } from './dns01-httpreq.ts';
import { ManualScheduler } from './test-dns01-helpers.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What the server does with the next requests (default: 200 with an empty body). */
type Answer = (res: ServerResponse) => void;

class RecordingServer {
  readonly seen: Seen[] = [];
  answer: Answer = (res) => res.end();
  /** Resolves when a request has arrived (for the timeout test: the server then stays silent). */
  arrived: (() => void) | undefined;
  server!: Server;
  base = '';

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      this.arrived?.();
      this.answer(res);
    });
  };

  async listen(server: Server, scheme: 'http' | 'https'): Promise<void> {
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.base = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('HttpReqDnsProvider', () => {
  const http = new RecordingServer();
  const tls = selfSignedCertificate(['127.0.0.1']);
  const https = new RecordingServer();

  before(async () => {
    await http.listen(createServer(http.handle), 'http');
    await https.listen(createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, https.handle), 'https');
  });
  after(async () => {
    await http.close();
    await https.close();
  });

  const provider = (endpoint: string, extra: Partial<HttpReqDnsProviderOptions> = {}) =>
    new HttpReqDnsProvider({ endpoint: new URL(endpoint), timeoutMs: 30_000, ...extra });

  /** The requests a call made (the server's log from now on). */
  async function requests(call: () => Promise<void>, server = http): Promise<Seen[]> {
    const mark = server.seen.length;
    await call();
    return server.seen.slice(mark);
  }

  it("POSTs lego's JSON body to /present and /cleanup under the endpoint", async () => {
    http.answer = (res) => res.end();
    const p = provider(http.base);
    const seen = await requests(async () => {
      await p.present('_acme-challenge.example.com.', 'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM');
      await p.cleanup('_acme-challenge.example.com.', 'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM');
    });
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers['content-type'], JSON.parse(s.body)]),
      [
        [
          'POST',
          '/present',
          'application/json',
          { fqdn: '_acme-challenge.example.com.', value: 'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM' },
        ],
        [
          'POST',
          '/cleanup',
          'application/json',
          { fqdn: '_acme-challenge.example.com.', value: 'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM' },
        ],
      ],
    );
    assert.equal(seen[0]?.headers.authorization, undefined, 'no credentials configured, none sent');
  });

  it("keeps the endpoint's path and query, with one slash before the action", async () => {
    const seen = await requests(async () => {
      await provider(`${http.base}/api/dns/`).present('a.', 'b');
      await provider(`${http.base}/api/dns?zone=x`).cleanup('a.', 'b');
    });
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/api/dns/present', '/api/dns/cleanup?zone=x'],
    );
  });

  it('sends Basic authentication when both a user name and a password are set', async () => {
    const seen = await requests(async () => {
      await provider(http.base, { username: 'acme', password: 'pä:ss' }).present('a.', 'b');
      await provider(http.base, { username: 'acme', password: '' }).present('a.', 'b');
      await provider(http.base, { username: '', password: 'secret' }).present('a.', 'b');
    });
    assert.deepEqual(
      seen.map((s) => s.headers.authorization),
      [`Basic ${Buffer.from('acme:pä:ss').toString('base64')}`, undefined, undefined],
    );
  });

  it('uses credentials in the endpoint URL unless the variables are set, and never shows them', async () => {
    const withUser = http.base.replace('://', '://url-user:url-pass@');
    const seen = await requests(async () => {
      await provider(withUser).present('a.', 'b');
      await provider(withUser, { username: 'env-user', password: 'env-pass' }).present('a.', 'b');
    });
    assert.deepEqual(
      seen.map((s) => s.headers.authorization),
      [
        `Basic ${Buffer.from('url-user:url-pass').toString('base64')}`,
        `Basic ${Buffer.from('env-user:env-pass').toString('base64')}`,
      ],
    );
    http.answer = (res) => {
      res.statusCode = 401;
      res.end();
    };
    await assert.rejects(provider(withUser).present('a.', 'b'), (e: Error) => {
      assert.equal(e.message, `httpreq: POST ${http.base}/present answered 401 Unauthorized`);
      return true;
    });
  });

  it('accepts any 2xx status', async () => {
    http.answer = (res) => {
      res.statusCode = 204;
      res.end();
    };
    await provider(http.base).present('a.', 'b');
    http.answer = (res) => {
      res.statusCode = 202;
      res.end('queued');
    };
    await provider(http.base).cleanup('a.', 'b');
  });

  it('fails on a status outside 2xx, naming it, with the start of the body', async () => {
    http.answer = (res) => {
      res.statusCode = 500;
      res.end(`zone example.com is locked\n${'x'.repeat(5000)}`);
    };
    await assert.rejects(provider(http.base).present('a.', 'b'), (e: Error) => {
      assert.match(
        e.message,
        /^httpreq: POST http:\/\/127\.0\.0\.1:\d+\/present answered 500 Internal Server Error: zone example\.com is locked\n/,
      );
      assert.ok(e.message.length < 700, `message of ${e.message.length} characters`);
      return true;
    });
    // A redirect is not followed: the record would not be where the service says it is.
    http.answer = (res) => {
      res.statusCode = 302;
      res.setHeader('location', '/elsewhere');
      res.end();
    };
    await assert.rejects(provider(http.base).cleanup('a.', 'b'), /\/cleanup answered 302 Found$/);
  });

  it('gives up when the service does not answer in time', async () => {
    const scheduler = new ManualScheduler();
    const arrived = new Promise<void>((resolve) => {
      http.arrived = resolve;
    });
    http.answer = () => {};
    const run = provider(http.base, { scheduler, timeoutMs: 30_000 }).present('a.', 'b');
    const outcome = run.then(
      () => undefined,
      (e: Error) => e,
    );
    await arrived;
    http.arrived = undefined;
    assert.equal(scheduler.pending[0], 30_000);
    scheduler.fire(30_000);
    const err = await outcome;
    assert.ok(err instanceof Error);
    assert.equal(err.message, `httpreq: POST ${http.base}/present: no answer within 30 s`);
    http.answer = (res) => res.end();
  });

  it('clears its timer once answered', async () => {
    const scheduler = new ManualScheduler();
    http.answer = (res) => res.end();
    await provider(http.base, { scheduler }).present('a.', 'b');
    assert.equal(scheduler.pending.length, 0);
  });

  it('fails when the service cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      provider(`http://127.0.0.1:${port}`).present('a.', 'b'),
      new RegExp(`httpreq: POST http://127\\.0\\.0\\.1:${port}/present: connect ECONNREFUSED`),
    );
  });

  it('speaks https to an https endpoint, verifying its certificate', async () => {
    https.answer = (res) => res.end();
    const seen = await requests(() => provider(https.base, { ca: tls.certPem }).present('a.', 'b'), https);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, JSON.parse(s.body)]),
      [['POST', '/present', { fqdn: 'a.', value: 'b' }]],
    );
    await assert.rejects(provider(https.base).present('a.', 'b'), /self-signed certificate/);
  });

  it('refuses an endpoint that is not http or https', () => {
    assert.throws(() => provider('ftp://127.0.0.1/dns'), /must be an http or https URL, not ftp:/);
  });
});
