/**
 * A `mirroring` service's copies leave after the main service's answer, as Traefik's mirroring
 * serves its main handler first and then hands the copies to its routine pool
 * (pkg/server/service/loadbalancer/mirror/mirror.go ServeHTTP), with the body recorded within
 * `maxBodySize`. Through the real proxy: the main backend holds its answer until the mirror got
 * a copy (or a bounded wait ran out) and says which came first.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { within } from '../helpers/wait.ts';

/** How long the main backend waits for a copy before it answers; never what a test waits on. */
const COPY_WAIT_MS = 1500;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('mirroring: copies after the answer', () => {
  let main: Backend;
  let mirror: Backend;
  let proxy: ProxyProcess;
  /** The copies' bodies by request target, and who waits for one. */
  const copies = new Map<string, Buffer>();
  const waiting = new Map<string, () => void>();
  const copyOf = (url: string): Promise<Buffer> => {
    const got = copies.get(url);
    if (got !== undefined) return Promise.resolve(got);
    return new Promise((resolve) => waiting.set(url, () => resolve(copies.get(url)!)));
  };

  before(async () => {
    mirror = await startBackend(async (req, res) => {
      copies.set(req.url!, await readBody(req));
      res.end('mirror');
      waiting.get(req.url!)?.();
    });
    main = await startBackend(async (req, res) => {
      const body = await readBody(req);
      // The answer waits for a copy of this request, at most COPY_WAIT_MS.
      const copyFirst = await Promise.race([
        copyOf(req.url!).then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), COPY_WAIT_MS)),
      ]);
      res.end(`${copyFirst ? 'copy first' : 'answer first'} ${body.length}`);
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: mirrored }
    small: { rule: "PathPrefix(\`/small\`)", service: small }
  services:
    main: { loadBalancer: { servers: [{ url: "${main.url}" }] } }
    shadow: { loadBalancer: { servers: [{ url: "${mirror.url}" }] } }
    mirrored:
      mirroring:
        service: main
        mirrors: [{ name: shadow, percent: 100 }]
    small:
      mirroring:
        service: main
        maxBodySize: 10
        mirrors: [{ name: shadow, percent: 100 }]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([main?.close(), mirror?.close()]);
  });

  it("sends the copy once the main service answered, not with the request (Traefik's mirror.go)", async () => {
    const r = await within(httpRequest(proxy.port, { path: '/get' }), 'the answer');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'answer first 0');
    await within(copyOf('/get'), 'the copy after the answer');
  });

  it('sends a POST body with the copy after the answer, whole', async () => {
    const payload = randomBytes(100_000);
    const r = await within(
      httpRequest(proxy.port, { path: '/post', method: 'POST', body: payload }),
      'the answer',
    );
    assert.equal(r.status, 200);
    assert.equal(r.text, `answer first ${payload.length}`);
    const copy = await within(copyOf('/post'), 'the copy with its body');
    assert.equal(sha256(copy), sha256(payload));
  });

  it('sends no copy of a request whose HTTP/2 client reset its stream before the answer', async () => {
    const session = connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const stream = session.request({ ':path': '/h2/cancel' });
      stream.on('error', () => {});
      stream.end();
      // The main service has the request: the client gives up on it.
      await within(
        new Promise<void>((resolve) => {
          const check = () =>
            main.seen.some((x) => x.url === '/h2/cancel') ? resolve() : setTimeout(check, 10);
          check();
        }),
        'the main service to get the request',
      );
      stream.close(constants.NGHTTP2_CANCEL);
      // A later request's copy, sent after its answer, comes after the first one's would have.
      const r = await within(httpRequest(proxy.port, { path: '/h2/after' }), 'the answer');
      assert.equal(r.text, 'answer first 0');
      await within(copyOf('/h2/after'), 'the later copy');
      assert.ok(!copies.has('/h2/cancel'));
    } finally {
      session.destroy();
    }
  });

  it('sends no copy of a body over maxBodySize, and the main service gets it whole', async () => {
    const r = await within(
      httpRequest(proxy.port, { path: '/small/11', method: 'POST', body: randomBytes(11) }),
      'the answer',
    );
    assert.equal(r.status, 200);
    assert.equal(r.text, 'answer first 11');
    // A copy within the limit, sent after the answer; the one before it was never made.
    const r2 = await within(
      httpRequest(proxy.port, { path: '/small/10', method: 'POST', body: randomBytes(10) }),
      'the answer',
    );
    assert.equal(r2.text, 'answer first 10');
    assert.equal((await within(copyOf('/small/10'), 'the copy within maxBodySize')).length, 10);
    assert.ok(!copies.has('/small/11'));
  });
});
