import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * The buffering middleware through the real proxy (issue 12): request bodies are read whole
 * (413 past the limit), spilled to a temporary file past memRequestBodyBytes and forwarded with a
 * Content-Length, the file deleted afterwards; responses are read whole (500 past the limit) and
 * relayed with a Content-Length; retryExpression retries.
 */
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const spoolFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('traffic-body-'));

describe('buffering middleware', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;
  let tmp: string;
  /** Files seen in the proxy's $TMPDIR while the backend held a request. */
  let seenDuring: string[] = [];
  let flaky = 0;
  let always502 = 0;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tm-buffering-'));
    backend = await startBackend((req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/flaky')) {
        // 502 once, then 200: retried by retryExpression (IsNetworkError() is 502 or 504).
        flaky++;
        res.writeHead(flaky % 2 === 1 ? 502 : 200);
        res.end(`try ${flaky}`);
        return;
      }
      if (url.startsWith('/always502')) {
        always502++;
        res.writeHead(502);
        res.end(`try ${always502}`);
        return;
      }
      if (url.endsWith('/big-response')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(300_000, 1));
        res.end(Buffer.alloc(300_000, 2));
        return;
      }
      if (url.startsWith('/chunks')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a'.repeat(5000));
        setTimeout(() => res.end('b'.repeat(5000)), 20);
        return;
      }
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      req.on('end', () => {
        seenDuring = spoolFiles(tmp);
        res.setHeader(
          'x-framing',
          req.headers['content-length'] !== undefined ? `length ${req.headers['content-length']}` : 'chunked',
        );
        res.end(`${n} ${h.digest('hex')}`);
      });
    });
    proxy = await startProxy({
      env: { ...process.env, TMPDIR: tmp },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, middlewares: [buf] }
    forever: { rule: "PathPrefix(\`/always502\`)", service: be, middlewares: [retry-forever] }
    getOnly: { rule: "PathPrefix(\`/flaky-get\`)", service: be, middlewares: [retry-get] }
    outer: { rule: "PathPrefix(\`/outer\`)", service: be, middlewares: [cors, small, buf] }
    paged: { rule: "PathPrefix(\`/paged\`)", service: be, middlewares: [pages, buf] }
    req413: { rule: "PathPrefix(\`/req413\`)", service: be, middlewares: [cors, tiny, inner] }
  middlewares:
    cors:
      headers:
        accessControlAllowOriginList: ["https://app.test"]
        customResponseHeaders: { X-Outer: "yes" }
    small:
      buffering:
        maxResponseBodyBytes: 100
    tiny:
      buffering:
        maxRequestBodyBytes: 10
    inner:
      headers:
        customResponseHeaders: { X-Inner: "yes" }
    pages:
      errors:
        status: ["500"]
        service: be
        query: "/page-{status}"
    retry-get:
      buffering:
        retryExpression: 'IsNetworkError() && Attempts() < 2 && RequestMethod() == "GET"'
    retry-forever:
      buffering:
        retryExpression: "IsNetworkError()"
    buf:
      buffering:
        maxRequestBodyBytes: 4000000
        memRequestBodyBytes: 100000
        maxResponseBodyBytes: 500000
        memResponseBodyBytes: 2000
        retryExpression: "IsNetworkError() && Attempts() < 2"
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reads a chunked 3 MB upload whole, spills it to a file, forwards it with a Content-Length, then deletes the file', async () => {
    const body = randomBytes(3_000_000);
    const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/upload`], {
      stdin: body,
    });
    assert.equal(r.status, 200, r.stderr);
    assert.equal(r.body.toString(), `3000000 ${sha(body)}`);
    assert.deepEqual(r.headers['x-framing'], ['length 3000000']);
    assert.equal(seenDuring.length, 1, 'the body was in a temporary file while it was sent');
    for (let i = 0; i < 100 && spoolFiles(tmp).length > 0; i++)
      await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(spoolFiles(tmp), [], 'and the file is gone afterwards');
  });

  it('keeps a small body in memory (no file)', async () => {
    const r = await curl(['--data-binary', 'small body', `${base}/upload`]);
    assert.equal(r.body.toString(), `10 ${sha(Buffer.from('small body'))}`);
    assert.deepEqual(seenDuring, []);
  });

  it('answers 413 past maxRequestBodyBytes, announced or chunked', async () => {
    const big = Buffer.alloc(4_100_000, 7);
    const announced = await curl(['--data-binary', '@-', `${base}/upload`], { stdin: big });
    assert.equal(announced.status, 413);
    // oxy's SizeErrHandler writes Go's http.StatusText(413), not RFC 9110's "Content Too Large".
    assert.equal(announced.body.toString(), 'Request Entity Too Large');
    const chunked = await curl(
      ['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/upload`],
      {
        stdin: big,
      },
    );
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.toString(), 'Request Entity Too Large');
  });

  it('relays a buffered response with a Content-Length, and 500 past maxResponseBodyBytes', async () => {
    const r = await curl([`${base}/chunks`]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['content-length'], ['10000']);
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.body.toString(), `${'a'.repeat(5000)}${'b'.repeat(5000)}`);
    // 10 000 bytes past memResponseBodyBytes went through a file, deleted once sent.
    for (let i = 0; i < 100 && spoolFiles(tmp).length > 0; i++)
      await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(spoolFiles(tmp), []);
    const big = await curl([`${base}/big-response`]);
    assert.equal(big.status, 500);
  });

  // oxy answers on the writer it was given: the middlewares before buffering see its 500 (their
  // headers, an errors page), and the client connection stays open.
  it('gives the 500 past maxResponseBodyBytes to the middlewares before it, and keeps the connection', async () => {
    const r = await curl([
      '-H',
      'Origin: https://app.test',
      `${base}/outer/big-response`,
      `${base}/outer/small`,
    ]);
    const [big, next] = r.transfers;
    assert.equal(big!.status, 500);
    assert.deepEqual(big!.headers['x-outer'], ['yes']);
    assert.deepEqual(big!.headers['access-control-allow-origin'], ['https://app.test']);
    assert.equal(next!.status, 200);
    assert.equal(Number(next!.info.num_connects), 0, 'the second request reused the connection');
    const paged = await curl([`${base}/paged/big-response`]);
    assert.equal(paged.status, 500);
    assert.match(paged.body.toString(), /^0 /, 'the page of the errors middleware before it');
  });

  it('gives its 413 to the middlewares before it only, announced or chunked', async () => {
    for (const framing of [[], ['-H', 'Transfer-Encoding: chunked']]) {
      const r = await curl([...framing, '--data-binary', 'x'.repeat(20), `${base}/req413`]);
      assert.equal(r.status, 413);
      assert.deepEqual(r.headers['x-outer'], ['yes']);
      assert.equal(r.headers['x-inner'], undefined, 'a middleware after buffering does not see it');
    }
    const ok = await curl(['--data-binary', 'x', `${base}/req413`]);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.headers['x-inner'], ['yes']);
  });

  it('stops a retryExpression that always holds after 11 tries, as oxy does', async () => {
    always502 = 0;
    const r = await curl([`${base}/always502`]);
    assert.equal(r.status, 502);
    // oxy tests attempt > 10 before counting the next try: tries 1 to 11 are made.
    assert.equal(r.body.toString(), 'try 11');
    assert.equal(always502, 11);
  });

  it("reads oxy's RequestMethod() with a string: a GET is retried, a POST is not", async () => {
    flaky = 0;
    const get = await curl([`${base}/flaky-get`]);
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), 'try 2');
    flaky = 0;
    const post = await curl(['--data-binary', 'payload', `${base}/flaky-get`]);
    assert.equal(post.status, 502);
    assert.equal(post.body.toString(), 'try 1');
  });

  it('retries with retryExpression (a 502 is retried once)', async () => {
    flaky = 0;
    const r = await curl(['--data-binary', 'payload', `${base}/flaky`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'try 2');
  });
});
