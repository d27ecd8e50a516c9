/**
 * The grpcWeb middleware through the real proxy, against a real gRPC server (@grpc/grpc-js over
 * h2c): gRPC-Web over HTTP/1.1 as a browser sends it (binary and base64 `-text`), its CORS
 * preflight, the trailers frame, and the proxy's own errors in gRPC-Web form.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type GrpcBackend, startGrpcBackend } from '../helpers/grpc-backend.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function send(
  port: number,
  method: string,
  host: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: `/test.Echo/${headers['x-method'] ?? 'Unary'}`,
        headers: { host, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    // Bounded: an answer without an end (no framing) fails the test instead of hanging it.
    req.setTimeout(10_000, () => req.destroy(new Error('no complete answer within 10 s')));
    req.end(body);
  });
}

const frame = (text: string): Buffer => {
  const p = Buffer.from(text);
  const b = Buffer.alloc(5 + p.length);
  b.writeUInt32BE(p.length, 1);
  p.copy(b, 5);
  return b;
};

/** Splits a gRPC-Web body into its frames: data messages, and the trailer fields of the last. */
function frames(body: Buffer): { messages: string[]; trailers: Record<string, string> } {
  const messages: string[] = [];
  const trailers: Record<string, string> = {};
  let i = 0;
  while (i + 5 <= body.length) {
    const flag = body[i]!;
    const len = body.readUInt32BE(i + 1);
    const payload = body.subarray(i + 5, i + 5 + len).toString();
    if (flag & 0x80) {
      for (const line of payload.split('\r\n')) {
        const c = line.indexOf(':');
        if (c > 0) trailers[line.slice(0, c)] = line.slice(c + 1).trim();
      }
    } else messages.push(payload);
    i += 5 + len;
  }
  assert.equal(i, body.length, 'the body is whole frames');
  return { messages, trailers };
}

/** A -text body: padded base64 parts, one after the other. */
function decodeText(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let g = 0; g < text.length; g += 4) {
    if (text[g + 3] === '=' || g + 4 >= text.length) {
      parts.push(Buffer.from(text.slice(start, g + 4), 'base64'));
      start = g + 4;
    }
  }
  return Buffer.concat(parts);
}

for (const engine of H2_ENGINES) {
  describe(`grpcWeb middleware [${engine} engine]`, () => {
    let backend: GrpcBackend;
    let proxy: ProxyProcess;
    let port: number;
    const ORIGIN = 'https://app.test';

    before(async () => {
      backend = await startGrpcBackend('web');
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    web: { rule: "Host(\`web.test\`)", service: grpc, middlewares: [gw] }
    down: { rule: "Host(\`down.test\`)", service: down, middlewares: [gw] }
  middlewares:
    gw: { grpcWeb: { allowOrigins: ["${ORIGIN}"] } }
  services:
    grpc:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${backend.port}" }] }
    down:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:1" }] }
`,
      });
      port = proxy.port;
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('makes a binary gRPC-Web call over HTTP/1.1 a gRPC call, trailers in the last frame', async () => {
      const r = await send(
        port,
        'POST',
        'web.test',
        { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', origin: ORIGIN, 'x-req': 'meta' },
        frame('hi'),
      );
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
      assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.match(String(r.headers['access-control-expose-headers']), /Grpc-Status, Grpc-Message$/);
      assert.equal(r.headers['x-seen'], 'meta', 'request fields went on as gRPC metadata');
      const f = frames(r.body);
      assert.deepEqual(f.messages, ['web:hi']);
      assert.equal(f.trailers['grpc-status'], '0');
      assert.equal(f.trailers['x-trail'], 'web-done');
    });

    it('decodes and encodes the base64 -text variant, a server stream included', async () => {
      const r = await send(
        port,
        'POST',
        'web.test',
        { 'content-type': 'application/grpc-web-text', 'x-method': 'ServerStream', origin: ORIGIN },
        Buffer.from(frame('3').toString('base64')),
      );
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/grpc-web-text+proto');
      const f = frames(decodeText(r.body.toString()));
      assert.deepEqual(f.messages, ['web 0', 'web 1', 'web 2']);
      assert.equal(f.trailers['grpc-status'], '0');
    });

    it('answers the CORS preflight of an allowed origin, and gives another origin nothing', async () => {
      const ask = {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-grpc-web,x-user-agent',
      };
      const ok = await send(port, 'OPTIONS', 'web.test', ask);
      assert.equal(ok.status, 204);
      assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(ok.headers['access-control-allow-methods'], 'POST');
      assert.equal(ok.headers['access-control-allow-headers'], 'content-type,x-grpc-web,x-user-agent');
      assert.equal(ok.headers['access-control-max-age'], '600');
      const other = await send(port, 'OPTIONS', 'web.test', { ...ask, origin: 'https://evil.test' });
      assert.equal(other.status, 204);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      assert.equal(backend.calls.unary ?? 0, 1, 'preflights never reach the backend');
    });

    it('sends an OPTIONS naming x-grpc-web without Access-Control-Request-Method upstream as a gRPC call', async () => {
      // rs/cors sees no preflight; improbable-eng's wrapper makes it a gRPC call (empty content
      // type, no Content-Length) and its answer a gRPC-Web one, with the actual-request CORS fields.
      for (const acrm of [undefined, '']) {
        const headers: Record<string, string> = {
          origin: ORIGIN,
          'access-control-request-headers': 'x-grpc-web',
        };
        if (acrm !== undefined) headers['access-control-request-method'] = acrm;
        const r = await send(port, 'OPTIONS', 'web.test', headers);
        // grpc-js refuses it (415, END_STREAM on its HEADERS); the wrapper adds its (empty)
        // trailers frame after any answer.
        assert.equal(r.status, 415, 'not answered as a preflight: the server answered');
        assert.deepEqual(r.body, Buffer.from([0x80, 0, 0, 0, 0]));
        assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
        assert.equal(r.headers['access-control-allow-credentials'], 'true');
        assert.match(String(r.headers.vary), /Origin/);
        assert.match(String(r.headers['access-control-expose-headers']), /Grpc-Status, Grpc-Message$/);
      }
    });

    it("relays a server's trailers-only answer with the wrapper's empty trailers frame", async () => {
      // No request message: grpc-js answers with grpc-status in its only HEADERS (END_STREAM).
      const r = await send(port, 'POST', 'web.test', {
        'content-type': 'application/grpc-web+proto',
        origin: ORIGIN,
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['grpc-status'], '12');
      assert.deepEqual(r.body, Buffer.from([0x80, 0, 0, 0, 0]));
    });

    it('answers its own errors to a gRPC-Web call in gRPC-Web form', async () => {
      const r = await send(
        port,
        'POST',
        'down.test',
        { 'content-type': 'application/grpc-web+proto', origin: ORIGIN },
        frame('x'),
      );
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
      assert.equal(r.headers['grpc-status'], '14');
      assert.equal(r.headers['grpc-message'], 'Bad Gateway');
      assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(r.body.length, 0);
    });
  });
}
