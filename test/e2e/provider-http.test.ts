/**
 * The HTTP provider in the real proxy: routes from an endpoint polled over HTTP, a reference from
 * the file provider to a service of the HTTP provider (`svc@http`), a configuration error named
 * by the endpoint's line and column, and the endpoint failing: the last good configuration keeps
 * serving, the provider's state shows in /api/providers and in the metrics, and it recovers by
 * itself.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

interface ProviderJson {
  readonly name: string;
  readonly phase: string;
  readonly failures: number;
  readonly lastError: string | null;
}

describe('HTTP provider (e2e)', () => {
  let backend: Backend;
  let endpoint: Server;
  let body = '';
  let status = 200;
  let url = '';
  let proxy: ProxyProcess;
  let web = 0;
  let admin = 0;

  const routes = (paths: readonly string[], extra = ''): string =>
    `http:\n  routers:\n${paths.map((p) => `    ${p}: { rule: "PathPrefix(\`/${p}\`)", service: svc }\n`).join('')}${extra}  services:\n    svc:\n      loadBalancer:\n        servers: [{ url: "${backend.url}" }]\n`;

  before(async () => {
    backend = await startBackend((req, res) => res.end(`backend ${req.url}`));
    endpoint = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/yaml' }).end(status === 200 ? body : 'maintenance');
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/traefik.yaml`;
    body = routes(['one']);
    proxy = await startProxy({
      config: `${providersHead('100ms')}  http:
    endpoint: "${url}"
    pollInterval: 100ms
  file:
    filename: dynamic.yaml
`,
      files: { 'dynamic.yaml': 'http:\n' },
    });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
    await waitForLogFrom(proxy, 0, (l) => l.msg === 'configuration applied');
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => endpoint?.close(() => r()));
    await backend?.close();
  });

  const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: await r.text() };
  };
  const providers = async (): Promise<ProviderJson[]> =>
    (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json() as Promise<ProviderJson[]>;
  const applied = (l: LogLine): boolean => l.msg === 'configuration applied';

  it('serves the endpoint routes, and a file router that names the endpoint service', async () => {
    assert.deepEqual(await get(web, '/one'), { status: 200, text: 'backend /one' });
    const from = proxy.logs.length;
    proxy.writeFile(
      'dynamic.yaml',
      'http:\n  routers:\n    from-file: { rule: "PathPrefix(`/from-file`)", service: svc@http }\n',
    );
    await waitForLogFrom(proxy, from, applied);
    assert.deepEqual(await get(web, '/from-file'), { status: 200, text: 'backend /from-file' });
    const overview = (await (await fetch(`http://127.0.0.1:${admin}/api/overview`)).json()) as {
      providers: string[];
    };
    // Traefik's getProviders: the static providers by Go field name, in its struct's order.
    assert.deepEqual(overview.providers, ['File', 'HTTP']);
  });

  it('follows a change of the endpoint body', async () => {
    const from = proxy.logs.length;
    body = routes(['one', 'two']);
    await waitForLogFrom(proxy, from, applied);
    assert.deepEqual(await get(web, '/two'), { status: 200, text: 'backend /two' });
  });

  it('names the endpoint, line and column of a configuration error', async () => {
    const from = proxy.logs.length;
    body = routes(['one', 'two'], '    typo: { rule: "PathPrefix(`/typo`)", servce: svc }\n');
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('servce'),
    );
    assert.match(String(line.issue), new RegExp(`^${url.replace(/[.?/]/g, '\\$&')}:5:\\d+: `));
    assert.match(String(line.issue), /unknown key `servce` \(did you mean `service`\?\)/);
    assert.equal((await get(web, '/one')).status, 200);
    body = routes(['one', 'two']);
  });

  it("disables a TLS router whose rule the build refuses (v2's PathPrefix with two values), as a cleartext one", async () => {
    // The HTTP provider does not know core.defaultRuleSyntax: a rule valid in v2 loads, and the
    // build refuses it in v3 (Traefik's router manager: the rule does not parse, the router is
    // disabled with the error), with `tls` too (found by the corpus build pass, Benerman/Nexus).
    const from = proxy.logs.length;
    body = routes(
      ['one', 'two'],
      '    v2tls: { rule: "PathPrefix(`/a`, `/b`)", service: svc, tls: {} }\n    v2plain: { rule: "PathPrefix(`/c`, `/d`)", service: svc }\n',
    );
    await waitForLogFrom(proxy, from, applied);
    for (const name of ['v2tls@http', 'v2plain@http']) {
      const r = (await (await fetch(`http://127.0.0.1:${admin}/api/http/routers/${name}`)).json()) as {
        status: string;
        error?: string[];
      };
      assert.equal(r.status, 'disabled', name);
      assert.match(String(r.error), /PathPrefix expects 1 argument, got 2/, name);
    }
    assert.equal((await get(web, '/one')).status, 200);
    body = routes(['one', 'two']);
  });

  it('keeps serving while the endpoint fails, shows it down in the API and the metrics, then recovers', async () => {
    let from = proxy.logs.length;
    status = 500;
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider failed: its last configuration keeps serving',
    );
    const down = (await providers()).find((p) => p.name === 'http');
    assert.equal(down?.phase, 'down');
    assert.match(String(down?.lastError), /status 500: maintenance/);
    assert.deepEqual(
      await get(web, '/two'),
      { status: 200, text: 'backend /two' },
      'the last good configuration',
    );
    const metrics = (await get(admin, '/metrics')).text;
    assert.match(metrics, /^traffic_provider_up\{provider="http"\} 0$/m);
    assert.match(metrics, /^traffic_provider_up\{provider="file"\} 1$/m);
    assert.match(metrics, /^traffic_provider_failures_total\{provider="http"\} [1-9]/m);

    from = proxy.logs.length;
    body = routes(['one', 'two', 'three']);
    status = 200;
    await waitForLogFrom(proxy, from, (l) => l.msg === 'provider recovered' && l.provider === 'http');
    await waitForLogFrom(proxy, from, applied);
    assert.equal((await providers()).find((p) => p.name === 'http')?.phase, 'ready');
    assert.deepEqual(await get(web, '/three'), { status: 200, text: 'backend /three' });
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="http"\} 1$/m);
  });
});
