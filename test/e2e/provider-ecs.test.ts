/**
 * The ECS provider in the real proxy against a fake AWS API on loopback
 * (test/helpers/fake-aws.ts; endpoints from AWS_ENDPOINT_URL as the AWS SDK reads it, every
 * request SigV4-signed and verified): an awsvpc task's container (the ENI's IP, its container
 * port) and a bridge task's (its EC2 instance's private IP, the host port its `server.port`
 * label's container port is bound to) are routed to real backends on 127.0.0.1;
 * `exposedByDefault: false` with `traefik.enable`; a task that stops loses its route at the next
 * refresh; an IPv6-only awsvpc task (its ENI's ipv6Address) is routed too.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied } from '../helpers/wait.ts';

const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

describe('ECS provider (e2e, fake AWS API on loopback)', () => {
  let b1: Backend;
  let b2: Backend;
  let aws: FakeAws;
  let proxy: ProxyProcess;
  /** A backend on ::1 only, for an IPv6-only task. */
  let v6: Server;

  before(async () => {
    [b1, b2, aws] = await Promise.all([
      startBackend((req, res) => res.end(`one ${req.url}`)),
      startBackend((req, res) => res.end(`two ${req.url}`)),
      startFakeAws({ accessKeyId: 'AKIDE2E', secret: 'e2e/secret' }),
    ]);
    aws.pageSize = 1;
    v6 = createServer((req, res) => res.end(`six ${req.url}`));
    await new Promise<void>((resolve, reject) => {
      v6.once('error', reject);
      v6.listen(0, '::1', resolve);
    });
    aws.putTask({
      id: '0123456789abcdef06',
      group: 'service:six',
      mode: 'awsvpc',
      ip: '::1',
      containers: [
        {
          name: 'six',
          containerPort: (v6.address() as AddressInfo).port,
          hostPort: (v6.address() as AddressInfo).port,
          labels: { 'traefik.enable': 'true', 'traefik.http.routers.six.rule': 'PathPrefix(`/six`)' },
        },
      ],
    });
    aws.putTask({
      id: '0123456789abcdef01',
      group: 'service:shop',
      mode: 'awsvpc',
      ip: '127.0.0.1',
      containers: [
        {
          name: 'web',
          containerPort: b1.port,
          hostPort: b1.port,
          labels: { 'traefik.enable': 'true', 'traefik.http.routers.shop.rule': 'PathPrefix(`/shop`)' },
        },
      ],
    });
    aws.putTask({
      id: '0123456789abcdef02',
      group: 'service:api',
      mode: 'bridge',
      ip: '127.0.0.1',
      ec2InstanceId: 'i-0aaaaaaaaaaaaaaa1',
      containers: [
        {
          name: 'app',
          containerPort: 80,
          hostPort: b2.port,
          labels: {
            'traefik.enable': 'true',
            'traefik.http.routers.api.rule': 'PathPrefix(`/api`)',
            'traefik.http.services.api.loadbalancer.server.port': '80',
          },
        },
      ],
    });
    aws.putTask({
      id: '0123456789abcdef03',
      group: 'service:hidden',
      mode: 'awsvpc',
      ip: '127.0.0.1',
      containers: [
        {
          name: 'x',
          containerPort: b1.port,
          hostPort: b1.port,
          labels: { 'traefik.http.routers.hidden.rule': 'PathPrefix(`/hidden`)' },
        },
      ],
    });
    proxy = await startProxy({
      env: { AWS_ENDPOINT_URL: aws.address, AWS_EC2_METADATA_DISABLED: 'true' },
      config: `${providersHead('50ms')}  ecs:
    region: eu-central-1
    accessKeyID: AKIDE2E
    secretAccessKey: e2e/secret
    refreshSeconds: 1
    exposedByDefault: false
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([
      b1?.close(),
      b2?.close(),
      aws?.close(),
      new Promise((resolve) => (v6 === undefined ? resolve(undefined) : v6.close(resolve))),
    ]);
  });

  const web = (): number => proxy.ports['web']!;

  it('routes an awsvpc task (ENI IP, container port) and a bridge task (EC2 IP, mapped host port)', async () => {
    await untilApplied(proxy, 0, async () => (await get(web(), '/api/x')).status === 200);
    assert.deepEqual(await get(web(), '/shop/a'), { status: 200, text: 'one /shop/a' });
    assert.deepEqual(await get(web(), '/api/x'), { status: 200, text: 'two /api/x' });
    assert.equal((await get(web(), '/hidden')).status, 404, 'exposedByDefault: false, no traefik.enable');
    const routers = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/routers`)
    ).json()) as {
      name: string;
    }[];
    const names = routers.map((r) => r.name);
    assert.ok(names.includes('shop@ecs') && names.includes('api@ecs'), names.join());
    assert.ok(aws.seen.some((s) => s.service === 'ec2' && s.action === 'DescribeInstances'));
    assert.ok(aws.seen.every((s) => s.region === 'eu-central-1'));
  });

  it('routes an IPv6-only awsvpc task to its ENI IPv6 address (Traefik v3.6, #12179)', async () => {
    await untilApplied(proxy, 0, async () => (await get(web(), '/six/a')).status === 200);
    assert.deepEqual(await get(web(), '/six/a'), { status: 200, text: 'six /six/a' });
  });

  it('drops the route of a task that stops at the next refresh', async () => {
    const from = proxy.logs.length;
    aws.removeTask('0123456789abcdef01');
    await untilApplied(proxy, from, async () => (await get(web(), '/shop/a')).status === 404);
    assert.deepEqual(await get(web(), '/api/y'), { status: 200, text: 'two /api/y' });
  });
});
