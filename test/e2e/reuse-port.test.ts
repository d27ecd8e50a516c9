/**
 * Traefik's entry point `reusePort` (pkg/server/server_entrypoint_listenconfig_unix.go): the
 * listening socket gets SO_REUSEPORT, so a second proxy process can listen on the same port (an
 * upgrade without a refused connection). Without it the second process cannot bind the port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

function config(port: number, reusePort: boolean | undefined, backend: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:${port}"
${reusePort === undefined ? '' : `    reusePort: ${reusePort}\n`}log: { level: DEBUG }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers:
          - url: "${backend}"
`;
}

describe('entryPoints.<name>.reusePort', () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
  });
  after(() => backend.close());

  it('lets two proxy processes listen on the same port, and both serve', async (t) => {
    const port = await freePort();
    const procs: ProxyProcess[] = [];
    t.after(async () => {
      for (const p of procs) await p.stop();
    });
    procs.push(await startProxy({ config: config(port, true, backend.url) }));
    procs.push(await startProxy({ config: config(port, true, backend.url) }));
    assert.equal(procs[0]!.port, port);
    assert.equal(procs[1]!.port, port);
    // The first one leaves: the port keeps answering, from the second.
    assert.equal(await procs.shift()!.stop(), 0);
    const r = await curl(['-s', `http://127.0.0.1:${port}/`]);
    assert.equal(r.body.toString(), 'ok');
  });

  for (const [first, second] of [
    [undefined, true],
    [true, false],
  ] as const) {
    it(`refuses the port to a second process when ${first === undefined ? 'the first' : 'the second'} lacks it`, async (t) => {
      const port = await freePort();
      const a = await startProxy({ config: config(port, first, backend.url) });
      t.after(() => a.stop());
      const b = await startProxy({
        config: config(port, second, backend.url),
        entryPoints: 0,
        waitForConfig: false,
      });
      t.after(() => b.stop());
      assert.equal(await b.exited, 1);
      assert.ok(
        b.logs.some((l) => l.msg === 'cannot listen' && JSON.stringify(l).includes('EADDRINUSE')),
        JSON.stringify(b.logs),
      );
    });
  }
});
