/**
 * Static `hostResolver.cnameFlattening` (Traefik's requestdecorator): a request's host is
 * followed through its CNAME chain, asked of a real BIND on loopback (through
 * test/helpers/dns-relay.ts, on port 53 of a loopback address of this test's own), and `Host`
 * matchers also match the name it ends at.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type DnsRelay, dnsAddress, dnsRelay } from '../helpers/dns-relay.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type Named, startNamed } from '../helpers/named.ts';
import { startProxy } from '../helpers/proxy-process.ts';

/** The status and body of a GET / with `host` as the Host field. */
async function get(port: number, host: string): Promise<{ status: number; body: string }> {
  const r = await httpRequest(port, { headers: { host } });
  return { status: r.status, body: r.text };
}

function config(resolv: string, depth?: number, flatten = true): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
hostResolver:
  cnameFlattening: ${flatten}
  resolvConfig: "${resolv}"
${depth === undefined ? '' : `  resolvDepth: ${depth}\n`}log: { level: DEBUG }
providers:
  file: { filename: dynamic.yaml }
`;
}

function dynamic(target: Backend, mid: Backend, plain: Backend, regexp: Backend): string {
  return `http:
  routers:
    target: { rule: "Host(\`target.example.net\`)", service: target }
    mid: { rule: "Host(\`mid.example.com\`)", service: mid, priority: 1 }
    plain: { rule: "Host(\`plain.example.com\`)", service: plain }
    regexp: { rule: "HostRegexp(\`^target\\\\.example\\\\.net$\`)", service: regexp, priority: 1 }
  services:
    target: { loadBalancer: { servers: [{ url: "${target.url}" }] } }
    mid: { loadBalancer: { servers: [{ url: "${mid.url}" }] } }
    plain: { loadBalancer: { servers: [{ url: "${plain.url}" }] } }
    regexp: { loadBalancer: { servers: [{ url: "${regexp.url}" }] } }
`;
}

describe('hostResolver.cnameFlattening: Host matchers follow the CNAME chain', () => {
  let named: Named;
  let relay: DnsRelay;
  let address: string;
  const backends: Backend[] = [];
  let target: Backend;
  let mid: Backend;
  let plain: Backend;
  let regexp: Backend;

  before(async () => {
    address = dnsAddress();
    named = await startNamed([
      {
        name: 'example.com',
        records: [
          'alias IN CNAME mid.example.com.',
          'mid 300 IN CNAME target.example.net.',
          'plain IN A 127.0.0.1',
          'upper IN CNAME TARGET.Example.NET.',
        ],
      },
    ]);
    relay = await dnsRelay(address, named.port);
    target = await startBackend((_req, res) => res.end('target'));
    mid = await startBackend((_req, res) => res.end('mid'));
    plain = await startBackend((_req, res) => res.end('plain'));
    regexp = await startBackend((_req, res) => res.end('regexp'));
    backends.push(target, mid, plain, regexp);
  });
  after(async () => {
    relay?.close();
    await named?.close();
    for (const b of backends) await b.close();
  });

  it('routes a host by the name its CNAMEs lead to, through the whole chain, and keeps the answer', async (t) => {
    const proxy = await startProxy({
      config: config('resolv.conf'),
      files: {
        'resolv.conf': `# test\nnameserver ${address}\n`,
        'dynamic.yaml': dynamic(target, mid, plain, regexp),
      },
    });
    t.after(() => proxy.stop());
    // alias → mid.example.com → target.example.net (no CNAME there: the chain ends).
    assert.deepEqual(await get(proxy.port, 'alias.example.com'), { status: 200, body: 'target' });
    // A host without a CNAME is itself: its own Host rule.
    assert.deepEqual(await get(proxy.port, 'plain.example.com'), { status: 200, body: 'plain' });
    // The target's name is matched in any case, as Go's strings.EqualFold compares it.
    assert.deepEqual(await get(proxy.port, 'upper.example.com'), { status: 200, body: 'target' });
    // The request's own name still matches first by priority: mid's router is below target's
    // but mid.example.com's chain ends at target.example.net, so target's router takes it.
    assert.deepEqual(await get(proxy.port, 'mid.example.com'), { status: 200, body: 'target' });
    // No name at all: nothing to resolve, 404.
    assert.equal((await get(proxy.port, 'nowhere.example.org')).status, 404);
    // The answers are kept (the first step's TTL, or 30 minutes): asked again, no question goes out.
    const asked = relay.questions;
    assert.deepEqual(await get(proxy.port, 'alias.example.com'), { status: 200, body: 'target' });
    assert.deepEqual(await get(proxy.port, 'upper.example.com'), { status: 200, body: 'target' });
    assert.deepEqual(await get(proxy.port, 'plain.example.com'), { status: 200, body: 'plain' });
    assert.equal(relay.questions, asked);
  });
});

describe('hostResolver.cnameFlattening: depth, HostRegexp, off, and a resolver that fails', () => {
  let named: Named;
  let relay: DnsRelay;
  let address: string;
  const backends: Backend[] = [];
  let target: Backend;
  let mid: Backend;
  let plain: Backend;
  let regexp: Backend;

  before(async () => {
    address = dnsAddress();
    named = await startNamed([
      {
        name: 'example.com',
        records: ['alias IN CNAME mid.example.com.', 'mid IN CNAME target.example.net.'],
      },
    ]);
    relay = await dnsRelay(address, named.port);
    target = await startBackend((_req, res) => res.end('target'));
    mid = await startBackend((_req, res) => res.end('mid'));
    plain = await startBackend((_req, res) => res.end('plain'));
    regexp = await startBackend((_req, res) => res.end('regexp'));
    backends.push(target, mid, plain, regexp);
  });
  after(async () => {
    relay?.close();
    await named?.close();
    for (const b of backends) await b.close();
  });

  it('flattens in each data-plane worker too', async (t) => {
    const proxy = await startProxy({
      config: `${config('resolv.conf')}workers: 2\n`,
      files: {
        'resolv.conf': `nameserver ${address}\n`,
        'dynamic.yaml': dynamic(target, mid, plain, regexp),
      },
    });
    t.after(() => proxy.stop());
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(await get(proxy.port, 'alias.example.com'), { status: 200, body: 'target' });
    }
  });

  it('stops after resolvDepth steps', async (t) => {
    const proxy = await startProxy({
      config: config('resolv.conf', 1),
      files: {
        'resolv.conf': `nameserver ${address}\n`,
        'dynamic.yaml': dynamic(target, mid, plain, regexp),
      },
    });
    t.after(() => proxy.stop());
    assert.deepEqual(await get(proxy.port, 'alias.example.com'), { status: 200, body: 'mid' });
  });

  it('leaves HostRegexp on the request host, as Traefik does', async (t) => {
    const dyn = `http:
  routers:
    regexp: { rule: "HostRegexp(\`^target\\\\.example\\\\.net$\`)", service: regexp }
  services:
    regexp: { loadBalancer: { servers: [{ url: "${regexp.url}" }] } }
`;
    const proxy = await startProxy({
      config: config('resolv.conf'),
      files: { 'resolv.conf': `nameserver ${address}\n`, 'dynamic.yaml': dyn },
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy.port, 'alias.example.com')).status, 404);
    assert.deepEqual(await get(proxy.port, 'target.example.net'), { status: 200, body: 'regexp' });
  });

  it('does nothing when cnameFlattening is off (the default)', async (t) => {
    const proxy = await startProxy({
      config: config('resolv.conf', undefined, false),
      files: {
        'resolv.conf': `nameserver ${address}\n`,
        'dynamic.yaml': dynamic(target, mid, plain, regexp),
      },
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy.port, 'alias.example.com')).status, 404);
  });

  it('routes by the host itself when the resolver file is missing or its server does not answer', async (t) => {
    const missing = await startProxy({
      config: config('no-such-resolv.conf'),
      files: { 'dynamic.yaml': dynamic(target, mid, plain, regexp) },
    });
    t.after(() => missing.stop());
    assert.equal((await get(missing.port, 'alias.example.com')).status, 404);
    assert.deepEqual(await get(missing.port, 'mid.example.com'), { status: 200, body: 'mid' });
    assert.ok(
      missing.logs.some((l) => String(l.msg).includes('CNAME flattening failed')),
      'the unreadable file is logged as an error',
    );
    // Nothing listens on port 53 there: the refusal ends the chain at once.
    const silent = await startProxy({
      config: config('resolv.conf'),
      files: {
        'resolv.conf': `nameserver ${dnsAddress()}\n`,
        'dynamic.yaml': dynamic(target, mid, plain, regexp),
      },
    });
    t.after(() => silent.stop());
    assert.deepEqual(await get(silent.port, 'mid.example.com'), { status: 200, body: 'mid' });
  });
});
