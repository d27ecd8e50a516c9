/**
 * Traefik's integration/retry_test.go (v3 branch) run against our proxy: each test names the Go
 * test it follows. Fixtures: integration/fixtures/retry/{simple,backoff,strip_prefix}.toml in their
 * v3 form, adapted by ./fixture.ts: the compose whoami's closed port 8080 is a closed loopback port
 * (listed first, so the first try fails), its port 80 a loopback whoami stand-in.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { within } from '../../helpers/wait.ts';
import { startWsBackend } from '../../helpers/ws-backend.ts';
import { startFixture, startWhoami } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

function fixture(retry: string, extra = '', rule = 'PathPrefix(`/`)', middlewares = '"retry"'): string {
  return `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    middlewares = [${middlewares}]
    rule = "${rule}"

[http.middlewares.retry.retry]
${retry}
${extra}
[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Closed }}"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Whoami }}"
`;
}

async function start(text: string, whoamiUrl: string): Promise<ProxyProcess> {
  const p = await startFixture(text, { Closed: `http://127.0.0.1:${await freePort()}`, Whoami: whoamiUrl });
  open.push(() => p.stop());
  return p;
}

async function whoami(): Promise<string> {
  const w = await startWhoami('whoami');
  open.push(() => w.close());
  return w.url;
}

describe('traefik integration/retry_test.go', () => {
  it('TestRetry: the working server is reached after the closed one', async () => {
    const p = await start(fixture('  attempts = 3'), await whoami());
    assert.equal((await httpRequest(p.ports.web!)).status, 200);
  });

  it('TestRetryBackoff: with initialInterval, the working server is reached too', async () => {
    const p = await start(fixture('  attempts = 3\n  initialInterval = "300ms"'), await whoami());
    assert.equal((await httpRequest(p.ports.web!)).status, 200);
  });

  it('TestRetryWebsocket: a WebSocket handshake is retried onto the working server, twice', async () => {
    const ws = await startWsBackend();
    open.push(() => ws.close());
    const p = await start(fixture('  attempts = 3'), ws.url);
    for (let i = 0; i < 2; i++) {
      const client = new WebSocket(`ws://127.0.0.1:${p.ports.web}/echo`);
      const status = await within(
        new Promise<number>((resolve, reject) => {
          client.on('upgrade', (res) => resolve(res.statusCode ?? 0));
          client.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          client.on('error', reject);
        }),
        'the handshake',
      );
      assert.equal(status, 101);
      client.terminate();
    }
  });

  it('TestRetryWithStripPrefix: the retried request keeps what stripPrefix did', async () => {
    const p = await start(
      fixture(
        '  attempts = 3',
        '[http.middlewares.strip-prefix.stripPrefix]\n  prefixes = ["/test"]\n',
        'PathPrefix(`/`)',
        '"retry", "strip-prefix"',
      ),
      await whoami(),
    );
    const r = await httpRequest(p.ports.web!, { path: '/test' });
    assert.ok(r.text.includes('GET / HTTP/1.1'), r.text);
    assert.ok(r.text.includes('X-Forwarded-Prefix: /test'), r.text);
  });
});
