import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDynamic } from './dynamic/parse.ts';
import { formatIssue } from './issues.ts';
import { loadStaticConfig } from './static/load.ts';

function dyn(text: string) {
  const r = parseDynamic(text, 'dyn.yaml');
  return { ...r, lines: r.issues.map(formatIssue) };
}

function stat(text: string) {
  const r = loadStaticConfig({ file: 'static.yaml', argv: [], env: {}, readFile: () => text });
  return { ...r, lines: r.issues.map(formatIssue) };
}

describe('reading keys as Traefik does (case-insensitive)', () => {
  it('matches keys in any case at every level, warns with the usual spelling, at the key as written', () => {
    const r = dyn(`HTTP:
  Routers:
    a:
      entrypoints: [web]
      RULE: Path(\`/\`)
      service: s
  services:
    s:
      loadbalancer:
        servers: [{ URL: "http://127.0.0.1:1" }]
  middlewares:
    h:
      Headers:
        PermissionsPolicy: "camera=()"
    r:
      redirectscheme: { scheme: https }
tls:
  certificates:
    - certFile: /c.pem
      keyfile: /k.pem
`);
    assert.deepEqual(
      r.lines.filter((l) => !l.includes('warning')),
      [],
    );
    assert.ok(
      r.lines.includes('dyn.yaml:1:1: warning: http: `HTTP` is read as `http` (keys are case-insensitive)'),
      r.lines.join('\n'),
    );
    assert.ok(
      r.lines.includes(
        'dyn.yaml:4:7: warning: http.routers.a.entryPoints: `entrypoints` is read as `entryPoints` (keys are case-insensitive)',
      ),
      r.lines.join('\n'),
    );
    assert.ok(
      r.lines.some(
        (l) =>
          l.startsWith('dyn.yaml:14:9: warning:') &&
          l.includes('`PermissionsPolicy` is read as `permissionsPolicy`'),
      ),
    );
    assert.ok(
      r.lines.some(
        (l) =>
          l.startsWith('dyn.yaml:16:7: warning:') &&
          l.includes('`redirectscheme` is read as `redirectScheme`'),
      ),
    );
    assert.ok(
      r.lines.some(
        (l) => l.startsWith('dyn.yaml:20:7: warning:') && l.includes('`keyfile` is read as `keyFile`'),
      ),
    );
    const http = r.config!.http;
    assert.deepEqual(http.routers['a']?.entryPoints, ['web']);
    assert.equal(http.services['s']?.kind, 'loadBalancer');
    assert.deepEqual(http.middlewares['h'], { type: 'headers', config: { permissionsPolicy: 'camera=()' } });
    assert.equal(http.middlewares['r']?.type, 'redirectScheme');
    assert.equal(r.config!.tls.certificates[0]?.keyFile, '/k.pem');
  });

  it('points later errors at the key as written, and reads a section in another spelling', () => {
    const r = dyn(`http:
  routers:
    a: { Rule: "Path(\`/\`)", Service: s, Priority: "high" }
  serverstransports:
    t:
      SPIFFE: { IDs: ["spiffe://a/b"] }
`);
    const errors = r.lines.filter((l) => !l.includes('warning'));
    assert.deepEqual(errors, [
      'dyn.yaml:3:51: http.routers.a.priority: wrong type: got "high" (expected a number)',
    ]);
  });

  it('merges two spellings of a section field by field, the spelling that sorts last winning a value', () => {
    // `Log` < `log` in paerser's sorted order: `log` fills last.
    const r = stat(
      'entryPoints:\n  web: { address: ":80" }\nlog: { level: DEBUG }\nLog: { level: INFO, format: json }\n',
    );
    assert.equal(r.config?.log.level, 'debug');
    assert.equal(r.config?.log.format, 'json');
  });

  it('merges two spellings of one key in the same map, as paerser fills one field from both', () => {
    // paerser (file/raw_node.go, parser/element_fill.go): one node per spelling, keys sorted,
    // each filling the same field: maps get the entries of both, `Routers` < `routers`.
    const r = dyn(
      'http:\n  routers:\n    a: { rule: "Path(`/a`)", service: s }\n  Routers:\n    b: { rule: "Path(`/b`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }\n',
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:4:3: warning: http.routers: `Routers` is read as `routers` (keys are case-insensitive)',
      'dyn.yaml:4:3: warning: http.Routers: `Routers` repeats `routers` (keys are case-insensitive): both are read and merged, as Traefik does',
    ]);
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}).sort(), ['a', 'b']);
  });
});

describe('reading values as Traefik does', () => {
  it('splits a plain string on commas where a list is expected', () => {
    const r = dyn(`http:
  routers:
    a: { rule: "Path(\`/\`)", service: s, entryPoints: web, middlewares: "c, h" }
  middlewares:
    h: { headers: { accessControlAllowMethods: "GET,OPTIONS,PUT", accessControlAllowOriginList: "https://a.test" } }
    c: { chain: { middlewares: h } }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
`);
    assert.deepEqual(r.lines, []);
    const http = r.config!.http;
    assert.deepEqual(http.routers['a']?.entryPoints, ['web']);
    assert.deepEqual(http.routers['a']?.middlewares, ['c', 'h']);
    const h = http.middlewares['h'];
    assert.ok(h?.type === 'headers');
    assert.deepEqual(h.config.accessControlAllowMethods, ['GET', 'OPTIONS', 'PUT']);
    assert.deepEqual(h.config.accessControlAllowOriginList, ['https://a.test']);
  });

  it('parses every scalar from its text: numbers, Go booleans, numbers where text is expected', () => {
    const r = dyn(`http:
  routers:
    a: { rule: "Path(\`/\`)", service: s, priority: "10" }
  services:
    s:
      loadBalancer:
        passHostHeader: "false"
        sticky: { cookie: { secure: "T", httpOnly: "1", name: 42 } }
        servers: [{ url: "http://127.0.0.1:1", weight: "3" }]
`);
    assert.deepEqual(r.lines, []);
    const http = r.config!.http;
    assert.equal(http.routers['a']?.priority, 10);
    const s = http.services['s'];
    assert.ok(s?.kind === 'loadBalancer');
    assert.equal(s.loadBalancer.passHostHeader, false);
    assert.equal(s.loadBalancer.servers[0]?.weight, 3);
    assert.deepEqual(
      [
        s.loadBalancer.sticky?.cookie?.secure,
        s.loadBalancer.sticky?.cookie?.httpOnly,
        s.loadBalancer.sticky?.cookie?.name,
      ],
      [true, true, '42'],
    );
  });

  it('skips null values and empty sections, as if absent', () => {
    // `http` keeps one key with a value: with none, it would have nothing under it (below).
    const r = dyn('http:\n  routers:\n  services:\n  middlewares:\n    gz: { compress: {} }\ntls:\n');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config!.http.routers, {});
    assert.deepEqual(Object.keys(r.config!.http.middlewares), ['gz']);
  });

  it('refuses a map whose entries are all null: paerser drops them, and the map has nothing under it', () => {
    // paerser file/raw_node.go decodeRaw skips nil values; nodes_metadata.go then refuses the
    // map node without children ("middlewares cannot be a standalone element").
    const r = dyn('http:\n  middlewares:\n    gone:\n');
    assert.equal(r.config, undefined);
    assert.match(r.lines.join('\n'), /http\.middlewares: `middlewares` cannot be a standalone element/);
  });

  it('ignores unknown top-level keys with a warning (YAML anchors), and keeps unknown nested keys errors', () => {
    const r = dyn(`x-defaults: &lb
  passHostHeader: false
http:
  services:
    s:
      loadBalancer:
        <<: *lb
        servers: [{ url: "http://127.0.0.1:1" }]
        nope: 1
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:1:1: warning: x-defaults: unknown top-level key `x-defaults` is ignored (as Traefik ignores it)',
      'dyn.yaml:9:9: http.services.s.loadBalancer.nope: unknown key `nope`',
    ]);
  });

  it('reads a section given as true as present with its defaults, and false as absent', () => {
    const r = stat(`entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443"
    http:
      tls: true
  other:
    address: ":8443"
    http:
      tls: "false"
`);
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config!.entryPoints['websecure']?.http.tls, { domains: [] });
    assert.equal(r.config!.entryPoints['other']?.http.tls, undefined);
  });
});

describe('a section given another value', () => {
  it('is off with a warning, as paerser disables an allowEmpty section given any value but true', () => {
    // parser/nodes_metadata.go: Disabled = a value other than "" and "true" (case-insensitive).
    const r = stat(
      'entryPoints:\n  web: { address: ":80" }\nproviders:\n  docker: exposedByDefault:false\napi: 1\n',
    );
    assert.ok(r.config, r.lines.join('\n'));
    assert.equal(r.config.providers.docker, undefined);
    assert.equal(r.config.api, undefined);
    assert.deepEqual(r.lines, [
      'static.yaml:4:3: warning: providers.docker: "exposedByDefault:false" is not a section: it turns `docker` off, as Traefik reads any value but true there (write its keys under it)',
      'static.yaml:5:1: warning: api: 1 is not a section: it turns `api` off, as Traefik reads any value but true there (write its keys under it)',
    ]);
  });
});

describe('static keys of Traefik files', () => {
  it('accepts global, api.debug, ping, asDefault, entry point middlewares, the static serversTransport', () => {
    const r = stat(`global:
  checkNewVersion: true
  sendAnonymousUsage: false
api:
  dashboard: true
  insecure: true
  debug: true
ping: {}
entryPoints:
  web:
    address: ":80"
    asDefault: true
    http:
      middlewares: [secure@file]
serversTransport:
  insecureSkipVerify: true
  maxIdleConnsPerHost: 7
  forwardingTimeouts: { dialTimeout: 5s }
accessLog:
  filters:
    statusCodes: ["400-600", "500-999", 404]
certificatesResolvers:
  le:
    acme:
      storage: acme.json
      tlsChallenge: {}
`);
    assert.deepEqual(r.lines, []);
    const c = r.config!;
    assert.deepEqual(c.global, {
      checkNewVersion: true,
      sendAnonymousUsage: false,
      notAppendXForwardedFor: false,
    });
    assert.equal(c.api?.debug, true);
    assert.equal(c.entryPoints['web']?.asDefault, true);
    assert.deepEqual(c.entryPoints['web']?.http.middlewares, ['secure@file']);
    assert.equal(c.serversTransport?.insecureSkipVerify, true);
    assert.equal(c.serversTransport?.maxIdleConnsPerHost, 7);
    assert.equal(c.serversTransport?.forwardingTimeouts.dialTimeout, 5000);
    assert.deepEqual(c.accessLog?.filters?.statusCodes, ['400-600', '500-999', '404']);
    // ACME without email: an account without a contact address.
    assert.equal(c.certificatesResolvers?.['le']?.acme?.email, '');
  });

  it('reads certResolver: "" as no resolver, on entry points and routers', () => {
    const s = stat(
      'entryPoints:\n  websecure:\n    address: ":443"\n    http:\n      tls:\n        certResolver: ""\n',
    );
    assert.deepEqual(s.lines, []);
    assert.equal(s.config!.entryPoints['websecure']?.http.tls?.certResolver, undefined);
    const d = dyn(
      'http:\n  routers:\n    a: { rule: "Path(`/`)", service: s, tls: { certResolver: "" } }\n  services:\n    s: { loadBalancer: { servers: [] } }\n',
    );
    assert.deepEqual(d.lines, []);
    assert.equal(d.config!.http.routers['a']?.tls?.certResolver, undefined);
  });

  it('takes Traefik list flags: --…domains[0].main and the env form …_DOMAINS_0_MAIN', () => {
    const r = loadStaticConfig({
      argv: [
        '--entryPoints.websecure.address=:443',
        '--entryPoints.websecure.http.tls.domains[0].main=example.com',
        '--entryPoints.websecure.http.tls.domains[0].sans=a.example.com,b.example.com',
        '--entryPoints.websecure.http.tls.domains[1].main=example.org',
      ],
      env: {
        TRAFFIC_ENTRYPOINTS_WEB_ADDRESS: ':80',
        TRAFFIC_ENTRYPOINTS_WEB_HTTP_TLS_DOMAINS_0_MAIN: 'x.test',
      },
    });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config!.entryPoints['websecure']?.http.tls?.domains, [
      { main: 'example.com', sans: ['a.example.com', 'b.example.com'] },
      { main: 'example.org', sans: [] },
    ]);
    assert.deepEqual(r.config!.entryPoints['web']?.http.tls?.domains, [{ main: 'x.test', sans: [] }]);
  });
});

describe('deprecated keys Traefik v3 still reads', () => {
  it('accepts the v2 header options with a deprecation warning each', () => {
    const r = dyn(`http:
  middlewares:
    h:
      headers:
        sslRedirect: true
        sslTemporaryRedirect: true
        sslHost: secure.test
        sslForceHost: true
        featurePolicy: "camera 'none'"
`);
    assert.equal(r.lines.filter((l) => l.includes(': warning: ') && l.includes('is deprecated')).length, 5);
    assert.equal(r.lines.filter((l) => !l.includes('warning')).length, 0);
    const h = r.config!.http.middlewares['h'];
    assert.ok(h?.type === 'headers');
    assert.equal(h.config.sslHost, 'secure.test');
  });

  it('reads ipWhiteList as its own type (Traefik v3 pkg/middlewares/ipwhitelist), with a deprecation warning', () => {
    const r = dyn('http:\n  middlewares:\n    w:\n      ipWhiteList: { sourceRange: ["10.0.0.0/8"] }\n');
    assert.deepEqual(r.lines, [
      'dyn.yaml:4:7: warning: http.middlewares.w.ipWhiteList: `ipWhiteList` is deprecated: please use `ipAllowList` instead',
    ]);
    const w = r.config!.http.middlewares['w'];
    assert.ok(w?.type === 'ipWhiteList');
    assert.deepEqual(w.config.sourceRange, ['10.0.0.0/8']);
  });

  it("refuses ipWhiteList's rejectStatusCode, which only ipAllowList has (dynamic.IPWhiteList)", () => {
    const r = dyn(
      'http:\n  middlewares:\n    w:\n      ipWhiteList: { sourceRange: ["10.0.0.0/8"], rejectStatusCode: 404 }\n',
    );
    assert.ok(
      r.lines.some((l) => l.includes('rejectStatusCode')),
      r.lines.join('\n'),
    );
  });
});
