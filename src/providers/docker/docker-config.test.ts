import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import { dockerProviderSchema } from '../../config/static/providers.ts';
import { updateFromData } from '../dynamic-data.ts';
import { compileConstraints } from './constraints.ts';
import { type ContainerInfo, containersConfig, normalizeName } from './docker-config.ts';

function container(
  name: string,
  labels: Record<string, string>,
  more: Partial<ContainerInfo> = {},
): ContainerInfo {
  return {
    id: name,
    name,
    labels,
    health: '',
    networkMode: 'bridge',
    networks: { bridge: `172.17.0.${name.length}` },
    ports: [80],
    bindings: {},
    ...more,
  };
}

function build(containers: ContainerInfo[], options: Record<string, unknown> = {}) {
  const cfg = dockerProviderSchema.parse(options);
  const c = compileConstraints(cfg.constraints);
  if (typeof c !== 'function') throw new Error(c.error);
  const d = containersConfig(containers, cfg, c, 'container');
  const u = updateFromData(d.data, 'docker', d.sourceOf, {}, d.issues, { quietCase: true });
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

describe('docker labels → configuration', () => {
  it('normalizes names as Traefik does', () => {
    assert.equal(normalizeName('/my_app.1'), 'my-app-1');
    assert.equal(normalizeName('web'), 'web');
  });

  it('gives a bare container a service named after it, one server, and a router with the default rule', () => {
    const { config, issues } = build([container('my_app', {})]);
    assert.deepEqual(issues, []);
    assert.equal(config.http.routers['my-app']?.rule, 'Host(`my-app`)');
    // Traefik's DefaultRule: no core.defaultRuleSyntax for it (applyModel); `default` reads as v3.
    assert.equal(config.http.routers['my-app']?.ruleSyntax, 'default');
    assert.equal(config.http.routers['my-app']?.service, 'my-app');
    const svc = config.http.services['my-app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://172.17.0.6:80'],
    );
  });

  // Traefik's provider.BuildRouterConfiguration: the default router is named after the container
  // (its defaultRouterName), whatever its one service is called.
  it('names the default router after the container, not after a service its labels name', () => {
    const { config, issues } = build([
      container('web', { 'traefik.http.services.api.loadbalancer.server.port': '8080' }),
    ]);
    assert.deepEqual(issues, []);
    assert.deepEqual(Object.keys(config.http.routers), ['web']);
    assert.equal(config.http.routers['web']?.service, 'api');
    assert.equal(config.http.routers['web']?.rule, 'Host(`web`)');
  });

  // Traefik's addServer: "defining scheme or port is not allowed when URL is defined".
  it('refuses a server url label together with a scheme or port label', () => {
    const { config, issues } = build([
      container('a', {
        'traefik.http.services.a.loadbalancer.server.url': 'http://10.0.0.1:81',
        'traefik.http.services.a.loadbalancer.server.port': '82',
      }),
      container('b', { 'traefik.http.services.b.loadbalancer.server.url': 'http://10.0.0.2:81' }),
    ]);
    assert.deepEqual(issues, [
      'container a: http.services.a: defining scheme or port is not allowed when URL is defined',
    ]);
    assert.deepEqual(Object.keys(config.http.services), ['b']);
  });

  // Traefik's addServer: a service without a load balancer ("load-balancer is not defined")
  // leaves its container out; failover, weighted, mirroring and hrw are `label:"-"`.
  it('leaves out a container whose labels make a service without a load balancer (failover, weighted…)', () => {
    const { config, issues } = build([
      container('fo', {
        'traefik.http.services.f.failover.service': 'a',
        'traefik.http.services.f.failover.fallback': 'b',
        'traefik.http.routers.fo.service': 'f',
      }),
      container('mw', { 'traefik.http.services.m.middlewares': 'auth' }),
      container('ok', {}),
    ]);
    assert.deepEqual(issues, [
      'container fo: http.services.f: the load balancer is not defined',
      'container mw: http.services.m: the load balancer is not defined',
    ]);
    assert.deepEqual(Object.keys(config.http.services), ['ok']);
    assert.deepEqual(Object.keys(config.http.routers), ['ok']);
  });

  it('reads routers, services, middlewares and their options from labels', () => {
    const { config, issues } = build(
      [
        container('api', {
          'traefik.http.routers.api.rule': 'PathPrefix(`/api`)',
          'traefik.http.routers.api.entrypoints': 'web,websecure',
          'traefik.http.routers.api.middlewares': 'strip',
          'traefik.http.middlewares.strip.stripprefix.prefixes': '/api',
          'traefik.http.services.api-svc.loadbalancer.server.port': '8080',
          'traefik.http.services.api-svc.loadbalancer.server.scheme': 'https',
          'traefik.http.services.api-svc.loadbalancer.passhostheader': 'false',
          'traefik.http.routers.api.tls.domains[0].main': 'example.com',
          'traefik.http.routers.api.tls.domains[0].sans': 'a.example.com,b.example.com',
        }),
      ],
      { network: 'bridge' },
    );
    assert.deepEqual(issues, []);
    const r = config.http.routers['api'];
    assert.deepEqual(r?.entryPoints, ['web', 'websecure']);
    assert.equal(r?.service, 'api-svc', 'the only service');
    assert.deepEqual(r?.tls?.domains, [{ main: 'example.com', sans: ['a.example.com', 'b.example.com'] }]);
    const svc = config.http.services['api-svc'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.equal(svc.loadBalancer.servers[0]?.url, 'https://172.17.0.3:8080');
    assert.equal(svc.loadBalancer.passHostHeader, false);
  });

  it("reads traefik.http.routers.x.rulesyntax and traefik.tcp.routers.x.rulesyntax (Traefik's Router.RuleSyntax)", () => {
    const { config, issues } = build([
      container('app', {
        'traefik.http.routers.app.rule': 'Host(`a`, `b`)',
        'traefik.http.routers.app.rulesyntax': 'v2',
        'traefik.tcp.routers.db.rule': 'HostSNI(`a`, `b`)',
        'traefik.tcp.routers.db.ruleSyntax': 'v2',
        'traefik.tcp.routers.db.tls': 'true',
        'traefik.tcp.services.db.loadbalancer.server.port': '5432',
      }),
    ]);
    // Read, and deprecated for HTTP routers as in Traefik's mergeConfiguration (a warning).
    assert.deepEqual(issues, [
      "container app label traefik.http.routers.app.rulesyntax: warning: http.routers.app.ruleSyntax: Router's `ruleSyntax` option is deprecated, please remove any usage of this option",
    ]);
    assert.equal(config.http.routers['app']?.ruleSyntax, 'v2');
    assert.equal(config.tcp?.routers['db']?.ruleSyntax, 'v2');
  });

  it('merges replicas of one service into one with every server; other differences are errors', () => {
    const labels = {
      'traefik.http.services.app.loadbalancer.server.port': '80',
      'traefik.http.routers.app.rule': 'Host(`a`)',
    };
    const { config } = build([container('app-1', labels), container('app-22', labels)]);
    const svc = config.http.services['app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://172.17.0.5:80', 'http://172.17.0.6:80'],
    );
    const other = build([
      container('one', {
        'traefik.http.routers.web.rule': 'Host(`a`)',
        'traefik.http.routers.web.service': 'one',
      }),
      container('two', {
        'traefik.http.routers.web.rule': 'Host(`b`)',
        'traefik.http.routers.web.service': 'two',
      }),
    ]);
    assert.equal(other.config.http.routers['web'], undefined);
    assert.ok(
      other.issues.some((i) =>
        i.includes(
          'router `web` is defined by container one and container two with different configurations',
        ),
      ),
      other.issues.join('\n'),
    );
  });

  it('keeps containers by traefik.enable, exposedByDefault and constraints', () => {
    const cs = [
      container('on', { 'traefik.enable': 'true', team: 'a' }),
      container('off', { 'traefik.enable': 'false', team: 'a' }),
      container('quiet', { team: 'b' }),
    ];
    assert.deepEqual(Object.keys(build(cs).config.http.routers).sort(), ['on', 'quiet']);
    assert.deepEqual(Object.keys(build(cs, { exposedByDefault: false }).config.http.routers), ['on']);
    assert.deepEqual(Object.keys(build(cs, { constraints: 'Label(`team`, `b`)' }).config.http.routers), [
      'quiet',
    ]);
  });

  it('leaves out unhealthy and starting containers, or keeps them without servers with allowEmptyServices', () => {
    const cs = [container('sick', {}, { health: 'unhealthy' }), container('ok', {}, { health: 'healthy' })];
    assert.deepEqual(Object.keys(build(cs).config.http.routers), ['ok']);
    const empty = build(cs, { allowEmptyServices: true }).config.http.services['sick'];
    assert.ok(empty?.kind === 'loadBalancer');
    assert.deepEqual(empty.loadBalancer.servers, []);
  });

  it('leaves out a container that is not running, unless traefik.docker.allownonrunning keeps it without servers', () => {
    const cs = [
      container('off', {}, { running: false }),
      container(
        'kept',
        { 'traefik.docker.allownonrunning': 'true' },
        { running: false, health: 'unhealthy' },
      ),
      container('on', { 'traefik.docker.allownonrunning': 'true' }, { running: true }),
    ];
    const { config, issues } = build(cs);
    assert.deepEqual(issues, [
      'container kept: warning: http.services.kept.loadBalancer.servers: the service has no servers: its requests get 503',
    ]);
    assert.deepEqual(Object.keys(config.http.routers).sort(), ['kept', 'on']);
    const kept = config.http.services['kept'];
    assert.ok(kept?.kind === 'loadBalancer');
    assert.deepEqual(kept.loadBalancer.servers, []);
    const on = config.http.services['on'];
    assert.ok(on?.kind === 'loadBalancer');
    assert.equal(on.loadBalancer.servers.length, 1, 'running: its server, as without the label');
    const tcp = build([
      container(
        't',
        { 'traefik.docker.allownonrunning': 'TRUE', 'traefik.tcp.routers.t.rule': 'HostSNI(`*`)' },
        { running: false },
      ),
    ]).config.tcp?.services['t'];
    assert.deepEqual(tcp, { kind: 'loadBalancer', loadBalancer: { servers: [] } });
  });

  // The v2 catch-all of many compose files, read as v3 by Traefik (literal braces, never matching).
  it('warns about a Traefik v2 placeholder in a label rule read as v3 (core.defaultRuleSyntax), not under v2', () => {
    const c = container('redirect', {
      'traefik.http.routers.catchall.rule': 'HostRegexp(`{host:.+}`)',
      'traefik.http.routers.catchall.service': 'redirect',
    });
    const cfg = dockerProviderSchema.parse({});
    const constraint = compileConstraints(cfg.constraints);
    if (typeof constraint !== 'function') throw new Error(constraint.error);
    const issues = (hintRuleSyntax: string) => {
      const d = containersConfig([c], cfg, constraint, 'container');
      return updateFromData(d.data, 'docker', d.sourceOf, { hintRuleSyntax }, d.issues, {
        quietCase: true,
      }).issues.map(formatIssue);
    };
    assert.deepEqual(
      issues('v3').filter((i) => i.includes('placeholder')),
      [
        "container redirect label traefik.http.routers.catchall.rule: warning: http.routers.catchall.rule: `{host:.+}` is Traefik v2's placeholder syntax: v3 reads it literally, so this rule never matches such a request; write a regular expression (HostRegexp(`^[a-z]+\\.example\\.com$`), PathRegexp), or read the rules as v2 (core.defaultRuleSyntax: v2)",
      ],
    );
    assert.deepEqual(
      issues('v2').filter((i) => i.includes('placeholder')),
      [],
    );
  });

  // Traefik's MakeDefaultRuleTemplate: sprig.TxtFuncMap, whose `env` is os.Getenv.
  it("reads the process's environment in defaultRule's env and expandenv, as Traefik's sprig", (t) => {
    process.env['TM_TEST_DOMAIN'] = 'example.test';
    t.after(() => delete process.env['TM_TEST_DOMAIN']);
    const { config, issues } = build(
      [container('web', { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'demo' })],
      {
        defaultRule:
          'Host(`{{ index .Labels "com.docker.compose.service" }}.{{ env "TM_TEST_DOMAIN" }}`) || Host(`{{ expandenv "w.$TM_TEST_DOMAIN" }}`)',
      },
    );
    assert.deepEqual(issues, []);
    assert.equal(config.http.routers['api-demo']?.rule, 'Host(`api.example.test`) || Host(`w.example.test`)');
  });

  it('uses 127.0.0.1 on the host network, the chosen network, and the bound host address with useBindPortIP', () => {
    const host = build([container('h', {}, { networkMode: 'host', networks: { host: '' } })]);
    const h = host.config.http.services['h'];
    assert.ok(h?.kind === 'loadBalancer');
    assert.equal(h.loadBalancer.servers[0]?.url, 'http://127.0.0.1:80');
    const two = container(
      'n',
      { 'traefik.docker.network': 'back' },
      { networks: { front: '10.0.0.1', back: '10.0.1.1' } },
    );
    const n = build([two]).config.http.services['n'];
    assert.ok(n?.kind === 'loadBalancer');
    assert.equal(n.loadBalancer.servers[0]?.url, 'http://10.0.1.1:80');
    const bound = container('b', {}, { bindings: { '80/tcp': [{ hostIp: '192.0.2.7', hostPort: '8081' }] } });
    const b = build([bound], { useBindPortIP: true }).config.http.services['b'];
    assert.ok(b?.kind === 'loadBalancer');
    assert.equal(b.loadBalancer.servers[0]?.url, 'http://192.0.2.7:8081');
  });

  // Traefik's getIPAddress (pkg/provider/docker/config.go): "Could not find network named … Maybe
  // you're missing the project's prefix in the label? Defaulting to first available network."
  it("warns when the chosen network is not one of the container's (a compose prefix missing), then falls back", () => {
    const compose = container(
      'app',
      { 'traefik.docker.network': 'web' },
      { networks: { myproj_default: '10.0.0.1', myproj_web: '10.0.1.1' } },
    );
    const { config, issues } = build([compose]);
    const svc = config.http.services['app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.equal(svc.loadBalancer.servers[0]?.url, 'http://10.0.0.1:80');
    assert.deepEqual(
      issues.filter((i) => i.includes('network')),
      [
        'container app: warning: http.services.app: the container is not on the network "web" (its networks: myproj_default, myproj_web); a compose project\'s (or stack\'s) prefix missing from the name? Using the first network',
      ],
    );
    const host = build([container('h', {}, { networkMode: 'host', networks: { host: '' } })], {
      network: 'web',
    });
    const h = host.config.http.services['h'];
    assert.ok(h?.kind === 'loadBalancer');
    assert.equal(h.loadBalancer.servers[0]?.url, 'http://127.0.0.1:80');
    assert.ok(
      host.issues.some((i) => i.includes('not on the network "web" (host networking)')),
      host.issues.join('\n'),
    );
    const tcp = build([
      container('t', {
        'traefik.docker.network': 'nope',
        'traefik.tcp.routers.t.rule': 'HostSNI(`*`)',
      }),
    ]);
    assert.ok(
      tcp.issues.some((i) => i.includes('tcp.services.t: the container is not on the network "nope"')),
    );
    assert.deepEqual(
      build([container('ok', { 'traefik.docker.network': 'bridge' })]).issues,
      [],
      'no warning when the network is found',
    );
  });

  it("reaches a container in another one's network at that container's address, with Traefik's choice of network", () => {
    const shared = (labels: Record<string, string>, network: string | undefined) =>
      container('side', labels, {
        networkMode: 'bridge',
        networks: { front: '10.0.0.1', back: '10.0.1.1' },
        viaContainer: { network },
      });
    const url = (cs: ContainerInfo[], opts: Record<string, unknown> = {}) => {
      const svc = build(cs, opts).config.http.services['side'];
      assert.ok(svc?.kind === 'loadBalancer');
      return svc.loadBalancer.servers[0]?.url;
    };
    const own = { 'traefik.docker.network': 'back' };
    assert.equal(url([shared(own, undefined)]), 'http://10.0.1.1:80', 'its own label');
    assert.equal(url([shared(own, 'front')]), 'http://10.0.0.1:80', "the other container's label first");
    assert.equal(
      url([shared(own, undefined)], { network: 'front' }),
      'http://10.0.0.1:80',
      'then the provider network',
    );
    const lost = build([container('lost', {}, { networkMode: 'container:gone', networks: {} })]);
    assert.equal(lost.config.http.services['lost'], undefined);
    assert.ok(
      lost.issues.some((i) => i.includes('no address: the network of container:gone could not be read')),
      lost.issues.join('\n'),
    );
  });

  it('reports typos: an unknown key by its label, an unknown prefix, a Traefik v1 label', () => {
    const { config, issues } = build([
      container('t', {
        'traefik.http.routers.t.rul': 'Host(`x`)',
        'traefik.htp.routers.t.rule': 'Host(`x`)',
        'traefik.frontend.rule': 'Host:x',
      }),
    ]);
    assert.equal(config.http.routers['t'], undefined);
    const has = (s: string) =>
      assert.ok(
        issues.some((i) => i.includes(s)),
        `${s}\n${issues.join('\n')}`,
      );
    has(
      'container t label traefik.http.routers.t.rul: http.routers.t.rul: unknown key `rul` (did you mean `rule`?)',
    );
    has('container t label traefik.htp.routers.t.rule: warning: unknown label');
    has('container t label traefik.frontend.rule: warning: a Traefik v1 label');
  });

  it('reads the Traefik v3.7 service middlewares label, a comma-separated list', () => {
    const { config, issues } = build([
      container('m', {
        'traefik.http.routers.m.rule': 'Host(`m`)',
        'traefik.http.services.m.loadbalancer.server.port': '80',
        'traefik.http.middlewares.strip.stripprefix.prefixes': '/m',
        'traefik.http.services.m.middlewares': 'strip@docker,strip',
      }),
    ]);
    assert.deepEqual(issues, []);
    assert.equal(config.http.routers['m']?.service, 'm');
    assert.deepEqual(config.http.services['m']?.middlewares, ['strip@docker', 'strip']);
  });

  it('builds TCP routers and services from labels, and then no HTTP router for the container', () => {
    const { config, issues } = build([
      container('pg', {
        'traefik.tcp.routers.db.rule': 'HostSNI(`*`)',
        'traefik.tcp.routers.db.entrypoints': 'postgres',
        'traefik.tcp.services.db.loadbalancer.server.port': '5432',
        'traefik.tcp.services.db.loadbalancer.server.tls': 'true',
      }),
    ]);
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.routers, {});
    assert.deepEqual(config.http.services, {});
    const r = config.tcp!.routers['db'];
    assert.equal(r?.rule, 'HostSNI(`*`)');
    assert.equal(r?.service, 'db', 'the only TCP service');
    assert.deepEqual(r?.entryPoints, ['postgres']);
    const svc = config.tcp!.services['db'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => [s.address, s.tls]),
      [['172.17.0.2:5432', true]],
    );
  });

  it("gives a TCP router without a service the container's own, on its lowest port; a TCP router without a rule is an error", () => {
    const { config, issues } = build([
      container('redis_1', { 'traefik.tcp.routers.cache.rule': 'HostSNI(`*`)' }, { ports: [6379, 16379] }),
      container('norule', { 'traefik.tcp.routers.x.entrypoints': 'tcp' }),
    ]);
    assert.equal(config.tcp!.routers['cache']?.service, 'redis-1');
    const svc = config.tcp!.services['redis-1'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.address),
      ['172.17.0.7:6379'],
    );
    assert.equal(config.tcp!.routers['x'], undefined);
    assert.ok(
      issues.some((i) => i.startsWith('container norule: tcp.routers.x: empty rule')),
      issues.join('\n'),
    );
    assert.deepEqual(Object.keys(config.http.routers), [], 'TCP labels only: no HTTP router');
  });

  it('builds UDP routers and services, HTTP and TCP side by side, and merges TCP replicas by address', () => {
    const tcp = {
      'traefik.tcp.routers.mq.rule': 'HostSNI(`*`)',
      'traefik.tcp.services.mq.loadbalancer.server.port': '5672',
      'traefik.http.routers.admin.rule': 'Host(`mq`)',
      'traefik.http.services.admin.loadbalancer.server.port': '15672',
    };
    const { config, issues } = build([
      container('dns', {
        'traefik.udp.routers.dns.entrypoints': 'dns',
        'traefik.udp.services.dns.loadbalancer.server.port': '53',
      }),
      container('mq-1', tcp),
      container('mq-22', tcp),
    ]);
    assert.deepEqual(issues, []);
    assert.equal(config.udp!.routers['dns']?.service, 'dns');
    const dns = config.udp!.services['dns'];
    assert.ok(dns !== undefined && 'loadBalancer' in dns);
    assert.deepEqual(
      dns.loadBalancer.servers.map((s) => s.address),
      ['172.17.0.3:53'],
    );
    assert.equal(config.http.routers['admin']?.service, 'admin');
    const mq = config.tcp!.services['mq'];
    assert.ok(mq?.kind === 'loadBalancer');
    assert.deepEqual(
      mq.loadBalancer.servers.map((s) => s.address),
      ['172.17.0.4:5672', '172.17.0.5:5672'],
    );
  });

  it('reads an empty value as Traefik does for its allowEmpty sections: tls and sticky.cookie turned on', () => {
    const { config, issues } = build([
      container('e', {
        'traefik.http.routers.e.tls': '',
        'traefik.http.services.e.loadbalancer.sticky.cookie': '',
      }),
    ]);
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.routers['e']?.tls, { domains: [] });
    const svc = config.http.services['e'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.ok(svc.loadBalancer.sticky?.cookie !== undefined);
  });

  it('reads `loadbalancer.sticky=true` as an empty Sticky without a cookie, as paerser does (no sticky session)', () => {
    // Found in jasondavindev/docker-swarm-traefik-grpc-cluster (the docker-compose corpus):
    // Sticky is allowEmpty, so `true` gives Sticky{} whose Cookie stays nil, and Traefik's
    // balancers make a sticky session only with a cookie (wrr.go New: `sticky.Cookie != nil`).
    const { config, issues } = build([
      container('s', { 'traefik.http.services.s.loadbalancer.sticky': 'true' }),
    ]);
    assert.deepEqual(issues, []);
    const svc = config.http.services['s'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(svc.loadBalancer.sticky, {});
  });

  // paerser keeps a value and children on one node (labels_decode.go decodeToNode); its metadata
  // fills the section from the children, the value only turning it off when neither empty nor
  // "true" (nodes_metadata.go Disabled). `tls=true` beside `tls.domains[0].main` is the usual pair.
  it('reads a section given both a value and deeper labels as Traefik does: on with "true", off otherwise', () => {
    const { config, issues } = build([
      container('web', {
        'traefik.http.routers.web.rule': 'Host(`example.com`)',
        'traefik.http.routers.web.tls': 'true',
        'traefik.http.routers.web.tls.certresolver': 'le',
        'traefik.http.routers.web.tls.domains[0].main': 'example.com',
        'traefik.http.routers.web.tls.domains[0].sans': '*.example.com,www.example.com',
      }),
      container('off', {
        'traefik.http.routers.off.rule': 'Host(`off.example.com`)',
        'traefik.http.routers.off.tls': 'false',
        'traefik.http.routers.off.tls.certresolver': 'le',
      }),
    ]);
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.routers['web']?.tls, {
      certResolver: 'le',
      domains: [{ main: 'example.com', sans: ['*.example.com', 'www.example.com'] }],
    });
    assert.equal(config.http.routers['off']?.tls, undefined);
  });

  it('renders the defaultRule template with .Name, .ContainerName and .Labels', () => {
    const { config } = build([container('web_1', { domain: 'example.org' })], {
      defaultRule:
        'Host(`{{ .Name }}.{{ index .Labels "domain" }}`) || Host(`{{ normalize .ContainerName }}.internal`)',
    });
    assert.equal(config.http.routers['web-1']?.rule, 'Host(`web-1.example.org`) || Host(`web-1.internal`)');
  });
});
