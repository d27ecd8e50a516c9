import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTcpRule } from '../../router/tcp/index.ts';
import { formatIssue } from '../issues.ts';
import { loadDynamic } from './load.ts';
import { mergeDynamic } from './merge.ts';
import { parseDynamic } from './parse.ts';
import type { RuleChecker } from './validate.ts';

const checkRule: RuleChecker = (rule, language) => {
  if (language !== 'tcp') return undefined;
  const r = compileTcpRule(rule);
  return r.ok ? undefined : r.error;
};

function check(text: string, entryPoints?: string[]) {
  const r = loadDynamic([{ file: 'dyn.yaml', text }], { checkRule, ...(entryPoints ? { entryPoints } : {}) });
  return { config: r.config, lines: r.issues.map(formatIssue) };
}

describe('tcp and udp sections', () => {
  it('reads routers, services, middlewares and serversTransports with Traefik defaults', () => {
    const r = check(`tcp:
  routers:
    db:
      rule: "HostSNI(\`db.test\`)"
      service: db
      tls: { passthrough: true }
  services:
    db:
      loadBalancer:
        servers: [{ address: "10.0.0.1:5432" }, { address: "[::1]:5432", tls: true }]
        serversTransport: t
  middlewares:
    few: { inFlightConn: { amount: 3 } }
  serversTransports:
    t: { proxyProtocol: {}, terminationDelay: -1s }
udp:
  routers:
    dns: { entryPoints: [dns], service: dns }
  services:
    dns: { loadBalancer: { servers: [{ address: "10.0.0.53:53" }] } }
`);
    assert.deepEqual(r.lines, []);
    const tcp = r.config!.tcp!;
    assert.deepEqual(tcp.routers['db']!.tls, { passthrough: true, domains: [] });
    assert.equal(tcp.routers['db']!.priority, 0);
    const t = tcp.serversTransports['t']!;
    assert.equal(t.dialTimeout, 30_000);
    assert.equal(t.dialKeepAlive, 15_000);
    assert.equal(t.terminationDelay, -1, 'negative = never');
    assert.deepEqual(t.proxyProtocol, { version: 2 }, 'an empty proxyProtocol section is v2');
    assert.equal(t.idleTimeout, 3_600_000);
    const lb = tcp.services['db']!;
    assert.ok(lb.kind === 'loadBalancer');
    assert.deepEqual(lb.loadBalancer.servers[1], { address: '[::1]:5432', tls: true });
    assert.deepEqual(tcp.middlewares['few'], { type: 'inFlightConn', config: { amount: 3 } });
    assert.deepEqual(r.config!.udp!.routers['dns'], { entryPoints: ['dns'], service: 'dns' });
  });

  it('reports bad values, references and rules with their place, and disables what depends on them', () => {
    const r = check(
      `tcp:
  routers:
    a: { rule: "HostSNI(\`db.test\`)", service: s }
    b: { rule: "ALPN(\`acme-tls/1\`)", service: s, tls: {} }
    c: { rule: "HostSNI(\`*\`)", service: s, entryPoints: [nowhere] }
    d: { rule: "HostSNI(\`*\`)", service: ghost }
  services:
    s: { loadBalancer: { servers: [{ address: "10.0.0.1" }], serversTransport: nowhere } }
  serversTransports:
    t: { proxyProtocol: { version: 3 } }
udp:
  routers:
    u: { service: s }
  services:
    s: { weighted: { services: [{ name: missing }] } }
`,
      ['web'],
    );
    assert.deepEqual(r.lines, [
      'dyn.yaml:3:16: tcp.routers.a.rule: a HostSNI with a name needs `tls` on the router (a cleartext connection has no server name); cleartext routers use HostSNI(`*`). The router is kept, as in Traefik: its HostSNI never matches, the rest of its rule still routes',
      'dyn.yaml:3:47: tcp.routers.a.service: service `s` is disabled because of its own errors',
      'dyn.yaml:4:16: tcp.routers.b.rule: invalid rule: ALPN: "acme-tls/1" is reserved for ACME challenges (at offset 5 of the rule)',
      'dyn.yaml:4:47: tcp.routers.b.service: service `s` is disabled because of its own errors',
      'dyn.yaml:5:41: tcp.routers.c.service: service `s` is disabled because of its own errors',
      'dyn.yaml:5:58: tcp.routers.c.entryPoints[0]: entry point `nowhere` does not exist',
      'dyn.yaml:6:41: tcp.routers.d.service: service `ghost` does not exist in the tcp section',
      'dyn.yaml:8:35: warning: tcp.services.s.loadBalancer.servers: no server of this service is left: its connections are closed',
      'dyn.yaml:8:47: warning: tcp.services.s.loadBalancer.servers[0].address: server `10.0.0.1` is left out of its service, the others serve (address 10.0.0.1: missing port in address), as Traefik\'s BuildTCP skips it: "Failed to split host port"',
      'dyn.yaml:8:80: tcp.services.s.loadBalancer.serversTransport: serversTransport `nowhere` does not exist in the tcp section',
      'dyn.yaml:10:36: tcp.serversTransports.t.proxyProtocol.version: must be 1 or 2',
      'dyn.yaml:13:19: udp.routers.u.service: service `s` is disabled because of its own errors',
      'dyn.yaml:15:41: udp.services.s.weighted.services[0].name: service `missing` does not exist in the udp section',
    ]);
    assert.deepEqual(Object.keys(r.config?.tcp?.routers ?? {}), []);
  });

  // Traefik's BuildTCP/BuildUDP only split the address (net.SplitHostPort), skipping the server
  // that does not split; the dial reads the port (a number or a service name) and the host.
  it('loads an address whose host or port no dial can use, with a warning, and leaves out one that does not split', () => {
    const r = check(
      `tcp:
  routers:
    a: { rule: "HostSNI(\`*\`)", service: s }
  services:
    s: { loadBalancer: { servers: [{ address: "lab1.\${PROXY_DOMAIN}:34197" }, { address: "127.0.0.1:\${PORT}" }] } }
    t: { loadBalancer: { servers: [{ address: "a:b:1" }, { address: "10.0.0.1:99999" }, { address: "db:gopher" }] } }
udp:
  routers:
    u: { service: s }
  services:
    s: { loadBalancer: { servers: [{ address: "lab1.\${PROXY_DOMAIN}:34197" }, { address: "10.0.0.1" }] } }
`,
      ['web'],
    );
    assert.deepEqual(r.lines, [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      'dyn.yaml:5:47: warning: tcp.services.s.loadBalancer.servers[0].address: no connection can be made to this address: every one sent to this server fails (lookup lab1.${PROXY_DOMAIN}: no such host), as in Traefik',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      'dyn.yaml:5:90: warning: tcp.services.s.loadBalancer.servers[1].address: no connection can be made to this address: every one sent to this server fails (lookup tcp/${PORT}: unknown port), as in Traefik',
      'dyn.yaml:6:47: warning: tcp.services.t.loadBalancer.servers[0].address: server `a:b:1` is left out of its service, the others serve (address a:b:1: too many colons in address), as Traefik\'s BuildTCP skips it: "Failed to split host port"',
      'dyn.yaml:6:69: warning: tcp.services.t.loadBalancer.servers[1].address: no connection can be made to this address: every one sent to this server fails (address 99999: invalid port), as in Traefik',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      'dyn.yaml:11:47: warning: udp.services.s.loadBalancer.servers[0].address: no connection can be made to this address: every one sent to this server fails (lookup lab1.${PROXY_DOMAIN}: no such host), as in Traefik',
      'dyn.yaml:11:90: warning: udp.services.s.loadBalancer.servers[1].address: server `10.0.0.1` is left out of its service, the others serve (address 10.0.0.1: missing port in address), as Traefik\'s BuildUDP skips it: "Failed to split host port"',
    ]);
    assert.deepEqual(Object.keys(r.config?.tcp?.routers ?? {}), ['a']);
    assert.deepEqual(Object.keys(r.config?.tcp?.services ?? {}), ['s', 't']);
    assert.deepEqual(Object.keys(r.config?.udp?.routers ?? {}), ['u']);
  });

  // paerser fills the Go int from the text: "2" (a quoted YAML value, a label, a KV value) is 2.
  // Traefik's mergeConfiguration names every TCP/UDP object `name@provider` too, and reads an
  // object's references without `@` in the provider after the first `@` of its name (AddInContext).
  it('loads names holding @ with a warning, as HTTP names, reading their references as Traefik', () => {
    const r = check(`tcp:
  routers:
    t@file: { rule: "HostSNI(\`*\`)", service: plain }
    u@x: { rule: "HostSNI(\`*\`)", service: plain }
    full: { rule: "HostSNI(\`*\`)", service: "s@y@file" }
  services:
    plain: { loadBalancer: { servers: [{ address: "127.0.0.1:1" }] } }
    s@y: { loadBalancer: { servers: [{ address: "127.0.0.1:2" }] } }
`);
    assert.deepEqual(
      r.lines.filter((l) => !l.includes('warning')),
      ['dyn.yaml:4:43: tcp.routers.u@x.service: service `plain`: provider `x` is not available'],
    );
    assert.equal(r.lines.filter((l) => l.includes('a name holding `@`')).length, 3);
    assert.deepEqual(Object.keys(r.config?.tcp?.routers ?? {}), ['t@file', 'full']);
  });

  it('reads a proxyProtocol version written as text, as Traefik fills its int field', () => {
    const r = check(`tcp:
  routers:
    mc: { rule: "HostSNI(\`*\`)", service: mc }
  services:
    mc:
      loadBalancer:
        servers: [{ address: "10.0.0.1:25565" }]
        proxyProtocol: { version: "2" }
  serversTransports:
    t: { proxyProtocol: { version: "1" } }
`);
    assert.deepEqual(
      r.lines.filter((l) => !l.includes('warning')),
      [],
    );
    assert.equal(r.config?.tcp?.serversTransports['t']?.proxyProtocol?.version, 1);
  });

  it('loads a health check with zero or negative durations and port 0, as Traefik (its defaults, a warning each)', () => {
    const r = check(`tcp:
  routers:
    db: { rule: "HostSNI(\`*\`)", service: db }
  services:
    db:
      loadBalancer:
        servers: [{ address: "10.0.0.1:5432" }]
        healthCheck: { interval: 0s, unhealthyInterval: -5s, timeout: 0, port: 0 }
`);
    assert.deepEqual(r.lines, [
      'dyn.yaml:8:34: warning: tcp.services.db.loadBalancer.healthCheck.interval: interval is not positive: the default 30s is used (as in Traefik)',
      'dyn.yaml:8:57: warning: tcp.services.db.loadBalancer.healthCheck.unhealthyInterval: unhealthyInterval is not positive: the default 30s is used (as in Traefik)',
      'dyn.yaml:8:71: warning: tcp.services.db.loadBalancer.healthCheck.timeout: timeout is not positive: the default 5s is used (as in Traefik)',
    ]);
    const svc = r.config?.tcp?.services['db'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.equal(svc.loadBalancer.healthCheck?.port, undefined, '0 = the server’s port');
  });

  it('refuses a weighted healthCheck over a child without one, in Traefik`s words (v3.5+ BuildTCP)', () => {
    // (A load balancer's `healthCheck: {}` is refused whole: TCPServersLoadBalancer.HealthCheck is not
    // tagged allowEmpty, tcp_config.go; a weighted one's is.)
    const r = check(`tcp:
  routers:
    db: { rule: "HostSNI(\`*\`)", service: w }
  services:
    plain: { loadBalancer: { servers: [{ address: "10.0.0.1:5432" }] } }
    checked: { loadBalancer: { servers: [{ address: "10.0.0.1:5432" }], healthCheck: { interval: 10s } } }
    w: { weighted: { services: [{ name: checked }, { name: plain }], healthCheck: {} } }
    inner: { weighted: { services: [{ name: checked }] } }
    outer: { weighted: { services: [{ name: inner }], healthCheck: {} } }
    fine: { weighted: { services: [{ name: checked }], healthCheck: {} } }
    noCheck: { weighted: { services: [{ name: plain }] } }
`);
    assert.deepEqual(r.lines.sort(), [
      'dyn.yaml:3:42: tcp.routers.db.service: service `w` is disabled because of its own errors',
      'dyn.yaml:7:60: tcp.services.w.weighted.services[1].name: cannot register plain as updater for w: healthCheck not enabled in config for this weighted service',
      'dyn.yaml:9:45: tcp.services.outer.weighted.services[0].name: cannot register inner as updater for outer: healthCheck not enabled in config for this weighted service',
    ]);
    for (const ok of ['fine', 'noCheck', 'inner']) assert.ok(r.config?.tcp?.services[ok], ok);
  });

  it("treats keys Traefik's TCP types have not (a router's observability, a transport's peerCertSANs) as unknown", () => {
    const r = check(`tcp:
  routers:
    db: { rule: "HostSNI(\`*\`)", service: db, observability: { metrics: false } }
  services:
    db: { loadBalancer: { servers: [{ address: "127.0.0.1:5432" }] } }
  serversTransports:
    t: { tls: { peerCertSANs: [a] } }
`);
    assert.ok(
      r.lines.some((l) => l.includes('tcp.routers.db.observability') && l.includes('unknown key')),
      r.lines.join('\n'),
    );
    assert.ok(
      r.lines.some((l) => l.includes('tls.peerCertSANs') && l.includes('unknown key')),
      r.lines.join('\n'),
    );
    assert.ok(!r.lines.some((l) => l.includes('not supported')), r.lines.join('\n'));
  });

  it('merges files of one provider; a name defined again differently keeps its first definition', () => {
    const a = parseDynamic(
      'tcp:\n  services:\n    s: { loadBalancer: { servers: [{ address: "1.1.1.1:1" }] } }\n',
      'a.yaml',
    );
    const b = parseDynamic(
      'tcp:\n  services:\n    s: { loadBalancer: { servers: [{ address: "2.2.2.2:2" }] } }\n',
      'b.yaml',
    );
    const same = parseDynamic(
      'tcp:\n  services:\n    s: { loadBalancer: { servers: [{ address: "1.1.1.1:1" }] } }\n',
      'c.yaml',
    );
    const ok = mergeDynamic([
      { file: 'a.yaml', config: a.config! },
      { file: 'c.yaml', config: same.config! },
    ]);
    assert.deepEqual(ok.issues, []);
    assert.ok(ok.config.tcp?.services['s']);
    const clash = mergeDynamic([
      { file: 'a.yaml', config: a.config! },
      { file: 'b.yaml', config: b.config! },
    ]);
    // As Traefik's file provider: "TCP service already configured, skipping".
    assert.equal(clash.issues.length, 1);
    assert.equal(clash.issues[0]!.severity, 'warning');
    assert.match(
      clash.issues[0]!.message,
      /tcp service `s` is already defined in a\.yaml: this definition is skipped/,
    );
    const kept = clash.config.tcp?.services['s'];
    assert.ok(kept?.kind === 'loadBalancer');
    assert.equal(kept.loadBalancer.servers[0]?.address, '1.1.1.1:1');
  });
});
