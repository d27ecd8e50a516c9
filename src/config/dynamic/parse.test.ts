import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { parseDynamic, parseDynamicData } from './parse.ts';

const good = `http:
  routers:
    api:
      entryPoints: [web]
      rule: "Host(\`a\`)"
      priority: 10
      middlewares: [strip, m2@file]
      service: svc
  services:
    svc:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:9001"
          - url: "http://127.0.0.1:9002"
            weight: 3
        serversTransport: fast
  middlewares:
    strip: { stripPrefix: { prefixes: [/api] } }
    m2:
      addPrefix: { prefix: /v2 }
  serversTransports:
    fast:
      maxConnsPerHost: 10
      forwardingTimeouts: { dialTimeout: 5s }
`;

function lines(text: string): { config: unknown; lines: string[] } {
  const r = parseDynamic(text, 'dyn.yaml');
  return { config: r.config, lines: r.issues.map(formatIssue) };
}

describe('parseDynamic', () => {
  it('parses a valid file, fills defaults and tags middlewares by type', () => {
    const r = parseDynamic(good, 'dyn.yaml');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config, {
      http: {
        routers: {
          api: {
            entryPoints: ['web'],
            rule: 'Host(`a`)',
            priority: 10,
            middlewares: ['strip', 'm2@file'],
            service: 'svc',
          },
        },
        services: {
          svc: {
            kind: 'loadBalancer',
            loadBalancer: {
              servers: [
                { url: 'http://127.0.0.1:9001', weight: 1, preservePath: false },
                { url: 'http://127.0.0.1:9002', weight: 3, preservePath: false },
              ],
              strategy: 'wrr',
              passHostHeader: true,
              serversTransport: 'fast',
              slowStart: 0,
              maxInFlight: 0,
            },
          },
        },
        middlewares: {
          strip: { type: 'stripPrefix', config: { prefixes: ['/api'] } },
          m2: { type: 'addPrefix', config: { prefix: '/v2' } },
        },
        serversTransports: {
          fast: {
            maxIdleConnsPerHost: 200,
            maxConnsPerHost: 10,
            forwardingTimeouts: {
              dialTimeout: 5000,
              responseHeaderTimeout: 0,
              idleConnTimeout: 90_000,
              tunnelIdleTimeout: 3_600_000,
            },
          },
        },
      },
      tls: { certificates: [], options: {}, stores: {} },
    });
  });

  it('accepts an empty file as an empty configuration', () => {
    const r = parseDynamic('# nothing yet\n', 'empty.yaml');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config, {
      http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
      tls: { certificates: [], options: {}, stores: {} },
    });
  });

  it('rejects the whole file on a YAML syntax error, with its position', () => {
    const r = lines('http:\n  routers: {\n');
    assert.equal(r.config, undefined);
    assert.match(r.lines[0]!, /^dyn\.yaml:3:1: YAML syntax error/);
  });

  it('rejects the whole file for a problem outside any named object', () => {
    const r = lines(`${good}tcp: { routers: [] }\n`);
    assert.equal(r.config, undefined);
    assert.deepEqual(r.lines, [
      'dyn.yaml:25:17: tcp.routers: wrong type: got a list (expected a map (key: value))',
    ]);
    assert.equal(lines('http:\n  routers: []\n').config, undefined);
    assert.equal(lines('- a\n').config, undefined);
  });

  it('disables only the objects with errors, and names them', () => {
    const text = good
      .replace('priority: 10', 'priority: high')
      .replace('maxConnsPerHost: 10', 'maxConnsPerHost: -1');
    const r = parseDynamic(text, 'dyn.yaml');
    assert.deepEqual(r.issues.map(formatIssue), [
      'dyn.yaml:6:17: http.routers.api.priority: wrong type: got "high" (expected a number)',
      'dyn.yaml:23:24: http.serversTransports.fast.maxConnsPerHost: -1 is out of range (expected a number >= 0)',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), []);
    assert.deepEqual(Object.keys(r.config?.http.services ?? {}), ['svc']);
    assert.deepEqual(
      r.disabled.map((d) => [d.section, d.name, (d.value as Record<string, unknown>)['priority']]),
      [
        ['routers', 'api', 'high'],
        ['serversTransports', 'fast', undefined],
      ],
      'each disabled object is kept as written',
    );
  });

  it('loads router observability and responseForwarding, and reports an unknown strategy (an empty weighted service loads: Traefik answers 503)', () => {
    const r = lines(`http:
  routers:
    r: { rule: "Host(\`a\`)", service: s, observability: { accessLogs: false } }
  services:
    s:
      loadBalancer:
        servers: [{ url: "h2c://10.0.0.1:80" }]
        responseForwarding: { flushInterval: 1s }
        strategy: fastest
    w:
      weighted: { services: [] }
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:9:19: http.services.s.loadBalancer.strategy: unknown strategy "fastest" (expected one of wrr, p2c, roundRobin, leastConn, random, hrw, leasttime)',
    ]);
  });

  it('requires a loadBalancer in a service and a rule in a router', () => {
    // A router without a service is a parent (multi-layer routing): the tree is checked once merged.
    const r = lines('http:\n  routers:\n    r: { rule: "  " }\n  services:\n    s: {}\n');
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:16: http.routers.r.rule: rule must not be empty',
      'dyn.yaml:5:8: http.services.s: a service needs a type (expected one of loadBalancer, weighted, mirroring, failover, highestRandomWeight)',
    ]);
  });

  it("reads a failover's errors (Traefik v3.7), and refuses it beside statusCodes", () => {
    const ok = parseDynamic(
      'http:\n  services:\n    f:\n      failover:\n        service: a\n        fallback: b\n        errors:\n          status: ["500-504", "429"]\n',
      'dyn.yaml',
    );
    assert.deepEqual(ok.issues, []);
    const f = (ok.config as { http: { services: Record<string, { failover: unknown }> } }).http.services[
      'f'
    ]!;
    assert.deepEqual((f.failover as { errors: unknown }).errors, {
      status: [
        { from: 500, to: 504 },
        { from: 429, to: 429 },
      ],
      maxRequestBodyBytes: -1,
    });
    const both = lines(
      'http:\n  services:\n    f:\n      failover:\n        service: a\n        fallback: b\n        statusCodes: [503]\n        errors: { status: ["503"], maxRequestBodyBytes: 10 }\n',
    );
    assert.deepEqual(both.lines, [
      'dyn.yaml:7:22: http.services.f.failover.statusCodes: a failover has either `errors` (Traefik v3.7) or `statusCodes` (ours), not both',
    ]);
    const unknown = lines(
      'http:\n  services:\n    f:\n      failover: { service: a, fallback: b, errors: { statuses: ["503"] } }\n',
    );
    assert.equal(unknown.lines.length, 1);
    assert.match(unknown.lines[0]!, /errors\.statuses/);
  });

  it('checks server URLs', () => {
    const url = (u: string) =>
      lines(`http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{ url: "${u}" }]\n`).lines;
    assert.deepEqual(url('http://10.0.0.1:8080'), []);
    assert.deepEqual(url('http://[::1]:8080/'), []);
    assert.deepEqual(url('https://a:443'), []);
    assert.deepEqual(url('h2c://a:80'), []);
    // Go's url.Parse takes them, so Traefik loads them (validate.ts warns; the server answers 500).
    assert.deepEqual(url('ftp://a'), []);
    assert.deepEqual(url('not a url'), []);
    assert.match(
      url('10.0.0.1:8080')[0]!,
      /invalid URL "10.0.0.1:8080": first path segment in URL cannot contain colon/,
    );
  });

  it('validates middlewares: one type key, known types, and each type with its own schema', () => {
    const r = lines(`http:
  middlewares:
    none: {}
    two: { stripPrefix: { prefixes: [/a] }, addPrefix: { prefix: /b } }
    odd: { frobnicate: {} }
    typo: { stripPrefx: {} }
    bad: { addPrefix: { prefix: "", extra: 1 } }
    empty: { stripPrefix: }
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:11: http.middlewares.none: a middleware needs a type (expected exactly one middleware type, e.g. stripPrefix: { prefixes: [/api] })',
      'dyn.yaml:4:10: http.middlewares.two: a middleware has exactly one type, found 2: stripPrefix, addPrefix (expected exactly one middleware type, e.g. stripPrefix: { prefixes: [/api] })',
      'dyn.yaml:5:12: http.middlewares.odd.frobnicate: unknown middleware type `frobnicate`',
      'dyn.yaml:6:13: http.middlewares.typo.stripPrefx: unknown middleware type `stripPrefx` (did you mean `stripPrefix`?)',
      'dyn.yaml:7:33: http.middlewares.bad.addPrefix.prefix: prefix cannot be empty',
      'dyn.yaml:7:37: http.middlewares.bad.addPrefix.extra: unknown key `extra`',
      // Traefik skips a null value: `stripPrefix:` with nothing under it leaves no type at all.
      'dyn.yaml:8:12: http.middlewares.empty: a middleware needs a type (expected exactly one middleware type, e.g. stripPrefix: { prefixes: [/api] })',
    ]);
    assert.deepEqual((r.config as { http: { middlewares: unknown } }).http.middlewares, {});
  });

  it('reads only the dynamic sections of an embedded (static) file', () => {
    const r = parseDynamic(`entryPoints:\n  web: { address: ":80" }\n${good}`, 'static.yaml', {
      embedded: true,
    });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['api']);
  });

  // Traefik's healthcheck newRequest sets the scheme on the URL and http.NewRequest parses its
  // text again: net/url lowercases the scheme, so `HTTP` checks over http.
  it('reads a health check scheme in any case, as Traefik does', () => {
    const r = lines(`http:
  services:
    lb:
      loadBalancer:
        servers: [{ url: "http://node-app-1:3000" }]
        healthCheck: { scheme: HTTP, interval: 2s, path: /health }
`);
    assert.deepEqual(r.lines, []);
    const svc = (
      r.config as {
        http: { services: Record<string, { loadBalancer: { healthCheck: { scheme: string } } }> };
      }
    ).http.services['lb'];
    assert.equal(svc?.loadBalancer.healthCheck.scheme, 'http');
  });
});

describe('an empty section (Traefik\'s decoder: "cannot be a standalone element")', () => {
  const refused = (text: string) => {
    const r = lines(text);
    assert.equal(r.config, undefined, 'the whole file is refused');
    assert.ok(
      r.lines.some((l) => l.includes('cannot be a standalone element')),
      r.lines.join('\n'),
    );
    return r.lines;
  };

  it('refuses the whole file for an empty map or a struct that is not allowEmpty', () => {
    assert.deepEqual(refused('http:\n  middlewares: {}\n'), [
      'dyn.yaml:2:3: http.middlewares: `middlewares` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)',
    ]);
    refused('http: {}\n');
    refused('tls: {}\n');
    refused('tcp:\n  services: {}\n');
    // paerser drops null values: a map whose entries are all null has nothing under it.
    refused('http:\n  routers:\n    r:\n');
    refused('http:\n  middlewares:\n    m:\n      headers: {}\n');
    refused('http:\n  middlewares:\n    m:\n      headers:\n        customRequestHeaders: {}\n');
    refused('http:\n  services:\n    s:\n      loadBalancer: {}\n');
    refused('tcp:\n  services:\n    s:\n      weighted: {}\n');
    refused(
      'http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{ url: "http://a" }]\n        healthCheck: {}\n',
    );
    refused('http:\n  routers:\n    r: { rule: "Path(`/`)", service: s, observability: {} }\n');
    // An empty TOML table, as bajman/stackdash's middlewares.toml (test/corpus/traefik).
    const toml = parseDynamic('[http.middlewares.auth.basicAuth]\n', 'dyn.toml');
    assert.equal(toml.config, undefined);
    assert.match(toml.issues.map(formatIssue).join('\n'), /basicAuth` cannot be a standalone element/);
  });

  it('refuses the nested structs Traefik does not tag allowEmpty, whole file, at the key', () => {
    const cases: [string, string][] = [
      // http_config.go: ServersTransport.ForwardingTimeouts, ServersLoadBalancer.PassiveHealthCheck
      // and ResponseForwarding, WeightedRoundRobin.Sticky (the load balancer's is allowEmpty).
      [
        'http:\n  serversTransports:\n    t:\n      forwardingTimeouts: {}\n',
        'http.serversTransports.t.forwardingTimeouts',
      ],
      [
        'http:\n  services:\n    s:\n      loadBalancer: { servers: [{ url: "http://a" }], passiveHealthCheck: {} }\n',
        'http.services.s.loadBalancer.passiveHealthCheck',
      ],
      [
        'http:\n  services:\n    s:\n      loadBalancer: { servers: [{ url: "http://a" }], responseForwarding: {} }\n',
        'http.services.s.loadBalancer.responseForwarding',
      ],
      [
        'http:\n  services:\n    w:\n      weighted: { services: [{ name: a }], sticky: {} }\n',
        'http.services.w.weighted.sticky',
      ],
      // tcp_config.go: TCPServersLoadBalancer.HealthCheck.
      [
        'tcp:\n  services:\n    s:\n      loadBalancer: { servers: [{ address: "127.0.0.1:1" }], healthCheck: {} }\n',
        'tcp.services.s.loadBalancer.healthCheck',
      ],
      // middlewares.go: SourceCriterion and its IPStrategy, ForwardAuth.TLS, PassTLSClientCert.Info,
      // Plugin (a map).
      [
        'http:\n  middlewares:\n    m:\n      rateLimit: { average: 1, sourceCriterion: {} }\n',
        'http.middlewares.m.rateLimit.sourceCriterion',
      ],
      [
        'http:\n  middlewares:\n    m:\n      inFlightReq: { amount: 1, sourceCriterion: { ipStrategy: {} } }\n',
        'http.middlewares.m.inFlightReq.sourceCriterion.ipStrategy',
      ],
      [
        'http:\n  middlewares:\n    m:\n      forwardAuth: { address: "http://a", tls: {} }\n',
        'http.middlewares.m.forwardAuth.tls',
      ],
      [
        'http:\n  middlewares:\n    m:\n      passTLSClientCert: { info: {} }\n',
        'http.middlewares.m.passTLSClientCert.info',
      ],
      [
        'http:\n  middlewares:\n    m:\n      passTLSClientCert: { info: { issuer: {} } }\n',
        'http.middlewares.m.passTLSClientCert.info.issuer',
      ],
      ['http:\n  middlewares:\n    m:\n      plugin: {}\n', 'http.middlewares.m.plugin'],
      // pkg/tls/tls.go: Options.ClientAuth, Store.DefaultCertificate, Store.DefaultGeneratedCert.
      ['tls:\n  options:\n    o:\n      clientAuth: {}\n', 'tls.options.o.clientAuth'],
      [
        'tls:\n  stores:\n    default:\n      defaultGeneratedCert: {}\n',
        'tls.stores.default.defaultGeneratedCert',
      ],
      [
        'tls:\n  stores:\n    default:\n      defaultGeneratedCert: { resolver: le, domain: {} }\n',
        'tls.stores.default.defaultGeneratedCert.domain',
      ],
    ];
    for (const [text, path] of cases) {
      const key = path.split('.').at(-1);
      const all = refused(text);
      assert.ok(
        all.some((l) => l.includes(`: ${path}: \`${key}\` cannot be a standalone element`)),
        `${path}\n${all.join('\n')}`,
      );
    }
  });

  it("takes the nested allowEmpty ones: spiffe, a TCP router's tls, proxyProtocol, ipStrategy of ipAllowList", () => {
    const r = lines(`http:
  serversTransports:
    t: { spiffe: {} }
  middlewares:
    ip: { ipAllowList: { sourceRange: ["127.0.0.1"], ipStrategy: {} } }
tcp:
  routers:
    r: { rule: "HostSNI(\`*\`)", service: s, tls: {} }
  services:
    s:
      loadBalancer: { servers: [{ address: "127.0.0.1:1" }], proxyProtocol: {} }
  serversTransports:
    tt: { tls: { spiffe: {} } }
`);
    assert.deepEqual(
      r.lines.filter((l) => l.includes('standalone')),
      [],
    );
    assert.notEqual(r.config, undefined, r.lines.join('\n'));
  });

  it("takes the allowEmpty ones (a router's tls, compress, contentType, sticky.cookie) and a null key", () => {
    const r = lines(`entryPoints:
http:
  routers:
    r: { rule: "Host(\`a\`)", service: s, tls: {} }
  services:
    s:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9001" }]
        sticky: { cookie: {} }
    w:
      weighted:
        services: [{ name: s }]
        healthCheck: {}
  middlewares:
    gz: { compress: {} }
    ct: { contentType: {} }
`);
    assert.deepEqual(r.lines, []);
    assert.notEqual(r.config, undefined);
  });

  it("does not apply to a provider's data (labels, keys): they cannot spell an empty section", () => {
    const r = parseDynamicData({ http: { middlewares: {} } }, () => ({ exact: false }));
    assert.deepEqual(r.issues, []);
  });
});
