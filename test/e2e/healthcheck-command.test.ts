import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startBackend } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';

/*
 * `traffic healthcheck`, Traefik's `healthcheck` command (cmd/healthcheck/healthcheck.go) that
 * container health checks run: HEAD /ping on the ping entry point; 0 and `OK: <url>` on a 200,
 * else 1 and why.
 */
describe('traffic healthcheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-healthcheck-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("answers OK while the proxy serves /ping, and fails once it is gone (Traefik's messages)", async () => {
    const port = await freePort();
    const config = `entryPoints:\n  traefik:\n    address: ":${port}"\nping: {}\n`;
    const file = join(dir, 'traffic.yaml');
    writeFileSync(file, config);
    const proxy = await startProxy({ config, waitForConfig: false });
    try {
      const ok = await runCli(['healthcheck', '--config', file], { cwd: dir });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(ok.stdout, `OK: http://127.0.0.1:${port}/ping\n`);
    } finally {
      await proxy.stop();
    }
    const down = await runCli(['healthcheck', '--config', file], { cwd: dir });
    assert.equal(down.code, 1);
    assert.equal(
      down.stdout,
      `Error calling healthcheck: Head "http://127.0.0.1:${port}/ping": ECONNREFUSED\n`,
    );
  });

  it('takes the configuration from flags, as `traefik healthcheck --ping` is run', async () => {
    const port = await freePort();
    const proxy = await startProxy({
      config: `entryPoints:\n  probe:\n    address: "127.0.0.1:${port}"\nping: { entryPoint: probe }\n`,
      waitForConfig: false,
    });
    try {
      // From a folder without a static file: one found there would be read instead of the flags,
      // as Traefik's FileLoader comes before its FlagLoader.
      const empty = mkdtempSync(join(dir, 'flags-'));
      const r = await runCli(
        ['healthcheck', '--ping', '--ping.entryPoint=probe', `--entryPoints.probe.address=127.0.0.1:${port}`],
        { cwd: empty, env: { TRAFFIC_CONFIGFILE: '', HOME: empty, XDG_CONFIG_HOME: '' } },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, `OK: http://127.0.0.1:${port}/ping\n`);
    } finally {
      await proxy.stop();
    }
  });

  it('says a status other than 200, and a configuration without ping', async () => {
    const backend = await startBackend((_req, res) => res.writeHead(503).end());
    const port = await freePort();
    // ping.manualRouting: /ping of the entry point is the configuration's router, here a 503.
    const config = `entryPoints:
  traefik:
    address: "127.0.0.1:${port}"
ping: { manualRouting: true }
http:
  routers:
    ping: { rule: "Path(\`/ping\`)", entryPoints: [traefik], service: down }
  services:
    down: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
    const file = join(dir, 'manual.yaml');
    writeFileSync(file, config);
    const proxy = await startProxy({ config });
    try {
      const r = await runCli(['healthcheck', '-c', file], { cwd: dir });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'Bad healthcheck status: 503 Service Unavailable\n');
    } finally {
      await proxy.stop();
      await backend.close();
    }
    const none = join(dir, 'none.yaml');
    writeFileSync(none, `entryPoints:\n  web:\n    address: ":${port}"\n`);
    const r = await runCli(['healthcheck', '-c', none], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Error calling healthcheck: please enable `ping` to use health check\n');
  });
});
