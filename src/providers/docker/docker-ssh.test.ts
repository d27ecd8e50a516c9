import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Dockerd, startDockerd } from '../../../test/helpers/dockerd.ts';
import { freePort } from '../../../test/helpers/pebble.ts';
import { dockerProviderSchema, swarmProviderSchema } from '../../config/static/providers.ts';
import type { ProviderUpdate } from '../provider.ts';
import { SwarmProvider } from '../swarm/swarm-provider.ts';
import { DockerClient } from './docker-client.ts';
import { DockerProvider } from './docker-provider.ts';
import { sshArgs } from './ssh-connection.ts';

/**
 * A fake `ssh`, first on PATH: it appends its arguments to `<dir>/calls` and runs the remote
 * command (its last argument) with `sh -c`, as sshd runs it in the user's shell, its stdin and
 * stdout being ours. The command is the real docker CLI's `docker system dial-stdio`, which
 * relays them to the test's dockerd (DOCKER_HOST, or the socket in `--host=unix://…`).
 */
function fakeSsh(dir: string, dockerHost: string): void {
  const script = join(dir, 'ssh');
  writeFileSync(
    script,
    `#!${process.execPath}
const { appendFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(join(dir, 'calls'))}, JSON.stringify(args) + '\\n');
const r = spawnSync('sh', ['-c', args[args.length - 1]], {
  stdio: 'inherit',
  env: { ...process.env, DOCKER_HOST: ${JSON.stringify(dockerHost)} },
});
process.exit(r.status ?? 1);
`,
  );
  chmodSync(script, 0o755);
}

const calls = (dir: string): string[][] =>
  readFileSync(join(dir, 'calls'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as string[]);

describe('docker endpoint ssh:// (docker/cli`s connhelper, through a fake ssh to a real dockerd)', () => {
  let d: Dockerd;
  let dir: string;
  let oldPath: string | undefined;
  let socket: string;
  before(async () => {
    d = await startDockerd();
    socket = d.endpoint.slice('unix://'.length);
    dir = mkdtempSync(join(tmpdir(), 'fake-ssh-'));
    fakeSsh(dir, d.endpoint);
    oldPath = process.env['PATH'];
    process.env['PATH'] = `${dir}${delimiter}${oldPath ?? ''}`;
  });
  after(async () => {
    process.env['PATH'] = oldPath;
    rmSync(dir, { recursive: true, force: true });
    await d?.close();
  });

  it('builds ssh`s arguments as docker/cli does, and refuses a password, a query or a fragment', () => {
    assert.deepEqual(sshArgs('ssh://deploy@docker-host:2222'), [
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
    assert.deepEqual(sshArgs('ssh://[::1]/run/user/1000/docker.sock'), [
      '-o ConnectTimeout=30',
      '-T',
      '--',
      '::1',
      'docker --host=unix:///run/user/1000/docker.sock system dial-stdio',
    ]);
    assert.throws(() => sshArgs('ssh://u:pw@h'), /plain-text password is not supported/);
    assert.throws(() => sshArgs('ssh://h?x=1'), /query parameters are not allowed/);
    assert.throws(() => sshArgs('ssh://h#f'), /fragments are not allowed/);
  });

  it('reads the containers` labels through ssh … docker system dial-stdio, keeping the connections for the next calls', async () => {
    const names = ['over-ssh-a', 'over-ssh-b', 'over-ssh-c', 'over-ssh-d'];
    for (const name of names) {
      const port = await freePort();
      await d.runHttpd(name, port, {
        [`traefik.http.routers.${name}.rule`]: `Host(\`${name}.example\`)`,
        [`traefik.http.services.${name}.loadbalancer.server.port`]: String(port),
      });
    }
    const client = new DockerClient(
      dockerProviderSchema.parse({ endpoint: 'ssh://deploy@docker-host:2222' }),
      async () => undefined,
    );
    const signal = new AbortController().signal;
    await client.negotiate(signal);
    const found = await client.containers(signal);
    await client.containers(signal);
    client.close();
    for (const name of names) {
      const c = found.find((x) => x.name === name);
      assert.equal(c?.labels[`traefik.http.routers.${name}.rule`], `Host(\`${name}.example\`)`);
    }
    // 1 ping + 2 × (1 list + 4 inspections) = 11 requests over at most 3 ssh processes (Go's
    // transport keeps idle connections too).
    const seen = calls(dir);
    assert.ok(seen.length >= 1 && seen.length <= 3, `${seen.length} ssh processes`);
    for (const args of seen)
      assert.deepEqual(args, [
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
    await d.docker('rm', '-f', ...names);
  });

  it('watches the events stream over ssh (socket path in the URL): a container started later is routed', async (t) => {
    const cfg = dockerProviderSchema.parse({ endpoint: `ssh://docker-host${socket}` });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    const it = new DockerProvider(cfg, {}).watch(ctl.signal)[Symbol.asyncIterator]();
    let u = (await it.next()).value as ProviderUpdate;
    assert.equal(u.config?.http.routers['late'], undefined);
    const port = await freePort();
    await d.runHttpd('late', port, {
      'traefik.http.routers.late.rule': 'Host(`late.example`)',
      'traefik.http.services.late.loadbalancer.server.port': String(port),
    });
    while (u.config?.http.routers['late'] === undefined) u = (await it.next()).value as ProviderUpdate;
    assert.equal(u.config.http.routers['late'].rule, 'Host(`late.example`)');
    assert.ok(
      calls(dir).some((a) => a.at(-1) === `docker --host=unix://${socket} system dial-stdio`),
      'the remote command names the socket of the URL`s path',
    );
    await d.docker('rm', '-f', 'late');
  });

  it('reads a Swarm manager`s service labels over ssh (the swarm provider)', async (t) => {
    const port = await freePort();
    await d.swarmService('swarmed', port, {
      'traefik.http.routers.swarmed.rule': 'Host(`swarm.example`)',
      'traefik.http.services.swarmed.loadbalancer.server.port': String(port),
    });
    const before = calls(dir).length;
    const cfg = swarmProviderSchema.parse({ endpoint: 'ssh://ops@manager', watch: false });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    const u = (await new SwarmProvider(cfg, {}).watch(ctl.signal)[Symbol.asyncIterator]().next())
      .value as ProviderUpdate;
    assert.equal(u.config?.http.routers['swarmed']?.rule, 'Host(`swarm.example`)');
    const mine = calls(dir).slice(before);
    assert.ok(mine.length > 0);
    for (const a of mine) assert.deepEqual(a.slice(0, 2), ['-l', 'ops']);
  });
});
