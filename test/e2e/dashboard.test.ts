/**
 * The dashboard served by the real proxy's admin entry point (`traefik`), in Debian's headless
 * Chromium: it lists the routers and services of the running configuration, opens a service, and
 * shows a backend going down when it is killed and up again when it is restarted (active health
 * checks every 200 ms; the page polls the API every second). Every wait is on the DOM reaching the
 * expected state, with a deadline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage } from '../helpers/browser.ts';
import { type KillableBackend, startKillableBackend } from '../helpers/killable-backend.ts';
import { startEchoServer, type TcpBackend } from '../helpers/l4.ts';
import { startProxy } from '../helpers/proxy-process.ts';

/** Health reaching the page takes a probe interval plus a poll: 15 s is a deadline, not a wait. */
const DOM_TIMEOUT_MS = 15_000;

function config(a: KillableBackend, b: KillableBackend, echo: TcpBackend): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
  db:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
log: { level: INFO }
http:
  routers:
    app:
      rule: "PathPrefix(\`/\`)"
      service: app
      entryPoints: [web]
  services:
    app:
      loadBalancer:
        servers:
          - url: "${a.url}"
          - url: "${b.url}"
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
tcp:
  routers:
    db: { entryPoints: [db], rule: "HostSNI(\`*\`)", service: db }
  services:
    db: { loadBalancer: { servers: [{ address: "${echo.address}" }] } }
`;
}

interface ApiService {
  readonly name: string;
  readonly servers?: readonly { readonly url: string }[];
}

describe('dashboard in the real proxy (headless chromium)', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it('lists the configuration (a TCP router too), opens a service and follows a server going down and coming back', async (t) => {
    const [a, b, echo] = await Promise.all([
      startKillableBackend('a'),
      startKillableBackend('b'),
      startEchoServer(),
    ]);
    t.after(() => Promise.all([a.close(), b.close(), echo.close()]));
    const proxy = await startProxy({ config: config(a, b, echo) });
    t.after(() => proxy.stop());
    const admin = proxy.ports['traefik'];
    assert.ok(admin, `the traefik entry point is listening: ${JSON.stringify(proxy.ports)}`);
    const base = `http://127.0.0.1:${admin}`;

    const html = await fetch(`${base}/dashboard/`);
    assert.equal(html.status, 200, 'the admin entry point serves the dashboard at /dashboard/');
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    await html.body?.cancel();
    const listed = await fetch(`${base}/api/http/services`);
    assert.equal(listed.status, 200, 'the admin entry point serves /api/http/services');
    const service = ((await listed.json()) as ApiService[]).find((s) => /^app(@|$)/.test(s.name));
    assert.ok(service, 'the API lists service app');
    // The API may write a server URL in a normalised form: take its spelling, found by port.
    const urlOf = (backend: KillableBackend): string => {
      const found = service.servers?.find((x) => new URL(x.url).port === String(backend.port));
      assert.ok(found, `the API lists server ${backend.url} in ${JSON.stringify(service)}`);
      return found.url;
    };
    const urls = new Map([a, b].map((x) => [x, urlOf(x)]));

    const { page, errors, close } = await openPage(browser, `${base}/dashboard/`);
    t.after(close);
    page.setDefaultTimeout(DOM_TIMEOUT_MS);
    const rowOf = (kind: string, name: string) =>
      page.locator(`[data-testid="${kind}-row"][data-name=${JSON.stringify(name)}]`);
    const router = page.locator('[data-testid="router-row"]').filter({ hasText: 'PathPrefix(`/`)' });
    await router.waitFor();
    assert.match((await router.getAttribute('data-name')) ?? '', /^app(@|$)/);
    assert.equal(await router.getAttribute('data-state'), 'ok');
    // The TCP router is listed beside the HTTP ones, in use on its entry point.
    const tcpRouter = page.locator('[data-testid="tcp-router-row"]').filter({ hasText: 'HostSNI(`*`)' });
    await tcpRouter.waitFor();
    assert.match((await tcpRouter.getAttribute('data-name')) ?? '', /^db(@|$)/);
    assert.equal(await tcpRouter.getAttribute('data-state'), 'ok');
    assert.equal(await tcpRouter.getByTestId('using').textContent(), 'db');
    const serviceRow = rowOf('service', service.name);
    await serviceRow.getByTestId('servers-up').filter({ hasText: '2/2 up' }).waitFor();

    await serviceRow.getByTestId('service-link').click();
    await page.getByTestId('service-detail').waitFor();
    assert.equal(await page.getByTestId('service-name').textContent(), service.name);
    const server = (backend: KillableBackend, status: 'up' | 'down') =>
      page.locator(
        `[data-testid="server-row"][data-url=${JSON.stringify(urls.get(backend))}][data-status="${status}"]`,
      );
    await server(a, 'up').waitFor();
    await server(b, 'up').waitFor();

    await b.stop();
    await server(b, 'down').waitFor();
    assert.equal(await server(b, 'down').getByTestId('server-status').textContent(), 'down');
    assert.equal(await server(a, 'up').count(), 1, 'the live server stays up');

    await b.restart();
    await server(b, 'up').waitFor();
    assert.equal(await server(a, 'up').count(), 1);
    assert.deepEqual(errors, []);
  });

  // The internal routers' priorities are Go's math.MaxInt (ping) and math.MaxInt - 1 (an entry
  // point redirection), as Traefik's pkg/provider/traefik/internal.go sets them: the page shows
  // the API's digits, not a double's 9223372036854776000 for both.
  it("shows the internal routers' priorities exactly, math.MaxInt and math.MaxInt - 1", async (t) => {
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http:
      redirections:
        entryPoint: { to: websecure, scheme: https }
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
ping: {}
`,
      waitForConfig: false,
    });
    t.after(() => proxy.stop());
    const { page, errors, close } = await openPage(
      browser,
      `http://127.0.0.1:${proxy.ports['traefik']}/dashboard/`,
    );
    t.after(close);
    page.setDefaultTimeout(DOM_TIMEOUT_MS);
    const priority = async (name: string): Promise<string | null> => {
      const row = page.locator(`[data-testid="router-row"][data-name="${name}"]`);
      await row.waitFor();
      return row.locator('td.num').textContent();
    };
    assert.equal(await priority('ping@internal'), '9223372036854775807');
    assert.equal(await priority('web-to-websecure@internal'), '9223372036854775806');
    assert.deepEqual(errors, []);
  });
});
