/**
 * Traefik shuffles a load balancer's servers and a weighted service's children when it builds
 * them (pkg/server/service/service.go `shuffle`): the first request after a (re)build does not
 * always go to the first server listed. Real proxy process (without the listed-order setting the
 * other e2e tests use), real node:http backends, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** Services of each kind: the chance that all of them start at the first server is 2^-24. */
const N = 24;

async function named(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(200).end(name));
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('server order, as Traefik builds load balancers', () => {
  let proxy: ProxyProcess;
  let base = '';
  let a: { server: Server; url: string };
  let b: { server: Server; url: string };

  before(async () => {
    a = await named('a');
    b = await named('b');
    const routers: string[] = [];
    const services: string[] = [
      `    childA: { loadBalancer: { servers: [{ url: "${a.url}" }] } }`,
      `    childB: { loadBalancer: { servers: [{ url: "${b.url}" }] } }`,
    ];
    for (let i = 0; i < N; i++) {
      routers.push(`    lb${i}: { rule: "Path(\`/lb/${i}\`)", service: lb${i} }`);
      routers.push(`    w${i}: { rule: "Path(\`/w/${i}\`)", service: w${i} }`);
      services.push(`    lb${i}: { loadBalancer: { servers: [{ url: "${a.url}" }, { url: "${b.url}" }] } }`);
      services.push(
        `    w${i}: { weighted: { services: [{ name: childA, weight: 1 }, { name: childB, weight: 1 }] } }`,
      );
    }
    proxy = await startProxy({
      env: { TM_SERVER_ORDER: '' },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
${routers.join('\n')}
  services:
${services.join('\n')}
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    a?.server.close();
    b?.server.close();
  });

  async function firsts(kind: string): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < N; i++) {
      const r = await curl(['--max-time', '10', `${base}/${kind}/${i}`]);
      assert.equal(r.status, 200);
      seen.add(r.body.toString());
    }
    return seen;
  }

  it("starts a load balancer's cycle at a random server", async () => {
    assert.deepEqual([...(await firsts('lb'))].sort(), ['a', 'b']);
  });

  it("starts a weighted service's cycle at a random child", async () => {
    assert.deepEqual([...(await firsts('w'))].sort(), ['a', 'b']);
  });

  it('still alternates after the first request', async () => {
    const one = (await curl([`${base}/lb/0`])).body.toString();
    const two = (await curl([`${base}/lb/0`])).body.toString();
    assert.notEqual(one, two);
  });
});
