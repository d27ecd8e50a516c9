/**
 * A middleware its constructor refuses, in Traefik's words through the real proxy's API
 * (admin/traefik-middleware-errors.ts): the error is on the middleware, on a chain holding it and
 * on the router that uses it (pkg/server/middleware/middlewares.go BuildChain AddError, then the
 * router's buildEntryPointHandler), its located `issues` kept; the router serves nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** Middleware name, its configuration (YAML flow), Traefik's error. */
const CASES: readonly (readonly [string, string, string])[] = [
  [
    'rr',
    '{ redirectRegex: { regex: "a(b", replacement: "x" } }',
    'error parsing regexp: missing closing ): `a(b`',
  ],
  [
    'rp',
    '{ replacePathRegex: { regex: "a[b", replacement: "/x" } }',
    'error compiling regular expression a[b: error parsing regexp: missing closing ]: `[b`',
  ],
  [
    'sp',
    '{ stripPrefixRegex: { regex: ["/ok", "x**"] } }',
    'error parsing regexp: invalid nested repetition operator: `**`',
  ],
  [
    'hd',
    '{ headers: { accessControlAllowOriginListRegex: ["(?P<n"] } }',
    'error occurred during origin parsing: error parsing regexp: invalid named capture: `(?P<n`',
  ],
  [
    'ip',
    '{ ipAllowList: { sourceRange: ["10.0.0.0/8", "10.0.0.0/33"] } }',
    'cannot parse CIDRs [10.0.0.0/8 10.0.0.0/33]: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range',
  ],
  [
    'ipx',
    '{ ipAllowList: { sourceRange: ["10.0.0.0/8"], ipStrategy: { excludedIPs: ["1.2.3"] } } }',
    'parsing CIDR trusted IPs 1.2.3: netip.ParsePrefix("1.2.3"): no \'/\'',
  ],
  [
    'ifr',
    '{ inFlightReq: { amount: 1, sourceCriterion: { requestHeaderName: "x", requestHost: true } } }',
    'error creating requests limiter: requestHost and RequestHeaderName are mutually exclusive',
  ],
  [
    'rlx',
    '{ rateLimit: { average: 1, sourceCriterion: { ipStrategy: { depth: 1 }, requestHeaderName: "X-Key" } } }',
    'iPStrategy and RequestHeaderName are mutually exclusive',
  ],
  [
    'er',
    '{ errors: { status: ["500", "5x0"], service: s, query: "/" } }',
    'strconv.Atoi: parsing "5x0": invalid syntax',
  ],
  // A class (5xx) is no status to Traefik's NewHTTPCodeRanges (strconv.Atoi): loaded as one here
  // before, the router served.
  [
    'er5',
    '{ errors: { status: ["5xx"], service: s, query: "/" } }',
    'strconv.Atoi: parsing "5xx": invalid syntax',
  ],
  [
    'erw',
    '{ errors: { status: ["500"], statusRewrites: { "4xx": 404 }, service: s, query: "/" } }',
    'strconv.Atoi: parsing "4xx": invalid syntax',
  ],
  [
    'rs5',
    '{ retry: { attempts: 2, status: ["5xx"] } }',
    'creating HTTP code ranges: strconv.Atoi: parsing "5xx": invalid syntax',
  ],
  // ipv6Subnet set to 0 is IPStrategy.Get's error where it is read (with a depth, or without
  // excludedIPs); it was read as not set here.
  [
    'sub0',
    '{ ipAllowList: { sourceRange: ["10.0.0.0/8"], ipStrategy: { ipv6Subnet: 0 } } }',
    'invalid IPv6 subnet 0 value, should be greater to 0 and lower or equal to 128',
  ],
  [
    'rl0',
    '{ rateLimit: { average: 1, sourceCriterion: { ipStrategy: { depth: 1, ipv6Subnet: 0 } } } }',
    'invalid IPv6 subnet 0 value, should be greater to 0 and lower or equal to 128',
  ],
  ['rl', '{ rateLimit: { average: 1, period: -1500ms } }', 'negative value not valid for period: -1.5s'],
  ['rt', '{ retry: { attempts: -1 } }', 'incorrect (or empty) value for attempt (-1)'],
  // Only the first error retry.New meets: the attempts before the status.
  ['rt2', '{ retry: { attempts: 0, status: ["5o0"] } }', 'incorrect (or empty) value for attempt (0)'],
  [
    'rs',
    '{ retry: { attempts: 2, status: ["5o0"] } }',
    'creating HTTP code ranges: strconv.Atoi: parsing "5o0": invalid syntax',
  ],
  [
    'cb',
    '{ circuitBreaker: { expression: "NetworkErrorRatio() > " } }',
    "1:23: expected operand, found 'EOF'",
  ],
  ['bf', '{ buffering: { retryExpression: "IsNetworkError() &&" } }', "1:20: expected operand, found 'EOF'"],
  // Past Go's parse: vulcand/predicate's, reflect's and oxy's operators' words (oxy v2.1.0).
  ['cb2', '{ circuitBreaker: { expression: "NetworkErrorRatio() > 1" } }', 'expected int, got int'],
  [
    'cb3',
    '{ circuitBreaker: { expression: "LatencyAtQuantileMS(50) > 100" } }',
    'reflect: Call using int as type float64',
  ],
  ['cb4', '{ circuitBreaker: { expression: "Foo() > 0.5" } }', 'unsupported function: Foo'],
  ['bf2', '{ buffering: { retryExpression: "Attempts() < 2.5" } }', 'expected int, got float64'],
  [
    'fa',
    '{ forwardAuth: { address: "http://127.0.0.1:1", authResponseHeadersRegex: "a(" } }',
    'error compiling regular expression a(: error parsing regexp: missing closing ): `a(`',
  ],
];

describe("API: middleware constructor errors in Traefik's words", () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    const routers = CASES.map(
      ([m]) => `    r-${m}:\n      rule: "Path(\`/${m}\`)"\n      service: s\n      middlewares: [${m}]\n`,
    ).join('');
    const middlewares = CASES.map(([m, conf]) => `    ${m}: ${conf}\n`).join('');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcp:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
${routers}    r-ok:
      rule: "Path(\`/ok\`)"
      service: s
    r-subx:
      rule: "Path(\`/subx\`)"
      service: s
      middlewares: [subx]
    r-chain:
      rule: "Path(\`/chain\`)"
      service: s
      middlewares: [ch]
    r-loop:
      rule: "Path(\`/loop\`)"
      service: s
      middlewares: [loop]
    r-chain2:
      rule: "Path(\`/chain2\`)"
      service: s
      middlewares: [ch2]
  services:
    s:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
  middlewares:
${middlewares}    subx: { ipAllowList: { sourceRange: ["127.0.0.1"], ipStrategy: { excludedIPs: ["10.0.0.1"], ipv6Subnet: 200 } } }
    ch: { chain: { middlewares: [rt] } }
    ch2: { chain: { middlewares: [nowhere] } }
    loop: { chain: { middlewares: [loop2] } }
    loop2: { chain: { middlewares: [loop] } }
tcp:
  routers:
    t:
      entryPoints: [tcp]
      rule: "HostSNI(\`*\`)"
      service: ts
      middlewares: [tip]
  services:
    ts:
      loadBalancer: { servers: [{ address: "127.0.0.1:1" }] }
  middlewares:
    tip: { ipAllowList: { sourceRange: ["300.0.0.1"] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, unknown>;
  };

  for (const [m, , text] of CASES) {
    it(`${m}: the constructor's error on the middleware and on its router`, async () => {
      const mw = await get(`/api/http/middlewares/${m}@file`);
      assert.equal(mw['status'], 'disabled', JSON.stringify(mw));
      assert.deepEqual(mw['error'], [text]);
      assert.ok((mw['issues'] as string[]).length > 0, 'our located issues stay');
      const r = await get(`/api/http/routers/r-${m}@file`);
      assert.equal(r['status'], 'disabled');
      assert.deepEqual(r['error'], [text]);
    });
  }

  it('a router whose middleware Traefik refuses serves nothing; the rest of the file serves', async () => {
    for (const [path, status] of [
      ['/er5', 404],
      ['/rs5', 404],
      ['/erw', 404],
      ['/rlx', 404],
      ['/ok', 200],
    ] as const) {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`);
      assert.equal(r.status, status, path);
      await r.arrayBuffer();
    }
  });

  it("an ipv6Subnet beside excludedIPs is never read by Traefik's IPStrategy.Get: it loads, whatever its value", async () => {
    const mw = await get('/api/http/middlewares/subx@file');
    assert.equal(mw['status'], 'enabled', JSON.stringify(mw));
    const r = await get('/api/http/routers/r-subx@file');
    assert.equal(r['status'], 'enabled', JSON.stringify(r));
  });

  it("a chain holding a refused middleware carries its error, as its router (chain.New's BuildChain)", async () => {
    const text = 'incorrect (or empty) value for attempt (-1)';
    assert.deepEqual((await get('/api/http/middlewares/ch@file'))['error'], [text]);
    assert.deepEqual((await get('/api/http/routers/r-chain@file'))['error'], [text]);
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/chain`);
    assert.equal(web.status, 404);
    await web.arrayBuffer();
  });

  it("a chain naming a middleware that does not exist: BuildChain's words on the chain and its router", async () => {
    const text = 'middleware "nowhere@file" does not exist';
    assert.deepEqual((await get('/api/http/middlewares/ch2@file'))['error'], [text]);
    assert.deepEqual((await get('/api/http/routers/r-chain2@file'))['error'], [text]);
  });

  it("a chain cycle: checkRecursion's words on the chain and its router", async () => {
    const text =
      'could not instantiate middleware loop@file: recursion detected in loop@file->loop2@file->loop@file';
    assert.deepEqual((await get('/api/http/middlewares/loop@file'))['error'], [text]);
    assert.deepEqual((await get('/api/http/routers/r-loop@file'))['error'], [text]);
  });

  it("a TCP ipAllowList's CIDR error (pkg/middlewares/tcp/ipallowlist New)", async () => {
    const text =
      'cannot parse CIDRs [300.0.0.1]: parsing CIDR trusted IPs 300.0.0.1: netip.ParsePrefix("300.0.0.1"): no \'/\'';
    const mw = await get('/api/tcp/middlewares/tip@file');
    assert.deepEqual(mw['error'], [text]);
    assert.deepEqual((await get('/api/tcp/routers/t@file'))['error'], [text]);
  });
});
