/**
 * Large bodies both ways through the real proxy process, verified by SHA-256 on the far side,
 * with the proxy's resident memory sampled from /proc during the transfer: a proxy that buffers
 * instead of streaming (or ignores backpressure) shows up as RSS growth.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { CURL, curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';
import { readRss, sampleRss } from '../helpers/rss.ts';
import { toolPath } from '../helpers/tools.ts';

const MB = 1024 * 1024;
const SIZE = 100 * MB;
/** Headroom over idle RSS that a streaming proxy must stay under while moving 100 MB. */
const RSS_HEADROOM = 60 * MB;

/**
 * Deterministic body bytes: a pseudo-random block whose length is not a power of two, repeated,
 * so that dropped, duplicated or reordered segments change the hash wherever they happen.
 */
const BLOCK = (() => {
  const b = Buffer.alloc(MB + 7);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();
const PIECE = 64 * 1024;

function* pieces(total: number): Generator<Buffer> {
  let sent = 0;
  let off = 0;
  while (sent < total) {
    const n = Math.min(PIECE, total - sent, BLOCK.length - off);
    yield BLOCK.subarray(off, off + n);
    sent += n;
    off = (off + n) % BLOCK.length;
  }
}

function expectedSha(total: number): string {
  const h = createHash('sha256');
  for (const p of pieces(total)) h.update(p);
  return h.digest('hex');
}

/** Writes `total` bytes to `res`, waiting for 'drain' whenever the socket pushes back. */
function stream(res: ServerResponse, total: number, written: { n: number }): void {
  const it = pieces(total);
  const pump = (): void => {
    for (;;) {
      const next = it.next();
      if (next.done) {
        res.end();
        return;
      }
      written.n += next.value.length;
      if (!res.write(next.value)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('close', () => it.return(undefined));
  pump();
}

/** Hashes the request body and answers with what arrived. */
function hashBody(req: IncomingMessage, res: ServerResponse): void {
  const h = createHash('sha256');
  let bytes = 0;
  req.on('data', (d: Buffer) => {
    h.update(d);
    bytes += d.length;
  });
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        sha256: h.digest('hex'),
        bytes,
        te: req.headers['transfer-encoding'] ?? null,
        cl: req.headers['content-length'] ?? null,
        expect: req.headers['expect'] ?? null,
      }),
    );
  });
}

describe('streaming large bodies', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;
  let idleRss = 0;
  let dir: string;
  let file: string;
  const written = { n: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-e2e-stream-'));
    file = join(dir, 'upload.bin');
    const parts: Buffer[] = [];
    for (const p of pieces(SIZE)) parts.push(p);
    writeFileSync(file, Buffer.concat(parts));
    backend = await startBackend((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const n = Number(url.searchParams.get('n') ?? SIZE);
      switch (url.pathname) {
        case '/cl':
          res.setHeader('Content-Length', n);
          stream(res, n, written);
          return;
        case '/chunked':
          stream(res, n, written);
          return;
        case '/upload':
          hashBody(req, res);
          return;
        case '/slow-upload':
          // Reads one piece at a time with a pause in between: far slower than curl can send.
          req.on('data', () => {
            req.pause();
            setTimeout(() => req.resume(), 1);
          });
          hashBody(req, res);
          return;
        case '/status': {
          const code = Number(url.searchParams.get('code'));
          res.statusCode = code;
          if (code === 304) res.setHeader('ETag', '"v1"');
          res.end();
          return;
        }
        case '/head-chunked':
          res.write('some');
          res.end('thing');
          return;
        default:
          res.end(`at ${url.pathname}`);
      }
    });
    // Requests that would otherwise get an automatic 100 Continue from node:http are refused
    // at /reject before the body is read: the proxy must relay the final status.
    backend.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/reject') === true) {
        res.statusCode = 413;
        res.end('too big');
        return;
      }
      res.writeContinue();
      backend.server.emit('request', req, res);
    });
    proxy = await startProxy({ config: simpleConfig([backend.url]).replace('DEBUG', 'INFO') });
    base = `http://127.0.0.1:${proxy.port}`;
    // Warm up with one transfer of each size class before taking the baseline: a cold Node
    // process grows its heap by tens of MB on the first large transfer (64 KiB socket read
    // buffers are external memory that V8 collects lazily) and then stays there. The bound is
    // on growth beyond that steady state, which is what buffering or missing backpressure adds.
    await curl(['-o', '/dev/null', `${base}/cl`]);
    await curl(['-o', '/dev/null', '--data-binary', `@${file}`, `${base}/upload`]);
    idleRss = readRss(proxy.child.pid!);
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function assertBounded(max: number, what: string): void {
    assert.ok(
      max < idleRss + RSS_HEADROOM,
      `${what}: proxy RSS peaked at ${(max / MB).toFixed(1)} MB, idle was ${(idleRss / MB).toFixed(1)} MB`,
    );
  }

  for (const kind of ['cl', 'chunked'] as const) {
    it(`downloads 100 MB (${kind === 'cl' ? 'Content-Length' : 'chunked'}) intact with bounded memory`, async () => {
      const rss = sampleRss(proxy.child.pid!);
      const r = await curl([`${base}/${kind}`], { keepBody: false });
      const max = rss.stop();
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.equal(r.bodyBytes, SIZE);
      assert.equal(r.sha256, expectedSha(SIZE));
      if (kind === 'cl') assert.deepEqual(r.headers['content-length'], [String(SIZE)]);
      else assert.deepEqual(r.headers['transfer-encoding'], ['chunked']);
      assertBounded(max, 'download');
    });
  }

  const uploads: [string, string[], string | null, string | null][] = [
    ['POST --data-binary (Content-Length)', ['--data-binary', '@FILE'], null, String(SIZE)],
    ['PUT -T (Content-Length)', ['-T', 'FILE'], null, String(SIZE)],
    ['PUT -T chunked', ['-T', 'FILE', '-H', 'Transfer-Encoding: chunked'], 'chunked', null],
  ];
  for (const [name, args, te, cl] of uploads) {
    it(`uploads 100 MB via ${name} intact with bounded memory`, async () => {
      const rss = sampleRss(proxy.child.pid!);
      const r = await curl([...args.map((a) => a.replace('FILE', file)), `${base}/upload`]);
      const max = rss.stop();
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      const got = JSON.parse(r.body.toString()) as Record<string, unknown>;
      assert.equal(got['bytes'], SIZE);
      assert.equal(got['sha256'], expectedSha(SIZE));
      assert.equal(got['te'], te);
      assert.equal(got['cl'], cl);
      assertBounded(max, 'upload');
    });
  }

  it('keeps memory flat while a slow reader pulls a large download (backpressure)', async () => {
    // The backend could send 10 GB as fast as it likes; only backpressure through the proxy
    // holds it back. The client reads at 8 MB/s; stop once 24 MB have arrived.
    const child = spawn(
      toolPath(CURL),
      ['-sS', '--http1.1', '--limit-rate', '8M', '-o', '-', `${base}/cl?n=${10 * 1024 * MB}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const startWritten = written.n;
    const rss = sampleRss(proxy.child.pid!);
    let got = 0;
    const exited = new Promise((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= 24 * MB) resolve();
      });
      child.on('close', () => reject(new Error(`curl ended after ${got} bytes`)));
    });
    const max = rss.stop();
    const sent = written.n - startWritten;
    child.kill('SIGKILL');
    await exited;
    assertBounded(max, 'slow reader');
    // What the backend managed to write beyond what the client read sits in socket buffers
    // (kernel autotuning allows tens of MB on loopback), never hundreds of MB in the proxy.
    assert.ok(sent - got < 200 * MB, `backend ran ${((sent - got) / MB).toFixed(0)} MB ahead of the reader`);
  });

  it('keeps memory flat while a slow backend reads a large upload (backpressure)', async () => {
    const rss = sampleRss(proxy.child.pid!);
    const r = await curl(['-H', 'Expect:', '--data-binary', `@${file}`, `${base}/slow-upload`]);
    const max = rss.stop();
    assert.equal(r.status, 200, r.stderr);
    const got = JSON.parse(r.body.toString()) as Record<string, unknown>;
    assert.equal(got['bytes'], SIZE);
    assert.equal(got['sha256'], expectedSha(SIZE));
    assertBounded(max, 'slow backend');
  });

  it('relays 100 Continue to a client that sends Expect, then streams the body', async () => {
    const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${base}/upload`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /^< HTTP\/1\.1 100 Continue/m);
    assert.equal(r.status, 200);
    const got = JSON.parse(r.body.toString()) as Record<string, unknown>;
    assert.equal(got['expect'], '100-continue');
    assert.equal(got['bytes'], SIZE);
    assert.equal(got['sha256'], expectedSha(SIZE));
  });

  it('relays a final status sent instead of 100 Continue, and closes the connection', async () => {
    const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${base}/reject`]);
    assert.equal(r.status, 413);
    assert.equal(r.body.toString(), 'too big');
    assert.doesNotMatch(r.stderr, /^< HTTP\/1\.1 100/m);
    assert.deepEqual(r.headers['connection'], ['close']);
  });

  it('sends no body for HEAD, 204 and 304 and keeps the connection usable', async () => {
    const req = (m: string, p: string) => `${m} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const methods = ['HEAD', 'GET', 'GET', 'HEAD', 'HEAD', 'GET'];
    const r = await rawRequest(
      proxy.port,
      req('HEAD', '/cl?n=12345') +
        req('GET', '/status?code=204') +
        req('GET', '/status?code=304') +
        req('HEAD', '/head-chunked') +
        req('HEAD', '/chunked?n=10') +
        req('GET', '/after'),
      { methods, responses: 6, timeoutMs: 5000 },
    );
    assert.equal(r.parseError, null);
    assert.deepEqual(
      r.responses.map((x) => x.status),
      [200, 204, 304, 200, 200, 200],
    );
    assert.equal(header(r.responses[0]!, 'content-length'), '12345', 'HEAD keeps the length of the GET');
    for (const x of r.responses.slice(0, 5)) assert.equal(x.body.length, 0);
    assert.equal(header(r.responses[2]!, 'etag'), '"v1"');
    assert.equal(r.responses[5]!.body.toString(), 'at /after');
    assert.equal(r.rest.length, 0, 'no stray bytes after the last response');
    assert.equal(r.closedBy, 'client', 'the proxy kept the connection open');
  });
});
