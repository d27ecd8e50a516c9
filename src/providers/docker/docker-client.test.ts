import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Dockerd, startDockerd } from '../../../test/helpers/dockerd.ts';
import { freePort } from '../../../test/helpers/pebble.ts';
import { dockerProviderSchema } from '../../config/static/providers.ts';
import { DockerClient, toInfo } from './docker-client.ts';
import { containersConfig } from './docker-config.ts';

describe('docker inspection → container', () => {
  it("takes a network's global IPv6 address when it has no IPv4 one, as Traefik's parseContainer", () => {
    const c = toInfo({
      Name: '/v6',
      State: { Running: true },
      NetworkSettings: {
        Networks: {
          v6only: { IPAddress: '', GlobalIPv6Address: 'fd00::5' },
          dual: { IPAddress: '172.18.0.5', GlobalIPv6Address: 'fd01::5' },
        },
      },
    });
    assert.deepEqual(c?.networks, { v6only: 'fd00::5', dual: '172.18.0.5' });
  });

  it('lists TCP and UDP ports, the lowest first (the default server port, of any protocol)', () => {
    const c = toInfo({
      Name: '/dns',
      State: { Running: true },
      Config: { ExposedPorts: { '8080/tcp': {}, '53/udp': {} } },
      NetworkSettings: { Ports: { '8080/tcp': null, '53/udp': null, '53/tcp': null } },
    });
    assert.deepEqual(c?.ports, [53, 8080]);
  });
});

describe('docker client against a real dockerd', () => {
  let d: Dockerd;
  before(async () => {
    d = await startDockerd();
  });
  after(() => d?.close());

  it("reaches a host-network container at host.docker.internal, else host.containers.internal, else 127.0.0.1 (Traefik's getIPAddress)", async () => {
    const port = await freePort();
    await d.runHttpd('hosted', port, {
      'traefik.http.services.hosted.loadbalancer.server.port': String(port),
    });
    const cfg = dockerProviderSchema.parse({ endpoint: d.endpoint });
    const asked: string[] = [];
    const urlWith = async (names: Record<string, string>): Promise<string | undefined> => {
      const client = new DockerClient(cfg, async (name) => {
        asked.push(name);
        return names[name];
      });
      const signal = new AbortController().signal;
      await client.negotiate(signal);
      const cs = await client.containers(signal);
      const built = containersConfig(cs, cfg, () => true, 'container');
      const svc = (
        built.data['http'] as { services: Record<string, { loadbalancer: { servers: { url: string }[] } }> }
      ).services['hosted'];
      return svc?.loadbalancer.servers[0]?.url;
    };
    assert.equal(
      await urlWith({ 'host.docker.internal': '192.0.2.10', 'host.containers.internal': '192.0.2.20' }),
      `http://192.0.2.10:${port}`,
    );
    assert.deepEqual(asked.splice(0), ['host.docker.internal']);
    assert.equal(await urlWith({ 'host.containers.internal': 'fd00::20' }), `http://[fd00::20]:${port}`);
    assert.deepEqual(asked.splice(0), ['host.docker.internal', 'host.containers.internal']);
    assert.equal(await urlWith({}), `http://127.0.0.1:${port}`);
    await d.docker('rm', '-f', 'hosted');
  });

  it('lists stopped containers too, marked not running (for traefik.docker.allownonrunning)', async () => {
    const port = await freePort();
    await d.runHttpd('halted', port, {});
    await d.docker('stop', 'halted');
    const client = new DockerClient(
      dockerProviderSchema.parse({ endpoint: d.endpoint }),
      async () => undefined,
    );
    const signal = new AbortController().signal;
    await client.negotiate(signal);
    const halted = (await client.containers(signal)).find((c) => c.name === 'halted');
    assert.equal(halted?.running, false);
    await d.docker('rm', '-f', 'halted');
  });
});

describe('docker client authentication', () => {
  it('sends HTTP Basic authentication on every call when username and password are set, as Traefik', async (t) => {
    // An engine behind a proxy that asks for Basic credentials: the API answers only with them.
    const want = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
    const seen: { path: string; auth: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ path: (req.url ?? '').split('?')[0]!, auth: req.headers.authorization });
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="docker"' }).end();
        return;
      }
      if (req.url === '/_ping') res.writeHead(200, { 'api-version': '1.45' }).end('OK');
      else if (req.url?.startsWith('/v1.45/containers/json')) res.writeHead(200).end('[]');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const endpoint = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signal = new AbortController().signal;

    const client = new DockerClient(
      dockerProviderSchema.parse({ endpoint, username: 'ops', password: 's3cret' }),
    );
    await client.negotiate(signal);
    assert.deepEqual(await client.containers(signal), []);
    assert.deepEqual(seen, [
      { path: '/_ping', auth: want },
      { path: '/v1.45/containers/json', auth: want },
    ]);

    // Only one of the two: nothing is sent (Traefik needs both), and the engine refuses.
    seen.length = 0;
    const half = new DockerClient(dockerProviderSchema.parse({ endpoint, username: 'ops' }));
    await assert.rejects(half.negotiate(signal), /401/);
    assert.deepEqual(seen, [{ path: '/_ping', auth: undefined }]);
  });
});

describe('docker client: a daemon it cannot reach', () => {
  // docker/client's ErrorConnectionFailed, which Traefik logs ("Cannot connect to the Docker
  // daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), where ours said
  // `GET http://docker/_ping: connect ENOENT …`, naming neither the endpoint nor what to check.
  it("says Docker's words, the endpoint and what to check, with the system error", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'docker-sock-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const signal = new AbortController().signal;
    const missing = join(dir, 'docker.sock');
    const none = new DockerClient(dockerProviderSchema.parse({ endpoint: `unix://${missing}` }));
    await assert.rejects(none.negotiate(signal), (e: Error) => {
      assert.equal(
        e.message,
        `Cannot connect to the Docker daemon at unix://${missing}. Is the docker daemon running? (a proxy in a container needs the socket mounted; providers.docker.endpoint names another): GET http://docker/_ping: connect ENOENT ${missing}`,
      );
      return true;
    });
    // A file that is no socket (or a socket nobody listens on): ECONNREFUSED, the same words.
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    const refused = new DockerClient(dockerProviderSchema.parse({ endpoint: `unix://${plain}` }));
    await assert.rejects(
      refused.negotiate(signal),
      /^EngineError: Cannot connect to the Docker daemon at unix:\/\/.*plain\. Is the docker daemon running\?.*ECONNREFUSED/,
    );
    // TCP: the endpoint as given, without the socket's advice.
    const port = await freePort();
    const tcp = new DockerClient(dockerProviderSchema.parse({ endpoint: `tcp://127.0.0.1:${port}` }));
    await assert.rejects(tcp.negotiate(signal), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^Cannot connect to the Docker daemon at tcp://127\\.0\\.0\\.1:${port}\\. Is the docker daemon running\\? \\(providers\\.docker\\.endpoint names another\\): GET .*ECONNREFUSED`,
        ),
      );
      return true;
    });
  });
});
