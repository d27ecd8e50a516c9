import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * The compress middleware through the real proxy, with curl decoding (issue 12): gzip, br and
 * zstd come back byte for byte, over HTTP/1.1 and HTTP/2; an event stream stays live through it;
 * what must not be compressed is not; Vary, ETag and the size rule as Traefik v3 has them.
 */

/** 300 KB of JSON-like text (compressible) and 300 KB of random bytes (not). */
const JSON_BODY = Buffer.from(
  JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }))),
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('compress middleware', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await startBackend((req, res) => {
      const url = (req.url ?? '/').replace(/^\/(plain|brfirst)/, '');
      if (url.startsWith('/json')) {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': JSON_BODY.length,
          etag: '"v1"',
        });
        res.end(JSON_BODY);
      } else if (url.startsWith('/large')) {
        // Known length past the one-shot size: streamed through the coder.
        const large = Buffer.concat([JSON_BODY, JSON_BODY, JSON_BODY]);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': large.length });
        res.end(large);
      } else if (url.startsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let i = 0;
        const step = () => {
          if (i >= JSON_BODY.length) return res.end();
          res.write(JSON_BODY.subarray(i, i + 7000));
          i += 7000;
          setImmediate(step);
        };
        step();
      } else if (url.startsWith('/small')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 4 });
        res.end('tiny');
      } else if (url.startsWith('/tiny-chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('tiny');
      } else if (url.startsWith('/identity')) {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'identity',
          'content-length': JSON_BODY.length,
        });
        res.end(JSON_BODY);
      } else if (url.startsWith('/not-modified')) {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
      } else if (url.startsWith('/grpc')) {
        res.writeHead(200, { 'content-type': 'application/grpc' });
        res.end(JSON_BODY);
      } else if (url.startsWith('/sse')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const t = setInterval(() => res.write(`data: event ${n++}\n\n`), 30);
        res.on('close', () => clearInterval(t));
      } else if (url.startsWith('/random')) {
        const rnd = randomBytes(100_000);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-sha': sha(rnd) });
        res.end(rnd);
      } else {
        res.end('?');
      }
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, middlewares: [zip] }
    plain: { rule: "PathPrefix(\`/plain\`)", service: be }
    brfirst: { rule: "PathPrefix(\`/brfirst\`)", service: be, middlewares: [brzip] }
  middlewares:
    zip:
      compress:
        excludedContentTypes: [application/octet-stream]
    brzip:
      compress:
        encodings: [br, gzip]
        # Go's mime.ParseMediaType takes a type alone and any token: these load, as in Traefik.
        excludedContentTypes: [text, "*/*", "application/vnd.a~b"]
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  for (const coding of ['gzip', 'br', 'zstd']) {
    for (const proto of ['--http1.1', '--http2-prior-knowledge']) {
      it(`${coding} over ${proto === '--http1.1' ? 'HTTP/1.1' : 'h2c'}: curl decodes the body byte for byte`, async () => {
        for (const path of ['/json', '/chunked', '/large']) {
          const r = await curl([proto, '-H', `Accept-Encoding: ${coding}`, '--compressed', `${base}${path}`]);
          assert.equal(r.status, 200, `${path}: ${r.stderr}`);
          assert.deepEqual(r.headers['content-encoding'], [coding], path);
          // Known and small: compressed in one go and sent with its length; else streamed.
          if (path === '/json')
            assert.deepEqual(r.headers['content-length'], [String(r.transfers[0]!.info.size_download)]);
          else assert.equal(r.headers['content-length'], undefined, path);
          const want = path === '/large' ? Buffer.concat([JSON_BODY, JSON_BODY, JSON_BODY]) : JSON_BODY;
          assert.equal(r.sha256, sha(want), `${path}: decoded body`);
          assert.ok(
            Number(r.transfers[0]!.info.size_download) < want.length / 5,
            `${path}: ${r.transfers[0]!.info.size_download} bytes on the wire for ${want.length}`,
          );
        }
      });
    }
  }

  it('adds Vary and keeps the ETag as it was (Traefik); leaves the plain route alone', async () => {
    const r = await curl(['-H', 'Accept-Encoding: gzip', '-o', '/dev/null', `${base}/json`], {
      keepBody: false,
    });
    assert.deepEqual(r.headers.vary, ['Accept-Encoding']);
    assert.deepEqual(r.headers.etag, ['"v1"']);
    const p = await curl(['-H', 'Accept-Encoding: gzip', `${base}/plain/json`]);
    assert.equal(p.headers['content-encoding'], undefined);
    assert.equal(p.headers.vary, undefined);
    assert.deepEqual(p.headers['content-length'], [String(JSON_BODY.length)]);
  });

  it('sends small bodies of known length, gRPC, excluded types, encoded bodies and clients that accept no coding as they are', async () => {
    const small = await curl(['-H', 'Accept-Encoding: gzip', `${base}/small`]);
    assert.equal(small.body.toString(), 'tiny');
    assert.equal(small.headers['content-encoding'], undefined);
    // A coding was chosen, so the answer varies on Accept-Encoding even when left as it is.
    assert.deepEqual(small.headers.vary, ['Accept-Encoding']);
    const grpc = await curl(['-H', 'Accept-Encoding: gzip', `${base}/grpc`]);
    assert.equal(grpc.headers['content-encoding'], undefined);
    assert.equal(grpc.sha256, sha(JSON_BODY));
    const rnd = await curl(['-H', 'Accept-Encoding: gzip', `${base}/random`]);
    assert.equal(rnd.headers['content-encoding'], undefined);
    assert.equal(rnd.sha256, rnd.headers['x-sha']?.[0]);
    const id = await curl(['-H', 'Accept-Encoding: br', `${base}/identity`]);
    assert.deepEqual(id.headers['content-encoding'], ['identity']);
    assert.equal(id.sha256, sha(JSON_BODY));
    const none = await curl([`${base}/json`]);
    assert.equal(none.headers['content-encoding'], undefined);
    assert.equal(none.headers.vary, undefined);
    assert.equal(none.sha256, sha(JSON_BODY));
    const nm = await curl(['-H', 'Accept-Encoding: gzip', `${base}/not-modified`]);
    assert.equal(nm.status, 304);
    assert.deepEqual(nm.headers.vary, ['Accept-Encoding']);
  });

  it('compresses a body of unknown length from its first byte, however short (Traefik flushes it)', async () => {
    for (const proto of ['--http1.1', '--http2-prior-knowledge']) {
      const r = await curl([proto, '-H', 'Accept-Encoding: br', '--compressed', `${base}/tiny-chunked`]);
      assert.deepEqual(r.headers['content-encoding'], ['br'], proto);
      assert.equal(r.body.toString(), 'tiny', proto);
    }
  });

  it('gzip only when the client names it: through `*` the body goes out as it is (gzhttp), br is used when it ranks first', async () => {
    const star = await curl(['-H', 'Accept-Encoding: *', `${base}/json`]);
    assert.equal(star.headers['content-encoding'], undefined);
    assert.deepEqual(star.headers.vary, ['Accept-Encoding']);
    assert.equal(star.sha256, sha(JSON_BODY));
    const brFirst = await curl(['-H', 'Accept-Encoding: *', '--compressed', `${base}/brfirst/json`]);
    assert.deepEqual(brFirst.headers['content-encoding'], ['br']);
    assert.equal(brFirst.sha256, sha(JSON_BODY));
  });

  it('keeps an event stream live: each gzip-compressed event can be read as it is sent', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/sse`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        try {
          assert.equal(res.headers['content-encoding'], 'gzip');
        } catch (e) {
          reject(e);
          return;
        }
        const gunzip = createGunzip();
        res.pipe(gunzip);
        gunzip.setEncoding('utf8');
        gunzip.on('data', (d: string) => {
          for (const e of d.split('\n\n')) if (e !== '') events.push(e);
          if (events.length >= 5) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (events.length >= 5 ? resolve() : reject(e)));
      req.setTimeout(10_000, () => reject(new Error(`only ${events.length} events in 10 s`)));
      req.end();
    });
    assert.deepEqual(events.slice(0, 5), [
      'data: event 0',
      'data: event 1',
      'data: event 2',
      'data: event 3',
      'data: event 4',
    ]);
  });
});
