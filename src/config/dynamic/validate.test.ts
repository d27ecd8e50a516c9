import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { loadDynamic } from './load.ts';
import type { RuleChecker } from './validate.ts';

/** Stands in for the router's compileRule: `Bad` is an unknown matcher. */
const checkRule: RuleChecker = (rule) => {
  const at = rule.indexOf('Bad');
  return at === -1 ? undefined : { message: 'unknown matcher "Bad"', offset: at };
};

const base = `http:
  services:
    svc:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9001" }]
  middlewares:
    strip: { stripPrefix: { prefixes: [/api] } }
`;

function check(
  text: string,
  opts: {
    entryPoints?: string[];
    internalServices?: ReadonlySet<string>;
    certResolvers?: string[];
    defaultRuleSyntax?: string;
  } = {},
) {
  const r = loadDynamic([{ file: 'dyn.yaml', text }], { checkRule, ...opts });
  return { config: r.config, lines: r.issues.map(formatIssue) };
}

describe('validateDynamic', () => {
  it('takes a weighted child with a status as no reference to a service (Traefik`s WRRService.Status)', () => {
    const r = check(`http:
  services:
    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }] } }
    w: { weighted: { services: [{ name: svc }, { name: gone-80, weight: 2, status: 500 }] } }
    bad: { weighted: { services: [{ name: x, status: 99 }] } }
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: w }
`);
    assert.equal(r.lines.length, 1, r.lines.join('\n'));
    assert.match(r.lines[0]!, /http\.services\.bad\.weighted\.services\[0\]\.status/);
    const w = r.config?.http.services['w'];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(w.weighted.services[1], { name: 'gone-80', weight: 2, status: 500 });
  });

  it('refuses a weighted or hrw healthCheck over a child that cannot report its health, in Traefik`s words', () => {
    const r = check(`http:
  services:
    plain: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }] } }
    p2c: { loadBalancer: { strategy: p2c, servers: [{ url: "http://127.0.0.1:9001" }] } }
    checked: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }], healthCheck: { path: /h } } }
    w: { weighted: { services: [{ name: checked }, { name: plain }], healthCheck: {} } }
    h: { highestRandomWeight: { services: [{ name: p2c }], healthCheck: {} } }
    st: { weighted: { services: [{ name: x, status: 500 }], healthCheck: {} } }
    m: { mirroring: { service: plain, healthCheck: {} } }
    overM: { weighted: { services: [{ name: m }], healthCheck: {} } }
    wOff: { weighted: { services: [{ name: plain }] } }
    overW: { weighted: { services: [{ name: wOff }], healthCheck: {} } }
    fine: { weighted: { services: [{ name: checked }, { name: w2 }], healthCheck: {} } }
    w2: { weighted: { services: [{ name: checked }], healthCheck: {} } }
    noCheck: { weighted: { services: [{ name: plain }] } }
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: w }
`);
    assert.deepEqual(r.lines.sort(), [
      'dyn.yaml:10:45: http.services.overM.weighted.services[0].name: cannot register m as updater for overM@file: cannot register service of mirroring as updater: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:12:45: http.services.overW.weighted.services[0].name: cannot register wOff as updater for overW@file: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:17:44: http.routers.r.service: service `w` is disabled because of its own errors',
      'dyn.yaml:6:60: http.services.w.weighted.services[1].name: cannot register plain as updater for w@file: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:7:52: http.services.h.highestRandomWeight.services[0].name: cannot register p2c as updater for h@file: healthCheck not enabled in config for this P2C service',
      'dyn.yaml:8:53: http.services.st.weighted.services[0].status: child service x of st@file not a healthcheck.StatusUpdater (http.HandlerFunc)',
    ]);
    for (const ok of ['fine', 'w2', 'noCheck', 'm', 'wOff']) assert.ok(r.config?.http.services[ok], ok);
  });

  it('refuses a failover whose main service cannot report its health unless errors.status is set, and with healthCheck its fallback too, in Traefik`s words', () => {
    // Traefik v3.7+ pkg/server/service/service.go getFailoverServiceHandler.
    const r = check(`http:
  services:
    plain: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }] } }
    checked: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }], healthCheck: { path: /h } } }
    m: { mirroring: { service: checked } }
    plainMain: { failover: { service: plain, fallback: checked } }
    mirrorMain: { failover: { service: m, fallback: checked } }
    codesMain: { failover: { service: plain, fallback: checked, statusCodes: [503] } }
    byStatus: { failover: { service: plain, fallback: plain, errors: { status: ["503"] } } }
    noStatus: { failover: { service: plain, fallback: checked, errors: { maxRequestBodyBytes: 5 } } }
    fine: { failover: { service: checked, fallback: plain } }
    fbPlain: { failover: { service: checked, fallback: plain, healthCheck: {} } }
    fbFine: { failover: { service: checked, fallback: fine2, healthCheck: {} } }
    fine2: { failover: { service: checked, fallback: checked, healthCheck: {} } }
    overFine: { weighted: { services: [{ name: fine }], healthCheck: {} } }
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: plainMain }
`);
    assert.deepEqual(r.lines.sort(), [
      'dyn.yaml:10:38: http.services.noStatus.failover.service: cannot register plain as updater for noStatus@file: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:12:56: http.services.fbPlain.failover.fallback: cannot register plain as updater for fbPlain@file: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:15:48: http.services.overFine.weighted.services[0].name: cannot register fine as updater for overFine@file: healthCheck not enabled in config for this failover service',
      'dyn.yaml:17:44: http.routers.r.service: service `plainMain` is disabled because of its own errors',
      'dyn.yaml:6:39: http.services.plainMain.failover.service: cannot register plain as updater for plainMain@file: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:7:40: http.services.mirrorMain.failover.service: cannot register m as updater for mirrorMain@file: healthCheck not enabled in config for this mirroring service',
      'dyn.yaml:8:39: http.services.codesMain.failover.service: cannot register plain as updater for codesMain@file: healthCheck not enabled in config for this weighted service',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.services ?? {}).sort(), [
      'byStatus',
      'checked',
      'fbFine',
      'fine',
      'fine2',
      'm',
      'plain',
    ]);
  });

  it('checks the services a service refers to: missing ones, cycles, and disabled children', () => {
    const r = check(`http:
  services:
    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9001" }] } }
    w: { weighted: { services: [{ name: svc }, { name: ghost }] } }
    a: { failover: { service: b, fallback: svc, errors: { status: ["500"] } } }
    b: { mirroring: { service: a } }
    top: { weighted: { services: [{ name: a }] } }
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: top }
`);
    assert.deepEqual(r.lines.sort(), [
      'dyn.yaml:4:56: http.services.w.weighted.services[1].name: service `ghost` does not exist',
      'dyn.yaml:5:8: http.services.a: service cycle: a → b → a',
      'dyn.yaml:6:8: http.services.b: service cycle: b → a → b',
      'dyn.yaml:7:43: http.services.top.weighted.services[0].name: service `a` is disabled because of its own errors',
      'dyn.yaml:9:44: http.routers.r.service: service `top` is disabled because of its own errors',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.services ?? {}), ['svc']);
  });

  it('accepts a router whose references all exist, qualified or not', () => {
    const r = check(
      `${base}  routers:\n    api: { rule: "PathPrefix(\`/\`)", middlewares: [strip, strip@file], service: svc@file }\n`,
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['api']);
  });

  it('points a rule error at the exact character of a plain or quoted one-line rule', () => {
    const plain = check(
      `${base}  routers:\n    a:\n      rule: Host(\`x\`) && Bad(\`y\`)\n      service: svc\n`,
    );
    assert.deepEqual(plain.lines, [
      'dyn.yaml:10:26: http.routers.a.rule: invalid rule: unknown matcher "Bad"',
    ]);
    const quoted = check(`${base}  routers:\n    a: { service: svc, rule: "Host(\`x\`) || Bad()" }\n`);
    assert.deepEqual(quoted.lines, [
      'dyn.yaml:9:44: http.routers.a.rule: invalid rule: unknown matcher "Bad"',
    ]);
    assert.deepEqual(quoted.config?.http.routers, {});
  });

  // Traefik v3 reads a v2 `{name:regexp}` literally and never matches; a file migrated from v2
  // would 404 without a word (the v2 to v3 migration guide rewrites these rules).
  it("warns about a Traefik v2 placeholder in a v3 rule, and not in a v2 one nor in a regexp's repeat", () => {
    const rules = (r: Record<string, string>) =>
      `${base}  routers:\n${Object.entries(r)
        .map(([n, rule]) => `    ${n}: { rule: ${JSON.stringify(rule)}, service: svc }\n`)
        .join('')}`;
    const r = check(
      rules({
        h: 'HostRegexp(`{subdomain:[a-z]+}.example.com`)',
        p: 'Host(`a.test`) && Path(`/items/{id:[0-9]{3}}`)',
        q: 'PathPrefix(`/users/{id}`)',
        fine: 'HostRegexp(`^[a-z]{2,3}\\.example\\.com$`) || Header(`X-T`, `{x}`) || Host(`$' + '{DOMAIN}`)',
      }),
      { defaultRuleSyntax: 'v3' },
    );
    const says = (p: string) =>
      `dyn.yaml:WHERE: warning: http.routers.${p}: ` +
      "is Traefik v2's placeholder syntax: v3 reads it literally, so this rule never matches such a request; write a regular expression (HostRegexp(`^[a-z]+\\.example\\.com$`), PathRegexp), or read the rules as v2 (core.defaultRuleSyntax: v2)";
    const got = r.lines.map((l) =>
      l.replace(/^dyn\.yaml:\d+:\d+:/, 'dyn.yaml:WHERE:').replace(/rule: `[^`]*` /, 'rule: '),
    );
    assert.deepEqual(got, ['h.rule', 'p.rule', 'q.rule'].map(says), r.lines.join('\n'));
    assert.ok(r.lines[0]!.includes('`{subdomain:[a-z]+}`'), r.lines[0]);
    assert.ok(r.lines[1]!.includes('`{id:[0-9]{3}}`'), r.lines[1]);
    const v2 = check(
      rules({ h: 'HostRegexp(`{subdomain:[a-z]+}.example.com`)' }).replace(
        'service: svc }',
        'service: svc, ruleSyntax: v2 }',
      ),
      { defaultRuleSyntax: 'v3' },
    );
    assert.ok(!v2.lines.some((l) => l.includes('placeholder')), v2.lines.join('\n'));
    const byDefault = check(rules({ h: 'HostRegexp(`{subdomain:[a-z]+}.example.com`)' }), {
      defaultRuleSyntax: 'v2',
    });
    assert.deepEqual(byDefault.lines, []);
  });

  it('gives the offset in the message when the rule spans several lines', () => {
    const r = check(
      `${base}  routers:\n    a:\n      service: svc\n      rule: >-\n        Host(\`x\`)\n        && Bad()\n`,
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:11:13: http.routers.a.rule: invalid rule: unknown matcher "Bad" (at offset 13 of the rule)',
    ]);
  });

  it('reports a missing service, middleware and serversTransport at the reference', () => {
    const r = check(
      `${base}  routers:
    a: { rule: "Path(\`/\`)", service: nope, middlewares: [strip, ghost] }
`.replace('servers: [{', 'serversTransport: tt\n        servers: [{'),
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:5:27: http.services.svc.loadBalancer.serversTransport: serversTransport `tt` does not exist',
      'dyn.yaml:10:38: http.routers.a.service: service `nope` does not exist',
      'dyn.yaml:10:65: http.routers.a.middlewares[1]: middleware `ghost` does not exist',
    ]);
    assert.deepEqual(r.config?.http.routers, {});
    assert.deepEqual(r.config?.http.services, {});
  });

  it('disables a router whose service has errors of its own, saying so', () => {
    const r = check(
      `${base}  routers:\n    a: { rule: "Path(\`/\`)", service: svc }\n`.replace(
        '9001" }',
        '9001", weight: -2 }',
      ),
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:5:59: http.services.svc.loadBalancer.servers[0].weight: -2 is out of range (expected a number >= 0)',
      'dyn.yaml:9:38: http.routers.a.service: service `svc` is disabled because of its own errors',
    ]);
    assert.deepEqual(r.config?.http.routers, {});
  });

  it('reads Traefik v3.7 service middlewares on every kind of service and reference, any case, and disables a service naming an unknown one', () => {
    const services = `    w:
      middlewares: [strip]
      weighted: { services: [{ name: svc, weight: 1, middlewares: [strip@file] }] }
    l:
      MiddleWares: [strip]
      loadBalancer: { servers: [{ url: "http://127.0.0.1:9002" }] }
    f:
      failover: { service: svc, middlewares: [strip], fallback: l, fallbackMiddlewares: [nope] }
  middlewares:
`;
    const r = check(
      `${base.replace('  middlewares:\n', services)}  routers:\n    a: { rule: "Path(\`/\`)", service: w }\n    b: { rule: "Path(\`/b\`)", service: f }\n`,
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:10:7: warning: http.services.l.middlewares: `MiddleWares` is read as `middlewares` (keys are case-insensitive)',
      'dyn.yaml:13:90: http.services.f.failover.fallbackMiddlewares[0]: middleware `nope` does not exist',
      'dyn.yaml:18:39: http.routers.b.service: service `f` is disabled because of its own errors',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['a']);
    const w = r.config?.http.services['w'];
    assert.deepEqual(w?.middlewares, ['strip']);
    assert.deepEqual(w?.kind === 'weighted' && w.weighted.services[0]?.middlewares, ['strip@file']);
    assert.deepEqual(r.config?.http.services['l']?.middlewares, ['strip']);
  });

  it("reads a mirror entry's middlewares (Traefik v3.7 MirrorService.Middlewares) and disables the mirroring service naming an unknown one", () => {
    const services = `    m:
      mirroring: { service: svc, mirrors: [{ name: svc, percent: 10, middlewares: [strip] }] }
    n:
      mirroring: { service: svc, mirrors: [{ name: svc, percent: 10, middlewares: [nope] }] }
  middlewares:
`;
    const r = check(
      `${base.replace('  middlewares:\n', services)}  routers:\n    a: { rule: "Path(\`/\`)", service: m }\n    b: { rule: "Path(\`/b\`)", service: n }\n`,
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:9:84: http.services.n.mirroring.mirrors[0].middlewares[0]: middleware `nope` does not exist',
      'dyn.yaml:14:39: http.routers.b.service: service `n` is disabled because of its own errors',
    ]);
    const m = r.config?.http.services['m'];
    assert.deepEqual(m?.kind === 'mirroring' && m.mirroring.mirrors[0]?.middlewares, ['strip']);
  });

  it('finds chain cycles and disables every chain on them and every router using them', () => {
    const r = check(`${base}    c1: { chain: { middlewares: [c2] } }
    c2: { chain: { middlewares: [strip, c1] } }
    c3: { chain: { middlewares: [c2] } }
    self: { chain: { middlewares: [self] } }
  routers:
    a: { rule: "Path(\`/\`)", service: svc, middlewares: [c3] }
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:8:33: http.middlewares.c1.chain.middlewares: chain cycle: c1 → c2 → c1',
      'dyn.yaml:9:33: http.middlewares.c2.chain.middlewares: chain cycle: c2 → c1 → c2',
      'dyn.yaml:10:34: http.middlewares.c3.chain.middlewares[0]: middleware `c2` is disabled because of its own errors',
      'dyn.yaml:11:35: http.middlewares.self.chain.middlewares: chain cycle: self → self',
      'dyn.yaml:13:57: http.routers.a.middlewares[0]: middleware `c3` is disabled because of its own errors',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.middlewares ?? {}), ['strip']);
  });

  it('reports a chain member that does not exist', () => {
    const r = check(`${base}    c: { chain: { middlewares: [strip, nope] } }\n`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:8:40: http.middlewares.c.chain.middlewares[1]: middleware `nope` does not exist',
    ]);
  });

  it('rejects references to providers that are not available: ours not enabled, Traefik ones we lack, unknown ones', () => {
    const r = check(
      `${base}  routers:\n    a: { rule: "Path(\`/\`)", service: svc@docker }\n    b: { rule: "Path(\`/b\`)", service: x@nowhere }\n    c: { rule: "Path(\`/c\`)", service: y@plugin }\n    d: { rule: "Path(\`/d\`)", service: z@kubernetescrd }\n    e: { rule: "Path(\`/e\`)", service: w@nomad-team }\n`,
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:9:38: http.routers.a.service: service `svc@docker`: the `docker` provider is not enabled (`providers.docker` in the static configuration)',
      'dyn.yaml:10:39: http.routers.b.service: service `x@nowhere`: provider `nowhere` is not available',
      'dyn.yaml:11:39: http.routers.c.service: service `y@plugin`: the `plugin` provider is not supported yet',
      'dyn.yaml:12:39: http.routers.d.service: service `z@kubernetescrd`: the `kubernetescrd` provider is not enabled (`providers.kubernetesCRD` in the static configuration)',
      'dyn.yaml:13:39: http.routers.e.service: service `w@nomad-team`: the `nomad-team` provider is not enabled (`providers.nomad` in the static configuration)',
    ]);
  });

  it('lets a router name an internal service the static configuration enables, and says what enables the others', () => {
    const text = `${base}  routers:
    a: { rule: "Path(\`/\`)", service: api@internal }
    b: { rule: "Path(\`/b\`)", service: prometheus@internal }
    c: { rule: "Path(\`/c\`)", service: nope@internal }
`;
    const r = check(text, { internalServices: new Set(['api', 'ping']) });
    assert.deepEqual(r.lines, [
      'dyn.yaml:10:39: http.routers.b.service: service `prometheus@internal` is not enabled: it needs the `metrics.prometheus` section in the static configuration',
      'dyn.yaml:11:39: http.routers.c.service: service `nope@internal` does not exist (the internal services are `noop@internal`, `api@internal`, `dashboard@internal`, `ping@internal`, `prometheus@internal`, `rest@internal`)',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['a']);
    // Without an `api` section, nothing enables api@internal: said at the reference.
    assert.deepEqual(
      check(text).lines[0],
      'dyn.yaml:9:38: http.routers.a.service: service `api@internal` is not enabled: it needs the `api` section in the static configuration',
    );
  });

  it("refuses an internal service anywhere but as a router's service", () => {
    const r = check(
      `http:
  services:
    w: { weighted: { services: [{ name: api@internal }] } }
  middlewares:
    i: { chain: { middlewares: [x@internal] } }
`,
      { internalServices: new Set(['api']) },
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:41: http.services.w.weighted.services[0].name: service `api@internal` is internal: only a router may name it as its service',
      'dyn.yaml:5:33: http.middlewares.i.chain.middlewares[0]: middleware `x@internal` does not exist (the internal provider has services only)',
    ]);
  });

  it('checks router entry points when the static ones are known', () => {
    const text = `${base}  routers:\n    a: { rule: "Path(\`/\`)", service: svc, entryPoints: [web, websecure] }\n`;
    assert.deepEqual(check(text).lines, []);
    // Traefik's GetRoutersByEntryPoints: a missing one is a non-critical error, the router
    // serves the others; a router left with none is disabled.
    const some = check(text, { entryPoints: ['web'] });
    assert.deepEqual(some.lines, [
      'dyn.yaml:9:62: warning: http.routers.a.entryPoints[1]: entry point `websecure` does not exist: the router serves its other entry points',
    ]);
    assert.deepEqual(Object.keys(some.config?.http.routers ?? {}), ['a']);
    const none = check(text, { entryPoints: ['other'] });
    assert.deepEqual(none.lines, [
      'dyn.yaml:9:57: http.routers.a.entryPoints[0]: entry point `web` does not exist',
      'dyn.yaml:9:62: http.routers.a.entryPoints[1]: entry point `websecure` does not exist',
    ]);
    assert.deepEqual(Object.keys(none.config?.http.routers ?? {}), []);
  });

  // Traefik logs "Router uses a nonexistent certificate resolver" and serves the router.
  it('serves a router whose certResolver names no resolver of the static configuration, with a warning', () => {
    const text = `${base}  routers:\n    a: { rule: "Host(\`a.test\`)", service: svc, tls: { certResolver: le } }\n    b: { rule: "Host(\`b.test\`)", service: svc, tls: { certResolver: prod } }\n`;
    const r = check(text, { certResolvers: ['prod'] });
    assert.deepEqual(r.lines, [
      "dyn.yaml:9:69: warning: http.routers.a.tls.certResolver: certificate resolver `le` does not exist (certificatesResolvers of the static configuration): nothing is ordered, and the router is served with the store's certificates, as in Traefik",
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['a', 'b']);
    assert.equal(check(text, { certResolvers: [] }).lines.length, 2, 'no resolver at all');
  });

  // Traefik's mergeConfiguration (pkg/server/aggregator.go) names `a@x` of the file provider
  // `a@x@file`; its references without `@` are read in provider `x` (AddInContext,
  // pkg/server/provider/provider.go), and only the full name refers to it.
  it('loads names holding @ with a warning, reading their references in the provider after the @, as Traefik', () => {
    const r = check(
      `${base}  routers:\n    a@x: { rule: "Path(\`/a\`)", service: svc }\n    b@file: { rule: "Path(\`/b\`)", service: svc, middlewares: [strip] }\n    c: { rule: "Path(\`/c\`)", service: "s@y@file" }\n    d: { rule: "Path(\`/d\`)", service: "s@y" }\n`.replace(
        '  middlewares:',
        '    s@y:\n      loadBalancer:\n        servers: [{ url: "http://127.0.0.1:9002" }]\n  middlewares:',
      ),
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:6:5: warning: http.services.s@y: a name holding `@` is `s@y@file` across providers, as in Traefik: only that full name refers to it, and its own references without `@` are read in provider `y`',
      'dyn.yaml:12:5: warning: http.routers.a@x: a name holding `@` is `a@x@file` across providers, as in Traefik: only that full name refers to it, and its own references without `@` are read in provider `x`',
      'dyn.yaml:12:41: http.routers.a@x.service: service `svc`: provider `x` is not available',
      'dyn.yaml:13:5: warning: http.routers.b@file: a name holding `@` is `b@file@file` across providers, as in Traefik: only that full name refers to it, and its own references without `@` are read in provider `file`',
      'dyn.yaml:15:39: http.routers.d.service: service `s@y`: provider `y` is not available',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['b@file', 'c']);
  });

  it('warns about services without servers or with only zero weights, and keeps them', () => {
    const r = check(
      'http:\n  services:\n    a: { loadBalancer: { servers: [] } }\n    b: { loadBalancer: { servers: [{ url: "http://h:1", weight: 0 }] } }\n',
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:35: warning: http.services.a.loadBalancer.servers: the service has no servers: its requests get 503',
      'dyn.yaml:4:35: warning: http.services.b.loadBalancer.servers: every server has weight 0: the service gets no traffic',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.services ?? {}), ['a', 'b']);
  });

  it('loads an inFlightReq or inFlightConn amount of 0 or less, as Traefik, and warns that it lets nothing in', () => {
    const r = check(`http:
  middlewares:
    none: { inFlightReq: { amount: 0 } }
    unset: { inFlightReq: { sourceCriterion: { requestHost: true } } }
tcp:
  middlewares:
    shut: { inFlightConn: { amount: -1 } }
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:36: warning: http.middlewares.none.inFlightReq.amount: amount 0 lets no request in: every one is answered 429, as in Traefik',
      'dyn.yaml:4:14: warning: http.middlewares.unset.inFlightReq.amount: amount 0 lets no request in: every one is answered 429, as in Traefik',
      'dyn.yaml:7:37: warning: tcp.middlewares.shut.inFlightConn.amount: amount -1 lets no connection in: every one is closed, as in Traefik',
    ]);
  });

  it('warns of a server URL no request can be sent to, which loads as in Traefik', () => {
    const r = check('http:\n  services:\n    a: { loadBalancer: { servers: [{ url: localhost }] } }\n');
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:43: warning: http.services.a.loadBalancer.servers[0].url: no request can be sent to this URL: the server answers every request 500 (unsupported protocol scheme ""), as in Traefik',
    ]);
  });

  it("loads a server URL's path, query and fragment as Traefik does, and warns about what is not forwarded", () => {
    const r = check(`http:
  services:
    a:
      loadBalancer:
        servers:
          - url: "http://h:1/base"
          - url: "http://h:2/base"
            preservePath: true
          - url: "http://h:3/?x=1#f"
            preservePath: true
          - url: "http://h:4/"
`);
    assert.deepEqual(r.lines, [
      "dyn.yaml:6:18: warning: http.services.a.loadBalancer.servers[0].url: the URL's path is not forwarded: requests keep their own path unless `preservePath: true` (as in Traefik)",
      "dyn.yaml:9:18: warning: http.services.a.loadBalancer.servers[2].url: the URL's query and fragment are never forwarded (as in Traefik)",
    ]);
    const servers = r.config?.http.services['a'];
    assert.ok(servers?.kind === 'loadBalancer');
    assert.deepEqual(
      servers.loadBalancer.servers.map((s) => s.preservePath),
      [false, true, true, false],
    );
  });
});

describe('loadDynamic', () => {
  it('resolves references across the files of one provider and points issues at the right file', () => {
    const r = loadDynamic([
      { file: 'services.yaml', text: base },
      {
        file: 'routers.yaml',
        text: 'http:\n  routers:\n    a: { rule: "Path(`/`)", service: svc, middlewares: [strip, gone] }\n',
      },
    ]);
    assert.deepEqual(r.issues.map(formatIssue), [
      'routers.yaml:3:64: http.routers.a.middlewares[1]: middleware `gone` does not exist',
    ]);
  });

  it('lists the objects it left out, as written or as parsed, dependants included', () => {
    const r = loadDynamic([
      { file: 'services.yaml', text: base },
      {
        file: 'routers.yaml',
        text: 'http:\n  routers:\n    a: { rule: "Path(`/`)", service: svc, middlewares: [gone] }\n    b: { rule: [x, y], service: svc }\n    ok: { rule: "Path(`/ok`)", service: svc }\n',
      },
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['ok']);
    assert.deepEqual(
      r.disabled.map((d) => [d.section, d.name, d.parsed, (d.value as { rule?: unknown }).rule]),
      [
        ['routers', 'b', false, ['x', 'y']],
        ['routers', 'a', true, 'Path(`/`)'],
      ],
    );
  });

  it('rejects the files whole when one cannot be parsed, and still reports the others (Traefik loadFileConfigFromDirectory)', () => {
    const r = loadDynamic([
      { file: 'a.yaml', text: `${base}  routers:\n    bad: { rule: "Path(\`/\`)", service: nothing }\n` },
      { file: 'b.yaml', text: 'http: [\n' },
    ]);
    assert.equal(r.config, undefined);
    assert.deepEqual(
      r.issues.map((i) => [i.file, i.severity, i.message.slice(0, 17)]),
      [
        ['a.yaml', 'error', 'service `nothing`'],
        ['b.yaml', 'error', 'YAML syntax error'],
      ],
    );
  });

  it('keeps the first definition of a TLS options set two files define differently, as Traefik', () => {
    // Traefik's file provider: "TLS options default already configured, skipping".
    const r = loadDynamic([
      { file: 'a.yaml', text: 'tls:\n  options:\n    default: { minVersion: VersionTLS12 }\n' },
      { file: 'b.yaml', text: 'tls:\n  options:\n    default: { minVersion: VersionTLS13 }\n' },
    ]);
    assert.equal(r.config?.tls.options['default']?.minVersion, 'VersionTLS12');
    assert.deepEqual(r.issues.map(formatIssue), [
      "b.yaml:3:5: warning: tls.options.default: tls options `default` is already defined in a.yaml: this definition is skipped (the first one is kept, as Traefik's file provider does)",
    ]);
  });
});
