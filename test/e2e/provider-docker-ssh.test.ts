/**
 * The Docker provider in the real proxy with an `ssh://` endpoint (Traefik's docker/cli
 * connection helper): a fake `ssh` first on the proxy's PATH records its arguments and runs the
 * remote command, the real docker CLI's `docker system dial-stdio`, against the test's real
 * dockerd; a container started with labels is routed through it, with the events stream over ssh.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Dockerd, startDockerd } from '../helpers/dockerd.ts';
import { freePort } from '../helpers/pebble.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('Docker provider over ssh:// (e2e, fake ssh, real dockerd)', () => {
  let d: Dockerd;
  let dir: string;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    d = await startDockerd();
    dir = mkdtempSync(join(tmpdir(), 'fake-ssh-e2e-'));
    writeFileSync(
      join(dir, 'ssh'),
      `#!${process.execPath}
const { appendFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(join(dir, 'calls'))}, JSON.stringify(args) + '\\n');
const r = spawnSync('sh', ['-c', args[args.length - 1]], {
  stdio: 'inherit',
  env: { ...process.env, DOCKER_HOST: ${JSON.stringify(d.endpoint)} },
});
process.exit(r.status ?? 1);
`,
    );
    chmodSync(join(dir, 'ssh'), 0o755);
    proxy = await startProxy({
      env: { PATH: `${dir}${delimiter}${process.env['PATH'] ?? ''}` },
      config: `${providersHead('100ms')}  docker:
    endpoint: "ssh://deploy@docker-host:2222"
    exposedByDefault: false
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await d?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('routes a container started with labels, read through ssh … docker system dial-stdio', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('remote', port, {
      'traefik.enable': 'true',
      'traefik.http.routers.remote.rule': 'PathPrefix(`/remote/`)',
      'traefik.http.services.remote.loadbalancer.server.port': String(port),
    });
    await waitForLogFrom(proxy, from, (l: LogLine) => l.msg === 'configuration applied', 30_000);
    let r = await fetch(`http://127.0.0.1:${web}/remote/`);
    // The route can be applied before busybox listens: ask until it answers, for up to 30 s.
    const deadline = Date.now() + 30_000;
    while (r.status !== 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      r = await fetch(`http://127.0.0.1:${web}/remote/`);
    }
    assert.equal(r.status, 200);
    assert.equal((await r.text()).trim(), 'remote');
    const calls = readFileSync(join(dir, 'calls'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as string[]);
    assert.ok(calls.length >= 1);
    for (const a of calls)
      assert.deepEqual(a, [
        '-l',
        'deploy',
        '-p',
        '2222',
        '-o ConnectTimeout=30',
        '-T',
        '--',
        'docker-host',
        'docker system dial-stdio',
      ]);
  });
});
