/**
 * Traefik's request metrics where a request is more than one HTTP exchange: gRPC calls (the `code`
 * label is the call's gRPC status, pkg/middlewares/metrics/metrics.go grpcStatusCode) and retried
 * requests (each try is a request of its service, as Traefik's service metrics wrap each server's
 * handler below the retry middleware, pkg/server/service/service.go). The real proxy, a real gRPC
 * server and client (@grpc/grpc-js), a real HTTP backend that drops connections, then /metrics.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  type EchoClient,
  echoClient,
  type GrpcBackend,
  startGrpcBackend,
  unary,
} from '../helpers/grpc-backend.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** The value of the sample `name{labels…}` whose labels include all of `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** A gRPC-Web call over HTTP/1.1, as a browser sends it: one framed message. */
function grpcWeb(
  port: number,
  host: string,
  method: string,
  message: string,
): Promise<{ status: number; body: string }> {
  const p = Buffer.from(message);
  const body = Buffer.alloc(5 + p.length);
  body.writeUInt32BE(p.length, 1);
  p.copy(body, 5);
  return send(
    port,
    host,
    `/test.Echo/${method}`,
    'POST',
    { 'content-type': 'application/grpc-web+proto' },
    body,
  );
}

/** A GET to the proxy for `host`, with node:http (fetch sends its own Host). */
function getFrom(port: number, host: string): Promise<{ status: number; body: string }> {
  return send(port, host, '/', 'GET', {});
}

function send(
  port: number,
  host: string,
  path: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', path, method, headers: { host, ...headers }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('request metrics of gRPC calls and retried requests', () => {
  let grpcBackend: GrpcBackend;
  let flaky: Backend;
  let flakyRequests = 0;
  let auth: Backend;
  let plain: Backend;
  let unhealthy: Backend;
  let shadow: Backend;
  let proxy: ProxyProcess;
  const clients: EchoClient[] = [];

  before(async () => {
    grpcBackend = await startGrpcBackend('g');
    // Drops the connection of its first two requests without answering, then answers 200. The
    // request was sent: as in Traefik, only `status: ["502"]` retries that (retry.go).
    flaky = await startBackend((req, res) => {
      if (++flakyRequests <= 2) {
        (req.socket as Socket).destroy();
        return;
      }
      res.end('third time lucky');
    });
    auth = await startBackend((_req, res) => res.end('ok'));
    plain = await startBackend((_req, res) => res.end('plain'));
    shadow = await startBackend((_req, res) => {
      res.statusCode = 201;
      res.end('shadow');
    });
    // Fails its health check: its service has no server to give.
    unhealthy = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('sick');
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics:
  prometheus: { addRoutersLabels: true }
http:
  routers:
    grpc: { rule: "Host(\`grpc.test\`)", service: grpc }
    down: { rule: "Host(\`down.test\`)", service: down }
    flaky: { rule: "Host(\`flaky.test\`)", service: flaky, middlewares: [retry] }
    authed: { rule: "Host(\`authed.test\`)", service: plain, middlewares: [auth] }
    sick: { rule: "Host(\`sick.test\`)", service: sick }
    web: { rule: "Host(\`web.test\`)", service: grpc, middlewares: [gw] }
    mirrored: { rule: "Host(\`mirrored.test\`)", service: mirrored }
  middlewares:
    retry: { retry: { attempts: 3, status: ["502"] } }
    auth: { forwardAuth: { address: "${auth.url}" } }
    gw: { grpcWeb: { allowOrigins: ["*"] } }
  services:
    grpc: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${grpcBackend.port}" }] } }
    down: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:1" }] } }
    flaky: { loadBalancer: { servers: [{ url: "${flaky.url}" }] } }
    plain: { loadBalancer: { servers: [{ url: "${plain.url}" }] } }
    shadow: { loadBalancer: { servers: [{ url: "${shadow.url}" }] } }
    nowhere: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
    mirrored:
      mirroring:
        service: plain
        mirrors: [{ name: shadow, percent: 100 }, { name: nowhere, percent: 100 }]
    sick:
      loadBalancer:
        servers: [{ url: "${unhealthy.url}" }]
        healthCheck: { path: /health, interval: 50ms, timeout: 1s }
`,
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    await grpcBackend?.close();
    await flaky?.close();
    await auth?.close();
    await plain?.close();
    await unhealthy?.close();
    await shadow?.close();
  });

  const scrape = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();

  it("labels a gRPC call with its gRPC status: the server's trailers, or the proxy's own answer", async () => {
    const g = echoClient(proxy.ports.web!, 'grpc.test');
    const d = echoClient(proxy.ports.web!, 'down.test');
    clients.push(g, d);
    assert.equal((await unary(g, 'unary', 'a')).error, null);
    assert.equal((await unary(g, 'unary', 'b')).error, null);
    assert.equal((await unary(g, 'fail', 'c')).error?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal((await unary(d, 'unary', 'd')).error?.code, grpc.status.UNAVAILABLE);
    const text = await scrape();
    const call = { method: 'POST', protocol: 'grpc' };
    for (const [family, labels] of [
      ['traefik_entrypoint_requests_total', { entrypoint: 'web' }],
      ['traefik_router_requests_total', { router: 'grpc@file', service: 'grpc@file' }],
      ['traefik_service_requests_total', { service: 'grpc@file' }],
    ] as const) {
      assert.equal(sample(text, family, { ...labels, ...call, code: '0' }), 2, `${family} OK`);
      assert.equal(
        sample(text, family, { ...labels, ...call, code: '9' }),
        1,
        `${family} FAILED_PRECONDITION`,
      );
      assert.equal(sample(text, family, { ...labels, ...call, code: '200' }), undefined, family);
    }
    // The proxy's own answer to a call it could not forward: grpc-status UNAVAILABLE (14).
    assert.equal(
      sample(text, 'traefik_router_requests_total', { router: 'down@file', ...call, code: '14' }),
      1,
    );
    assert.equal(
      sample(text, 'traefik_router_requests_total', { router: 'down@file', code: '502' }),
      undefined,
    );
  });

  it('counts each try of a retried request on its service, the request once on its router', async () => {
    assert.deepEqual(await getFrom(proxy.ports.web!, 'flaky.test'), {
      status: 200,
      body: 'third time lucky',
    });
    assert.equal(flakyRequests, 3);
    const text = await scrape();
    const get = { method: 'GET', protocol: 'http' };
    const svc = { service: 'flaky@file', ...get };
    assert.equal(sample(text, 'traefik_service_requests_total', { ...svc, code: '502' }), 2);
    assert.equal(sample(text, 'traefik_service_requests_total', { ...svc, code: '200' }), 1);
    assert.equal(sample(text, 'traefik_service_request_duration_seconds_count', { ...svc, code: '502' }), 2);
    assert.equal(sample(text, 'traefik_service_retries_total', { service: 'flaky@file' }), 2);
    const rt = { router: 'flaky@file', service: 'flaky@file', ...get };
    assert.equal(sample(text, 'traefik_router_requests_total', { ...rt, code: '200' }), 1);
    assert.equal(sample(text, 'traefik_router_requests_total', { ...rt, code: '502' }), undefined);
  });

  it("times the service from its server's try, the router from the request (a forwardAuth round trip in between)", async () => {
    for (let i = 0; i < 3; i++)
      assert.deepEqual(await getFrom(proxy.ports.web!, 'authed.test'), { status: 200, body: 'plain' });
    assert.equal(auth.seen.length, 3);
    const text = await scrape();
    const ok = { method: 'GET', protocol: 'http', code: '200' };
    const family = 'request_duration_seconds';
    const router = sample(text, `traefik_router_${family}_sum`, { router: 'authed@file', ...ok })!;
    const service = sample(text, `traefik_service_${family}_sum`, { service: 'plain@file', ...ok })!;
    assert.equal(sample(text, `traefik_service_${family}_count`, { service: 'plain@file', ...ok }), 3);
    assert.ok(service > 0, `service ${service}`);
    // Traefik's service metrics wrap the server's handler: the auth call is the router's only.
    assert.ok(service < router, `service ${service} < router ${router}`);
  });

  it('does not count on a service a request none of its servers took (no server available: 503)', async () => {
    // The health check marks the only server down; then the balancer has none to give.
    for (;;) {
      const up = sample(await scrape(), 'traefik_service_server_up', { service: 'sick@file' });
      if (up === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await getFrom(proxy.ports.web!, 'sick.test')).status, 503);
    const text = await scrape();
    const labels = { method: 'GET', protocol: 'http', code: '503' };
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'sick@file', ...labels }), 1);
    assert.equal(
      sample(text, 'traefik_service_requests_total', { service: 'sick@file', ...labels }),
      undefined,
    );
  });

  it("labels a gRPC-Web call through the grpcWeb middleware with its server's gRPC status", async () => {
    const ok = await grpcWeb(proxy.ports.web!, 'web.test', 'Unary', 'hi');
    assert.equal(ok.status, 200);
    assert.match(ok.body, /grpc-status: ?0/);
    // A trailers-only answer: its grpc-status is in the response's head.
    assert.equal((await grpcWeb(proxy.ports.web!, 'web.test', 'Fail', 'no')).status, 200);
    const text = await scrape();
    const call = { router: 'web@file', method: 'POST', protocol: 'grpc-web' };
    assert.equal(sample(text, 'traefik_router_requests_total', { ...call, code: '0' }), 1);
    assert.equal(sample(text, 'traefik_router_requests_total', { ...call, code: '9' }), 1);
    assert.equal(sample(text, 'traefik_router_requests_total', { ...call, code: '2' }), undefined);
  });

  it("counts a mirror's copy on the mirror's service, with the mirror's status (Traefik's mirror handlers are services')", async () => {
    for (let i = 0; i < 2; i++)
      assert.deepEqual(await getFrom(proxy.ports.web!, 'mirrored.test'), { status: 200, body: 'plain' });
    const get = { method: 'GET', protocol: 'http' };
    // The copies finish after the answers: wait for their counts (each arrives once, or never).
    let text = '';
    for (;;) {
      text = await scrape();
      const shadowed = sample(text, 'traefik_service_requests_total', {
        service: 'shadow@file',
        ...get,
        code: '201',
      });
      const failed = sample(text, 'traefik_service_requests_total', {
        service: 'nowhere@file',
        ...get,
        code: '502',
      });
      if (shadowed === 2 && failed === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(
      sample(text, 'traefik_service_responses_bytes_total', { service: 'shadow@file', ...get, code: '201' }),
      12,
    );
    // The client's answers count on the router, once each, with the primary's status.
    assert.equal(
      sample(text, 'traefik_router_requests_total', { router: 'mirrored@file', ...get, code: '200' }),
      2,
    );
    assert.equal(
      sample(text, 'traefik_router_requests_total', { router: 'mirrored@file', ...get, code: '201' }),
      undefined,
    );
  });
});
