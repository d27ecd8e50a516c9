import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

/*
 * CONNECT from HTTP/1.1 clients, as Traefik v3.7.12+ treats it: Go's server takes the
 * authority-form request (Host the authority, URL path empty), the router and its middlewares run
 * on it, and once the load balancer picked a server its proxy answers 501 with no body, never
 * dialling it (pkg/proxy/httputil/connect.go connectHandler, #13542: tunnels are for HTTP/2
 * clients only). Where no router takes it (Path rules never match an empty path), Go's 404.
 * The real proxy process; curl's --proxytunnel as the client, node:http as the backend.
 */

function curl(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 20_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stderr });
    });
  });
}

/** Resolves with the first access-log line on stdout that contains `needle`. */
function accessLine(proxy: ProxyProcess, needle: string): Promise<string> {
  const stream = proxy.child.stdout!;
  return new Promise((resolve) => {
    const check = (): void => {
      const line = proxy
        .stdout()
        .split('\n')
        .find((l) => l.includes(needle));
      if (line === undefined) return;
      stream.off('data', check);
      resolve(line);
    };
    stream.on('data', check);
    check();
  });
}

describe('CONNECT from HTTP/1.1 clients: routed, then 501 from the proxy (Traefik v3.7.12)', () => {
  let backend: Backend;
  let connections = 0;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend();
    backend.server.on('connection', () => connections++);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
accessLog: { format: json }
http:
  routers:
    tunnel:
      rule: "Host(\`target.test\`)"
      service: backend
    paths:
      rule: "Host(\`path.test\`) && PathPrefix(\`/\`)"
      service: backend
    guarded:
      rule: "Host(\`auth.test\`)"
      service: backend
      middlewares: [auth]
    fixed:
      rule: "Host(\`fixed.test\`)"
      service: fixed
  middlewares:
    auth:
      basicAuth:
        users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
  services:
    backend:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
    fixed:
      weighted:
        services: [{ name: ok, status: 200 }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('answers curl --proxytunnel with 501 once a Host rule takes it, and never dials the server', async () => {
    const r = await curl([
      '-sS',
      '-v',
      '--max-time',
      '10',
      '--proxytunnel',
      '--proxy',
      `http://127.0.0.1:${proxy.port}`,
      'http://target.test:443/',
    ]);
    // curl: "CONNECT tunnel failed, response 501" (exit 56).
    assert.equal(r.code, 56, r.stderr);
    assert.match(r.stderr, /> CONNECT target\.test:443 HTTP\/1\.1/);
    assert.match(r.stderr, /< HTTP\/1\.1 501 Not Implemented/);
    assert.equal(connections, 0);
    assert.equal(backend.seen.length, 0);
    // The access log names the router and the server the load balancer picked (Traefik's proxy
    // answers below the load balancer).
    const entry = JSON.parse(await accessLine(proxy, '"RequestMethod":"CONNECT"')) as Record<string, unknown>;
    assert.equal(entry['DownstreamStatus'], 501);
    assert.equal(entry['RouterName'], 'tunnel@file');
    assert.equal(entry['ServiceURL'], backend.url);
  });

  it('answers 501 with no body, keeps the connection, and routes the next request on it', async () => {
    const r = await rawRequest(
      proxy.port,
      'CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\nGET /after HTTP/1.1\r\nHost: target.test\r\n\r\n',
      { methods: ['CONNECT', 'GET'], responses: 2 },
    );
    assert.equal(r.parseError, null);
    const [refused, next] = r.responses;
    assert.equal(refused?.status, 501);
    assert.equal(header(refused!, 'content-length'), '0');
    assert.equal(header(refused!, 'content-type'), undefined);
    assert.equal(header(refused!, 'connection'), undefined);
    assert.equal(next?.status, 200);
    assert.equal(next?.body.toString(), 'GET /after');
    // The backend saw the GET alone.
    assert.deepEqual(
      backend.seen.map((s) => `${s.method} ${s.url}`),
      ['GET /after'],
    );
  });

  it('is a 404 where no router takes it: Path rules never match its empty path', async () => {
    for (const host of ['nowhere.test:443', 'path.test:443']) {
      const r = await rawRequest(proxy.port, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, {
        methods: ['CONNECT'],
        responses: 1,
      });
      assert.equal(r.responses[0]?.status, 404, host);
      assert.equal(r.responses[0]?.body.toString(), '404 page not found\n');
    }
  });

  it("lets the router's middlewares answer first (basicAuth: 401)", async () => {
    const r = await rawRequest(proxy.port, 'CONNECT auth.test:443 HTTP/1.1\r\nHost: auth.test:443\r\n\r\n', {
      methods: ['CONNECT'],
      responses: 1,
    });
    assert.equal(r.responses[0]?.status, 401);
    assert.match(header(r.responses[0]!, 'www-authenticate') ?? '', /^Basic /);
    assert.equal(connections, 1, 'only the GET of the test before opened a backend connection');
  });

  it("closes the connection after a 2xx to a CONNECT (a weighted child's status), as Go 1.26.9", async () => {
    // What follows a 2xx to CONNECT is tunnel bytes to the client, never a request to route.
    const r = await rawRequest(
      proxy.port,
      'CONNECT fixed.test:443 HTTP/1.1\r\nHost: fixed.test:443\r\n\r\nGET / HTTP/1.1\r\nHost: target.test\r\n\r\n',
      { methods: ['CONNECT', 'GET'] },
    );
    assert.equal(r.responses.length, 1, r.data.toString('latin1'));
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(header(r.responses[0]!, 'connection'), 'close');
    assert.equal(r.closedBy, 'fin');
  });

  it('takes the body a CONNECT declares as its body, never as a request', async () => {
    // Go's server frames it by its Content-Length. Here, as for any answer of ours given before
    // the body was read, the connection is closed after the 501 (Go would discard the body and
    // read on): neither the body nor what follows it reaches a server.
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: target.test\r\n\r\n';
    const r = await rawRequest(
      proxy.port,
      `CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}GET /next HTTP/1.1\r\nHost: target.test\r\n\r\n`,
      { methods: ['CONNECT', 'GET'] },
    );
    assert.equal(r.parseError, null);
    assert.deepEqual(
      r.responses.map((x) => x.status),
      [501],
    );
    assert.equal(header(r.responses[0]!, 'connection'), 'close');
    assert.equal(r.closedBy, 'fin');
    assert.ok(!backend.seen.some((s) => s.url === '/smuggled' || s.url === '/next'));
  });
});
