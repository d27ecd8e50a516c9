/**
 * Traefik's integration/error_pages_test.go (v3 branch) run against our proxy: each test names
 * the Go test it follows. Fixtures: integration/fixtures/error_pages/{simple,error,statusRewrites}.toml
 * in their v3 form, adapted by ./fixture.ts; the compose project's nginx backends are loopback
 * servers (the error page's nginx2 answers "An error occurred." as text/html), and the broken
 * server `http://<ip>:8989474` is a closed loopback port (our configuration refuses a port out
 * of range: the dial must fail, as Traefik's does).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import { startFixture } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler!);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** nginx2 of the compose project: /50x.html is its error page. */
function errorPage(): Promise<string> {
  return serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<html><body><h1>An error occurred.</h1></body></html>\n');
  });
}

const FIXTURE = `[entryPoints]
  [entryPoints.web]
    address = ":8080"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.local\`)"
    service = "service1"
    middlewares = ["error"]

[http.middlewares]
  [http.middlewares.error.errors]
    status = ["500-502", "503-599"]
    service = "error"
    query = "/50x.html"

[http.services]
  [http.services.service1.loadBalancer]
    passHostHeader = true
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"

  [http.services.error.loadBalancer]
    [[http.services.error.loadBalancer.servers]]
      url = "{{ .Server2 }}"
`;

async function start(text: string, server1: string, server2: string) {
  const p = await startFixture(text, { Server1: server1, Server2: server2 });
  open.push(() => p.stop());
  return p;
}

describe('traefik integration/error_pages_test.go', () => {
  it('TestSimpleConfiguration: a backend that answers is not replaced', async () => {
    const backend = await serve((_req, res) => res.end('<p>nginx</p>'));
    const p = await start(FIXTURE, backend, await errorPage());
    const r = await httpRequest(p.ports.web!, { headers: { Host: 'test.local' } });
    assert.match(r.text, /nginx/);
  });

  it('TestErrorPage: a backend that cannot be reached gets the error page', async () => {
    const p = await start(FIXTURE, `http://127.0.0.1:${await freePort()}`, await errorPage());
    const r = await httpRequest(p.ports.web!, { headers: { Host: 'test.local' } });
    assert.match(r.text, /An error occurred\./);
  });

  it('TestStatusRewrites: 502 answered as 404, noop@internal 418 as 400, with the error page', async () => {
    const p = await start(
      `[entryPoints]
  [entryPoints.web]
    address = ":8080"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test502.local\`)"
    service = "service1"
    middlewares = ["error"]
  [http.routers.router2]
    rule = "Host(\`test418.local\`)"
    service = "noop@internal"
    middlewares = ["error"]

[http.middlewares]
  [http.middlewares.error.errors]
    status = ["500-502", "503-599", "418"]
    service = "error"
    query = "/50x.html"
    [http.middlewares.error.errors.statusRewrites]
      "418" = 400
      "500-502" = 404

[http.services]
  [http.services.service1.loadBalancer]
    passHostHeader = true
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"

  [http.services.error.loadBalancer]
    [[http.services.error.loadBalancer.servers]]
      url = "{{ .Server2 }}"
`,
      `http://127.0.0.1:${await freePort()}`,
      await errorPage(),
    );
    const a = await httpRequest(p.ports.web!, { headers: { Host: 'test502.local' } });
    assert.equal(a.status, 404);
    assert.match(a.text, /An error occurred\./);
    const b = await httpRequest(p.ports.web!, { headers: { Host: 'test418.local' } });
    assert.equal(b.status, 400);
    assert.match(b.text, /An error occurred\./);
  });

  it("TestErrorPageFlush: a chunked 500 is replaced whole, with the error page's Content-Type", async () => {
    const backend = await serve((_req, res) => {
      res.writeHead(500, { 'Transfer-Encoding': 'chunked' });
      res.end('KO');
    });
    const p = await start(FIXTURE, backend, await errorPage());
    const r = await httpRequest(p.ports.web!, { headers: { Host: 'test.local' } });
    assert.match(r.text, /An error occurred\./);
    assert.ok(!r.text.includes('KO'));
    assert.equal(r.headers['content-type'], 'text/html');
  });
});
