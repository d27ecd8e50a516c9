import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../core/logger.ts';
import type { InternalOrigin } from '../runtime/internal-services.ts';
import { type AccessRequest, AdminAccess, type Admission, hostName } from './access.ts';
import { AdminAuth } from './auth.ts';
import { AuthThrottle } from './auth-throttle.ts';

const TOKEN = 'a-token-of-24-characters';

function setup(opts: { auth?: boolean; insecure?: boolean; allowedHosts?: string[] } = {}) {
  const lines: Record<string, unknown>[] = [];
  const clock = { now: 0 };
  const throttle = () =>
    new AuthThrottle({ burst: 3, forgiveMs: 1_000, maxClients: 100, now: () => clock.now });
  const access = new AdminAccess({
    auth: opts.auth ? new AdminAuth({ bearerTokens: [TOKEN], basicAuth: ['ops:pa55word'] }) : null,
    insecure: opts.insecure ?? false,
    allowedHosts: opts.allowedHosts ?? [],
    failures: throttle(),
    refusals: throttle(),
    logger: createLogger({
      level: 'info',
      format: 'json',
      write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    }),
  });
  return { access, lines, clock };
}

function origin(
  clientIp: string,
  via: InternalOrigin['via'] = 'entryPoint',
  hostPinned = false,
): InternalOrigin {
  return { service: 'api', clientIp, via, hostPinned };
}

function ask(host: string | undefined, authorization?: string): AccessRequest {
  return { method: 'GET', path: '/api/overview', host, authorization };
}

/** `write`, `read`, or the refusal's status. */
function outcome(a: Admission): string | number {
  return a.ok ? a.level : a.status;
}

describe('admin access', () => {
  it('follows the documented model for each combination of auth, insecure, peer, Host and router', () => {
    const LOOP = '127.0.0.1';
    const FAR = '192.0.2.9';
    const cases: [
      string,
      Parameters<typeof setup>[0],
      InternalOrigin,
      string | undefined,
      string | number,
    ][] = [
      // Without auth: loopback + loopback Host reads and writes; nothing else unless insecure/router.
      ['loopback, localhost', {}, origin(LOOP), 'localhost:8082', 'write'],
      ['loopback, ::1 mapped', {}, origin('::ffff:127.0.0.1'), '127.0.0.1:8082', 'write'],
      ['loopback, IP Host of this machine', {}, origin(LOOP), '192.0.2.2:8082', 'read'],
      ['loopback, rebound name', {}, origin(LOOP), 'evil.example', 403],
      ['remote', {}, origin(FAR), '192.0.2.2', 403],
      // insecure: reads beyond loopback, only with a Host that no other site can carry.
      ['insecure, remote, IP Host', { insecure: true }, origin(FAR), '192.0.2.2:8080', 'read'],
      ['insecure, remote, [v6] Host', { insecure: true }, origin(FAR), '[2001:db8::1]:80', 'read'],
      ['insecure, remote, rebound name', { insecure: true }, origin(FAR), 'evil.example', 403],
      ['insecure, remote, no Host', { insecure: true }, origin(FAR), undefined, 403],
      [
        'insecure, remote, listed name',
        { insecure: true, allowedHosts: ['admin.example'] },
        origin(FAR),
        'Admin.Example.:8080',
        'read',
      ],
      [
        'insecure, remote, listed domain',
        { insecure: true, allowedHosts: ['*.ops.example'] },
        origin(FAR),
        'a.ops.example',
        'read',
      ],
      [
        'insecure, remote, not the domain itself',
        { insecure: true, allowedHosts: ['*.ops.example'] },
        origin(FAR),
        'badops.example',
        403,
      ],
      // A router naming api@internal publishes reads; its rule's Host pins the name.
      ['router, remote, IP Host', {}, origin(FAR, 'router'), '192.0.2.2', 'read'],
      ['router, remote, other name', {}, origin(FAR, 'router'), 'evil.example', 403],
      ['router pinning Host, remote', {}, origin(FAR, 'router', true), 'traefik.example', 'read'],
      // With auth: credentials, from anywhere, whatever the Host.
      ['auth, remote, no credentials', { auth: true }, origin(FAR), 'evil.example', 401],
      ['auth, loopback, no credentials', { auth: true }, origin(LOOP), 'localhost', 401],
    ];
    for (const [what, opts, o, host, expected] of cases) {
      const { access } = setup(opts);
      assert.equal(outcome(access.check(o, ask(host))), expected, what);
    }
    const { access } = setup({ auth: true, insecure: true });
    assert.equal(outcome(access.check(origin(FAR), ask('evil.example', `Bearer ${TOKEN}`))), 'write');
    const basic = `Basic ${Buffer.from('ops:pa55word').toString('base64')}`;
    assert.equal(outcome(access.check(origin(FAR, 'router'), ask('x', basic))), 'write');
  });

  it('logs a refusal with the client, path, Host and reason, a few lines per client', () => {
    const { access, lines } = setup({ insecure: true });
    for (let i = 0; i < 5; i++) access.check(origin('192.0.2.9'), ask('evil.example'));
    assert.equal(lines.length, 2, 'the first refusal, then the one that fills the bucket');
    assert.deepEqual(
      { ...lines[0], time: undefined },
      {
        time: undefined,
        level: 'warn',
        msg: 'admin request refused',
        clientIp: '192.0.2.9',
        method: 'GET',
        path: '/api/overview',
        host: 'evil.example',
        service: 'api@internal',
        reason: 'host not allowed',
      },
    );
    assert.equal(lines[1]?.alsoRefusedSinceLastLine, 1);
  });

  it('logs failed authentications without the credentials, then answers 429 even to the right ones', () => {
    const { access, lines, clock } = setup({ auth: true });
    const wrong = `Bearer ${TOKEN.slice(0, -1)}X`;
    const statuses = [1, 2, 3].map(() => outcome(access.check(origin('192.0.2.9'), ask('h', wrong))));
    assert.deepEqual(statuses, [401, 401, 401]);
    const refused = access.check(origin('192.0.2.9'), ask('h', `Bearer ${TOKEN}`));
    assert.equal(outcome(refused), 429);
    assert.equal(!refused.ok && refused.headers?.['retry-after'], '1');
    assert.equal(outcome(access.check(origin('192.0.2.10'), ask('h', `Bearer ${TOKEN}`))), 'write');
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(TOKEN.slice(0, 10)), 'no token in the log');
    assert.deepEqual(
      lines.map((l) => [l.msg, l.reason, l.clientIp, l.path]),
      [
        ['admin authentication failed', 'wrong bearer credentials', '192.0.2.9', '/api/overview'],
        ['admin authentication failed', 'wrong bearer credentials', '192.0.2.9', '/api/overview'],
      ],
    );
    assert.equal(lines[1]?.alsoRefusedSinceLastLine, 1);
    // The bucket drains: after the wait the right credentials are checked again.
    clock.now += 3_000;
    assert.equal(outcome(access.check(origin('192.0.2.9'), ask('h', `Bearer ${TOKEN}`))), 'write');
  });

  it('refuses writes to a client admitted to read, and says what would allow them', () => {
    const { access, lines } = setup({ insecure: true });
    const r = access.refuseWrite(origin('192.0.2.9'), { ...ask('192.0.2.2'), method: 'PUT' });
    assert.equal(r.status, 403);
    assert.match(r.error, /api\.auth/);
    assert.equal(lines[0]?.reason, 'write without credentials');
  });

  // A Prometheus in another container scraping metrics.prometheus.entryPoint, which Traefik serves
  // to every client: the refusal says how to let it in without opening the API.
  it("tells a refused scraper of /metrics how to let it in, not the admin API's advice", () => {
    const { access } = setup();
    const scrape = access.check(
      { service: 'prometheus', clientIp: '192.0.2.9', via: 'entryPoint', hostPinned: false },
      { method: 'GET', path: '/metrics', host: 'traefik:8082', authorization: undefined },
    );
    assert.ok(!scrape.ok);
    assert.equal(scrape.status, 403);
    assert.equal(
      scrape.error,
      'the metrics are served to loopback clients only on metrics.prometheus.entryPoint (Traefik serves every client): configure api.auth and give Prometheus the credentials, or set metrics.prometheus.manualRouting and route them with a router naming prometheus@internal whose rule requires the Host Prometheus scrapes (Host(`traefik`) && PathPrefix(`/metrics`))',
    );
    // The router that advice describes admits it (its rule pins the Host).
    const routed = access.check(
      { service: 'prometheus', clientIp: '192.0.2.9', via: 'router', hostPinned: true },
      { method: 'GET', path: '/metrics', host: 'traefik:8082', authorization: undefined },
    );
    assert.equal(outcome(routed), 'read');
  });

  it('reads the name out of a Host header', () => {
    assert.equal(hostName('Example.COM.:8080'), 'example.com');
    assert.equal(hostName('[::1]:80'), '::1');
    assert.equal(hostName('[::1'), undefined);
    assert.equal(hostName(''), undefined);
  });
});
