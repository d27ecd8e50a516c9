import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ENCODED_CHARACTERS } from '../../http1/request-path.ts';
import { formatIssue } from '../issues.ts';
import { type LoadStaticOptions, loadStaticConfig } from './load.ts';

function load(text: string | undefined, argv: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const opts: LoadStaticOptions = {
    argv,
    env,
    ...(text !== undefined ? { file: 'conf/static.yaml', readFile: () => text } : {}),
  };
  const r = loadStaticConfig(opts);
  return { ...r, lines: r.issues.map(formatIssue) };
}

const minimal = 'entryPoints:\n  web:\n    address: "127.0.0.1:8080"\n';

describe('loadStaticConfig: defaults', () => {
  it('fills every default so the output has no optional where a default exists', () => {
    const r = load(minimal);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config, {
      entryPoints: {
        web: {
          address: '127.0.0.1:8080',
          transport: {
            respondingTimeouts: {
              readHeaderTimeout: 10_000,
              readTimeout: 60_000,
              idleTimeout: 180_000,
              writeTimeout: 0,
              serverFirstTimeout: 2_000,
            },
            keepAliveMaxRequests: 0,
            keepAliveMaxTime: 0,
            lifeCycle: { graceTimeOut: 10_000, requestAcceptGraceTimeout: 0 },
            maxConnections: 0,
            maxConnectionsPerIP: 0,
          },
          forwardedHeaders: {
            trustedIPs: [],
            insecure: false,
            connection: [],
            notAppendXForwardedFor: false,
            addXForwardedSchemeHeaders: false,
          },
          http: {
            maxHeaderBytes: 16_384,
            sanitizePath: true,
            // The codec's own defaults (http1/request-path.ts) must be these.
            encodedCharacters: DEFAULT_ENCODED_CHARACTERS,
            allowTrace: false,
            encodeQuerySemicolons: false,
          },
          http2: {
            maxConcurrentStreams: 250,
            maxDecoderHeaderTableSize: 4096,
            maxEncoderHeaderTableSize: 4096,
          },
          asDefault: false,
          udp: { timeout: 3_000 },
          reusePort: false,
          allowACMEByPass: false,
        },
      },
      providers: {
        providersThrottleDuration: 2000,
        precedence: [
          'kubernetesgateway',
          'kubernetescrd',
          'kubernetes',
          'kubernetesingressnginx',
          'swarm',
          'docker',
          'file',
          'redis',
          'knative',
          'consul',
          'consulcatalog',
          'nomad',
          'etcd',
          'ecs',
          'http',
          'zookeeper',
          'rest',
        ],
      },
      log: { level: 'error', format: 'json', maxSize: 0, maxBackups: 0, maxAge: 0 },
      overload: {
        maxEventLoopDelay: 500,
        maxHeapUsedRatio: 0.9,
        maxRequestBodyBytes: 128 * 1024 * 1024,
        retryAfter: 1000,
      },
    });
  });

  it('turns the access log on when its section is present, even empty', () => {
    // Traefik's access log defaults to the common format.
    assert.deepEqual(load(`${minimal}accessLog: {}\n`).config?.accessLog, {
      filePath: '',
      format: 'common',
      bufferingSize: 0,
      addInternals: false,
      dualOutput: false,
    });
    assert.deepEqual(load(`${minimal}accessLog: { format: json }\n`).config?.accessLog, {
      filePath: '',
      format: 'json',
      bufferingSize: 0,
      addInternals: false,
      dualOutput: false,
    });
  });

  it('turns OCSP stapling on with its section, even empty, with responder overrides by URL', () => {
    assert.deepEqual(load(`${minimal}ocsp: {}\n`).config?.ocsp, { responderOverrides: {} });
    // A null value is skipped, as Traefik's decoder skips it: `ocsp:` alone is no section.
    assert.equal(load(`${minimal}ocsp:\n`).config?.ocsp, undefined);
    assert.deepEqual(
      load(`${minimal}ocsp:\n  responderOverrides:\n    "http://r3.o.lencr.org": "http://127.0.0.1:8888/"\n`)
        .config?.ocsp,
      { responderOverrides: { 'http://r3.o.lencr.org': 'http://127.0.0.1:8888/' } },
    );
    assert.equal(load(minimal).config?.ocsp, undefined);
    const bad = load(`${minimal}ocsp:\n  responderOverrides:\n    "http://a": "ftp://b/"\n`);
    assert.equal(bad.lines.length, 1, bad.lines.join('\n'));
    assert.match(
      bad.lines[0]!,
      /^conf\/static\.yaml:6:17: ocsp\.responderOverrides\["http:\/\/a"\]: must be an http:\/\/ or https:\/\/ URL/,
    );
  });

  it('reads durations and log levels in any case', () => {
    const r = load(
      `${minimal}    transport:\n      respondingTimeouts: { readTimeout: 1m30s, idleTimeout: 5 }\n      lifeCycle: { graceTimeOut: 250ms }\nlog: { level: debug }\n`,
    );
    assert.deepEqual(r.issues, []);
    const t = r.config?.entryPoints['web']?.transport;
    assert.equal(t?.respondingTimeouts.readTimeout, 90_000);
    assert.equal(t?.respondingTimeouts.idleTimeout, 5000);
    assert.equal(t?.lifeCycle.graceTimeOut, 250);
    assert.equal(r.config?.log.level, 'debug');
  });

  it('refuses a zero header timeout (ours), which would close every connection at once', () => {
    const r = load(`${minimal}    transport:\n      respondingTimeouts: { readHeaderTimeout: 0s }\n`);
    assert.deepEqual(
      r.lines.map((l) => l.replace(/^conf\/static\.yaml:\d+:\d+: /, '')),
      ['entryPoints.web.transport.respondingTimeouts.readHeaderTimeout: must be greater than 0'],
    );
  });

  it("takes a zero idleTimeout, as Traefik passes it to Go's server (readTimeout's value, or none)", () => {
    const r = load(
      `${minimal}    transport:\n      respondingTimeouts: { idleTimeout: 0s, readTimeout: 0s }\n`,
    );
    assert.deepEqual(r.issues, []);
    assert.equal(r.config?.entryPoints['web']?.transport.respondingTimeouts.idleTimeout, 0);
  });

  it("refuses an empty map (`experimental.plugins: {}`), as Traefik's decoder does, and takes its allowEmpty sections", () => {
    const r = load(`${minimal}experimental:\n  plugins: {}\nping: {}\naccessLog: {}\n`);
    assert.equal(r.config, undefined);
    assert.deepEqual(
      r.lines.map((l) => l.replace(/^conf\/static\.yaml:\d+:\d+: /, '')),
      [
        'experimental.plugins: `plugins` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)',
      ],
    );
    assert.deepEqual(load(`${minimal}ping: {}\naccessLog: {}\n`).issues, []);
  });

  it("refuses an entry point's struct Traefik does not tag allowEmpty (`http: {}`), takes proxyProtocol empty", () => {
    // pkg/config/static/entrypoints.go EntryPoint: only proxyProtocol and http3 are allowEmpty.
    for (const key of ['transport', 'forwardedHeaders', 'http', 'http2', 'udp', 'observability']) {
      const r = load(`${minimal}    ${key}: {}\n`);
      assert.equal(r.config, undefined, key);
      assert.deepEqual(
        r.lines.map((l) => l.replace(/^conf\/static\.yaml:\d+:\d+: /, '')),
        [
          `entryPoints.web.${key}: \`${key}\` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)`,
        ],
      );
    }
    assert.deepEqual(load(`${minimal}    proxyProtocol: {}\n`).issues, []);
    // static_config.go: Configuration's, Providers' `file`, a resolver's `acme`; entrypoints.go's
    // HTTPConfig and EntryPointsTransport structs.
    for (const [text, path] of [
      ['metrics: {}\n', 'metrics'],
      ['core: {}\n', 'core'],
      ['experimental: {}\n', 'experimental'],
      ['serversTransport:\n  forwardingTimeouts: {}\n', 'serversTransport.forwardingTimeouts'],
      ['certificatesResolvers:\n  le:\n    acme: {}\n', 'certificatesResolvers.le.acme'],
      ['    http:\n      redirections: {}\n', 'entryPoints.web.http.redirections'],
      ['    transport:\n      respondingTimeouts: {}\n', 'entryPoints.web.transport.respondingTimeouts'],
    ] as const) {
      const r = load(`${minimal}${text}`);
      assert.equal(r.config, undefined, path);
      assert.ok(
        r.lines.some((l) => l.includes(`: ${path}: \``) && l.includes('cannot be a standalone element')),
        `${path}\n${r.lines.join('\n')}`,
      );
    }
    // allowEmpty: api, ping, log, accessLog, hostResolver, a provider but file, an entry point's http.tls.
    const ok = load(
      `${minimal}    http:\n      tls: {}\napi: {}\nping: {}\nlog: {}\naccessLog: {}\nproviders:\n  docker: {}\n`,
    );
    assert.equal(ok.lines.filter((l) => l.includes('standalone')).join('\n'), '');
    assert.notEqual(ok.config, undefined, ok.lines.join('\n'));
  });

  it('resolves relative provider paths against the working directory, as Traefik does', () => {
    const r = load(`${minimal}providers:\n  file: { filename: dynamic.yaml }\n`);
    assert.deepEqual(r.config?.providers.file, {
      filename: join(process.cwd(), 'dynamic.yaml'),
      watch: true,
      debugLogGeneratedTemplate: false,
    });
    const abs = load(`${minimal}providers:\n  file: { directory: /etc/traffic/conf.d, watch: false }\n`);
    assert.deepEqual(abs.config?.providers.file, {
      directory: '/etc/traffic/conf.d',
      watch: false,
      debugLogGeneratedTemplate: false,
    });
  });

  // Traefik writes its log as JSON for exactly `json` (cmd/traefik/logger.go getLogWriter) and
  // falls back to the common access log format for any unknown one (accesslog NewHandler).
  it('loads a log or access log format Traefik does not know, as Traefik: text or common, with a warning', () => {
    const r = load(`${minimal}log: { format: JSON }\naccessLog: { format: clf }\n`);
    assert.equal(r.config?.log.format, 'common');
    assert.equal(r.config?.accessLog?.format, 'common');
    assert.deepEqual(r.lines, [
      'conf/static.yaml:4:16: warning: log.format: unknown format "JSON": the text format (common) is used (as Traefik); one of json, common',
      'conf/static.yaml:5:22: warning: accessLog.format: unknown format "clf": the common format is used (as Traefik); one of json, common, genericCLF',
    ]);
    const ok = load(`${minimal}log: { format: json }\naccessLog: { format: genericCLF }\n`);
    assert.equal(ok.config?.log.format, 'json');
    assert.equal(ok.config?.accessLog?.format, 'genericCLF');
    assert.deepEqual(ok.lines, []);
  });

  // Traefik's getLogLevel takes zerolog's levels; we have four: TRACE reads as DEBUG, FATAL,
  // PANIC and disabled as ERROR.
  it('loads the log levels Traefik documents beyond ours (TRACE, FATAL, PANIC), as the nearest, with a warning', () => {
    const trace = load(`${minimal}log: { level: TRACE }\n`);
    assert.equal(trace.config?.log.level, 'debug');
    assert.deepEqual(trace.lines, [
      'conf/static.yaml:4:15: warning: log.level: log level "TRACE" is read as DEBUG, the nearest of DEBUG, INFO, WARN, ERROR',
    ]);
    assert.equal(load(`${minimal}log: { level: fatal }\n`).config?.log.level, 'error');
    assert.equal(load(`${minimal}log: { level: PANIC }\n`).config?.log.level, 'error');
  });

  // Traefik's getLogLevel (cmd/traefik/logger.go): what zerolog.ParseLevel refuses is logged
  // ("Unspecified or invalid log level, setting the level to default (ERROR)...") and runs at ERROR;
  // ParseLevel also takes zerolog's level numbers.
  it('loads an invalid log level as ERROR with a warning, and zerolog level numbers, as Traefik', () => {
    const loud = load(`${minimal}log: { level: LOUD }\n`);
    assert.equal(loud.config?.log.level, 'error');
    assert.deepEqual(loud.lines, [
      'conf/static.yaml:4:15: warning: log.level: invalid log level "LOUD": the level is ERROR, as Traefik sets it ("Unspecified or invalid log level, setting the level to default (ERROR)"); one of DEBUG, INFO, WARN, ERROR',
    ]);
    const env = load(minimal, [], { TRAFFIC_LOG_LEVEL: 'nonsense' });
    assert.equal(env.config?.log.level, 'error');
    assert.match(
      env.lines[0] ?? '',
      /^warning: log\.level: invalid log level "nonsense" \(set by TRAFFIC_LOG_LEVEL\): the level is ERROR/,
    );
    assert.equal(load(`${minimal}log: { level: 1 }\n`).config?.log.level, 'info');
    assert.equal(load(`${minimal}log: { level: "2" }\n`).config?.log.level, 'warn');
    const minus = load(`${minimal}log: { level: -1 }\n`);
    assert.equal(minus.config?.log.level, 'debug');
    assert.match(minus.lines[0] ?? '', /log level "-1" is read as DEBUG/);
    assert.equal(load(`${minimal}log: { level: 300 }\n`).config?.log.level, 'error');
  });

  // Traefik's SetEffectiveConfiguration: no entry point defined → `http` on :80.
  it("gives a configuration that defines no entry point Traefik's default `http` on :80, with a warning", () => {
    const r = load('log: { level: INFO }\n');
    assert.ok(r.config);
    assert.deepEqual(Object.keys(r.config.entryPoints), ['http']);
    assert.equal(r.config.entryPoints['http']?.address, ':80');
    assert.deepEqual(r.lines, [
      "warning: entryPoints: no entry point is defined: Traefik's default entry point `http` listens on :80",
    ]);
    // An entry point from a flag is one: no default then.
    const f = load('log: { level: INFO }\n', ['--entryPoints.web.address=:8081']);
    assert.deepEqual(Object.keys(f.config?.entryPoints ?? {}), ['web']);
    // Flags alone, or TRAEFIK_ variables alone, are a source too: a compose file's
    // `--providers.docker` gets `http` on :80 as under Traefik.
    assert.deepEqual(Object.keys(load(undefined, ['--providers.docker']).config?.entryPoints ?? {}), [
      'http',
    ]);
    assert.deepEqual(
      Object.keys(load(undefined, [], { TRAEFIK_PROVIDERS_DOCKER: 'true' }).config?.entryPoints ?? {}),
      ['http'],
    );
    // Without any source nothing is added (main.ts refuses to start, saying where it looked);
    // our own TRAFFIC_ variables are not a source.
    assert.deepEqual(Object.keys(load(undefined).config?.entryPoints ?? {}), []);
    assert.deepEqual(
      Object.keys(load(undefined, [], { TRAFFIC_LOG_LEVEL: 'INFO' }).config?.entryPoints ?? {}),
      [],
    );
  });
});

describe('loadStaticConfig: issues with positions', () => {
  it('points an unknown key at the key, with a hint', () => {
    const r = load('entryPoints:\n  web:\n    adress: ":80"\n');
    assert.equal(r.config, undefined);
    assert.ok(
      r.lines.includes(
        'conf/static.yaml:3:5: entryPoints.web.adress: unknown key `adress` (did you mean `address`?)',
      ),
      r.lines.join('\n'),
    );
  });

  it('says which Traefik keys are not supported yet, by name', () => {
    const r = load(`${minimal}    http3: {}\n    http:\n      middlewares: []\nproviders:\n  plugin: {}\n`);
    assert.deepEqual(
      r.lines.filter((l) => l.includes('not supported')),
      [
        'conf/static.yaml:4:5: entryPoints.web.http3: `http3` is not supported yet',
        'conf/static.yaml:8:3: providers.plugin: `plugin` is not supported yet',
      ],
    );
  });

  it("accepts hostResolver without CNAME flattening (all Traefik's requestdecorator does then is nothing)", () => {
    const r = load(`${minimal}hostResolver:\n  resolvConfig: /etc/resolv.conf\n  resolvDepth: 3\n`);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config?.hostResolver, {
      cnameFlattening: false,
      resolvConfig: '/etc/resolv.conf',
      resolvDepth: 3,
    });
    const empty = load(`${minimal}hostResolver: {}\n`);
    assert.deepEqual(empty.issues, []);
  });

  it("accepts hostResolver with CNAME flattening on (Traefik's requestdecorator)", () => {
    const r = load(`${minimal}hostResolver:\n  cnameFlattening: true\n`);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config?.hostResolver, {
      cnameFlattening: true,
      resolvConfig: '/etc/resolv.conf',
      resolvDepth: 5,
    });
  });

  it('warns of a top-level otlp as of any key Traefik has not (its OTLP settings are per signal)', () => {
    const r = load(`${minimal}otlp: {}\n`);
    assert.notEqual(r.config, undefined);
    assert.ok(
      r.lines.some((l) => l.includes('unknown top-level key `otlp` is ignored')),
      r.lines.join('\n'),
    );
  });

  it("takes Prometheus' headerLabels, refusing a label name Prometheus or the request families would clash with", () => {
    const ok = load(`${minimal}metrics:\n  prometheus:\n    headerLabels: { useragent: User-Agent }\n`, [
      '--metrics.prometheus.headerLabels.tenant=X-Tenant',
    ]);
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.config?.metrics?.prometheus?.headerLabels, {
      useragent: 'User-Agent',
      tenant: 'X-Tenant',
    });
    assert.deepEqual(
      load(`${minimal}metrics: { prometheus: {} }\n`).config?.metrics?.prometheus?.headerLabels,
      {},
    );
    const bad = load(
      `${minimal}metrics:\n  prometheus:\n    headerLabels: { code: X-Code, "user-agent": User-Agent, __x: X }\n`,
    );
    assert.equal(bad.config, undefined);
    assert.deepEqual(
      bad.lines.map((l) => l.replace(/^conf\/static\.yaml:\d+:\d+: /, '')),
      [
        'metrics.prometheus.headerLabels.code: label `code` is a label of the request families already (code, method, protocol, entrypoint, router, service)',
        'metrics.prometheus.headerLabels.user-agent: label `user-agent` is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)',
        'metrics.prometheus.headerLabels.__x: label `__x` starts with `__`, which Prometheus reserves',
      ],
    );
  });

  it("takes Traefik's statsD, datadog and influxDB2 metrics with its defaults, and locates a bad address", () => {
    const ok = load(
      `${minimal}metrics:\n  statsD:\n  datadog: {}\n  influxDB2: { token: t, org: o, bucket: b }\n`,
      ['--metrics.statsD.prefix=edge'],
    );
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.config?.metrics?.statsD, {
      address: 'localhost:8125',
      pushInterval: 10_000,
      addEntryPointsLabels: true,
      addRoutersLabels: false,
      addServicesLabels: true,
      prefix: 'edge',
    });
    // The address left to DD_AGENT_HOST and DD_DOGSTATSD_PORT (read when the exporter starts).
    assert.equal(ok.config?.metrics?.datadog?.address, undefined);
    assert.equal(ok.config?.metrics?.datadog?.prefix, 'traefik');
    assert.deepEqual(ok.config?.metrics?.influxDB2, {
      address: 'http://localhost:8086',
      token: 't',
      org: 'o',
      bucket: 'b',
      pushInterval: 10_000,
      addEntryPointsLabels: true,
      addRoutersLabels: false,
      addServicesLabels: true,
      additionalLabels: {},
    });
    const bad = load(
      `${minimal}metrics:\n  statsD:\n    address: localhost\n  datadog:\n    address: "unixgram:///var/run/dd.sock"\n  influxDB2:\n    address: "localhost:8086"\n`,
    );
    assert.equal(bad.config, undefined);
    assert.deepEqual(bad.lines, [
      'conf/static.yaml:6:14: metrics.statsD.address: invalid address "localhost" (expected host:port)',
      'conf/static.yaml:8:14: metrics.datadog.address: Unix socket addresses (`unixgram://`) are not supported yet: use `host:port` (UDP)',
      'conf/static.yaml:10:14: metrics.influxDB2.address: must be an http:// or https:// URL',
    ]);
    assert.match(
      load(`${minimal}metrics:\n  statsD: { address: "127.0.0.1:8125/udp", pushInterval: 0s }\n`).lines.join(
        '\n',
      ),
      /metrics\.statsD\.address: invalid address "127\.0\.0\.1:8125\/udp": no `\/protocol` here[\s\S]*metrics\.statsD\.pushInterval: must be greater than 0/,
    );
  });

  it("takes Traefik's core.defaultRuleSyntax v3 and v2, and refuses anything else", () => {
    assert.deepEqual(load(`${minimal}core: { defaultRuleSyntax: v3 }\n`).issues, []);
    // `core: {}` is refused whole (static_config.go Core: not allowEmpty).
    assert.deepEqual(load(`${minimal}core: { strictTLSOptions: false }\n`).config?.core, {
      defaultRuleSyntax: 'v3',
      strictTLSOptions: false,
    });
    assert.deepEqual(load(`${minimal}core: { defaultRuleSyntax: v2 }\n`).config?.core, {
      defaultRuleSyntax: 'v2',
      strictTLSOptions: false,
    });

    assert.match(
      load(`${minimal}core: { defaultRuleSyntax: v2 }\n`).lines.join('\n'),
      /warning: core\.defaultRuleSyntax: the v2 rule syntax is deprecated/,
    );
    // As a flag (Traefik's --core.defaultRuleSyntax) and in the environment (our TRAFFIC_ prefix).
    assert.deepEqual(load(minimal, ['--core.defaultRuleSyntax=v2']).config?.core, {
      defaultRuleSyntax: 'v2',
      strictTLSOptions: false,
    });
    assert.deepEqual(load(minimal, [], { TRAFFIC_CORE_DEFAULTRULESYNTAX: 'v2' }).config?.core, {
      defaultRuleSyntax: 'v2',
      strictTLSOptions: false,
    });
    assert.match(
      load(`${minimal}core: { defaultRuleSyntax: v4 }\n`).lines.join('\n'),
      /core\.defaultRuleSyntax: unsupported default rule syntax "v4"/,
    );
  });

  it("takes Traefik v3.8's core.strictTLSOptions (default false), in the file and as a flag", () => {
    assert.equal(load(`${minimal}core: { strictTLSOptions: true }\n`).config?.core?.strictTLSOptions, true);
    assert.equal(load(minimal, ['--core.strictTLSOptions=true']).config?.core?.strictTLSOptions, true);
    assert.equal(load(`${minimal}core: { defaultRuleSyntax: v3 }\n`).config?.core?.strictTLSOptions, false);
  });

  it('points a missing required key at its parent', () => {
    const r = load(`${minimal}experimental:\n  plugins:\n    x:\n      version: v1\n`);
    assert.deepEqual(r.lines, [
      'conf/static.yaml:6:5: experimental.plugins.x.moduleName: required key `moduleName` is missing (expected a string)',
    ]);
  });

  // Traefik's EntryPoint.Address has no default, and buildListener (pkg/server/
  // server_entrypoint_tcp.go) listens with Go's net.Listen("tcp", address): "" and "host:" are
  // port 0, a port the system chooses.
  it('loads an entry point without an address or port, listening on a port the system chooses, with a warning', () => {
    // (`transport: {}` is refused whole, as Traefik's decoder refuses it: a key under it.)
    const none = load('entryPoints:\n  web:\n    reusePort: false\n');
    assert.equal(none.config?.entryPoints['web']?.address, '');
    assert.deepEqual(none.lines, [
      "conf/static.yaml:2:3: warning: entryPoints.web.address: no address: the entry point listens on a port the system chooses, on every interface, as Traefik (Go's net.Listen)",
    ]);
    // A service name for the port, as Go's LookupPort reads it (address.ts SERVICE_PORTS).
    const named = load('entryPoints:\n  web:\n    address: ":http"\n  websecure:\n    address: ":https"\n');
    assert.deepEqual(named.lines, []);
    const empty = load('entryPoints:\n  web:\n    address: "127.0.0.1:"\n');
    assert.equal(empty.config?.entryPoints['web']?.address, '127.0.0.1:');
    assert.deepEqual(empty.lines, [
      'conf/static.yaml:3:14: warning: entryPoints.web.address: no port in "127.0.0.1:": the entry point listens on a port the system chooses, as Traefik (Go\'s net.Listen)',
    ]);
  });

  it('points a bad value at the value', () => {
    const r = load(`${minimal}    transport:\n      respondingTimeouts: { readTimeout: 10 seconds }\n`);
    assert.equal(r.lines.length, 1);
    assert.match(
      r.lines[0]!,
      /^conf\/static\.yaml:5:42: entryPoints\.web\.transport\.respondingTimeouts\.readTimeout: invalid duration "10 seconds" \(expected a duration/,
    );
  });

  it('reports a YAML syntax error with its position', () => {
    const r = load('entryPoints:\n  web: [\n');
    assert.equal(r.config, undefined);
    assert.match(r.lines[0]!, /^conf\/static\.yaml:3:1: YAML syntax error/);
  });

  it('starts without the file provider when it has neither filename nor directory, with a warning (as Traefik)', () => {
    // Traefik's pkg/provider/file/file.go Provide fails ("neither filename nor directory is
    // defined"), which its aggregator logs ("Cannot start the provider"), and Traefik runs on.
    for (const fp of ['file: { watch: true }', 'file: {}', 'file: { filename: "", directory: "" }']) {
      const r = load(`${minimal}providers:\n  ${fp}\n`);
      assert.ok(r.config !== undefined, fp);
      assert.equal(r.config.providers.file, undefined, fp);
      assert.deepEqual(
        r.lines.map((l) => l.replace(/^conf\/static\.yaml:\d+:\d+: /, '')),
        [
          'warning: providers.file: the file provider does not start: neither `filename` nor `directory` is set (Traefik: "error using file configuration provider, neither filename nor directory is defined", and it runs without the provider)',
        ],
        fp,
      );
    }
    // `file:` with nothing under it is no provider at all (paerser drops a null value), and
    // `providers` is then empty: refused whole, as Traefik's decoder refuses it (Providers is not
    // tagged allowEmpty, static_config.go).
    const nil = load(`${minimal}providers:\n  file:\n`);
    assert.deepEqual(
      [nil.lines, nil.config],
      [
        [
          'conf/static.yaml:4:1: providers: `providers` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)',
        ],
        undefined,
      ],
    );
    const nilBeside = load(`${minimal}providers:\n  file:\n  docker: {}\n`);
    assert.deepEqual([nilBeside.lines, nilBeside.config?.providers.file], [[], undefined]);
    // An empty `filename` is none, as in Traefik: the folder is read.
    const dir = load(`${minimal}providers:\n  file: { filename: "", directory: /etc/d }\n`);
    assert.deepEqual(dir.lines, []);
    assert.deepEqual(dir.config?.providers.file, {
      watch: true,
      debugLogGeneratedTemplate: false,
      directory: '/etc/d',
    });
  });

  it('reads the directory and ignores filename when both are set, as Traefik', () => {
    // Traefik's pkg/provider/file/file.go buildConfiguration: the directory when it is set.
    const both = load(`${minimal}providers:\n  file: { filename: a.yaml, directory: /etc/d }\n`);
    assert.deepEqual(both.lines, [
      'conf/static.yaml:5:21: warning: providers.file.filename: `filename` is ignored: `directory` is set, and only the folder is read (as Traefik)',
    ]);
    assert.deepEqual(both.config?.providers.file, {
      watch: true,
      debugLogGeneratedTemplate: false,
      directory: '/etc/d',
    });
  });

  it('refuses the v2 options Traefik v3 refuses to start with, saying so (pkg/cli/deprecation.go)', () => {
    const refused = (text: string, argv: string[] = []) => load(`${minimal}${text}`, argv).lines;
    assert.deepEqual(refused('pilot:\n  dashboard: false\n'), [
      'conf/static.yaml:4:1: pilot: `pilot` was removed in Traefik v3, which refuses to start with it: remove the Pilot section (v2-to-v3 migration: Pilot)',
    ]);
    assert.match(
      refused('providers:\n  docker:\n    swarmMode: true\n')[0]!,
      /^conf\/static\.yaml:6:5: providers\.docker\.swarmMode: `swarmMode` was removed in Traefik v3, which refuses to start with it: use the Swarm provider/,
    );
    assert.match(
      refused('experimental:\n  http3: true\n')[0]!,
      /experimental\.http3: `http3` was removed in Traefik v3/,
    );
    assert.match(
      refused('tracing:\n  jaeger: {}\n')[0]!,
      /tracing\.jaeger: `jaeger` was removed in Traefik v3/,
    );
    assert.match(
      refused('providers:\n  docker:\n    tls:\n      caOptional: true\n')[0]!,
      /providers\.docker\.tls\.caOptional: `caOptional` was removed in Traefik v3/,
    );
    assert.match(
      refused('providers:\n  consul:\n    namespace: a\n')[0]!,
      /`namespace` was removed in Traefik v3.*`namespaces`/,
    );
    assert.match(
      refused('', ['--pilot.token=x'])[0]!,
      /pilot: `pilot` was removed in Traefik v3.*\(set by --pilot\.token\)/,
    );
  });

  it('reports an unreadable file', () => {
    const r = loadStaticConfig({ file: '/nonexistent/traffic.yaml', argv: [], env: {} });
    assert.equal(r.config, undefined);
    assert.match(
      formatIssue(r.issues[0]!),
      /^\/nonexistent\/traffic\.yaml: configuration file "\/nonexistent\/traffic\.yaml" not found$/,
    );
    const dir = loadStaticConfig({ file: '/tmp', argv: [], env: {} });
    assert.equal(
      formatIssue(dir.issues[0]!),
      '/tmp: cannot read the configuration file: read /tmp: is a directory',
    );
  });
});

describe('loadStaticConfig: flags and env', () => {
  it('takes TRAFFIC_EXIT_WITH_PARENT (cli/parent-watch.ts) and the CONFIGFILE variables for no key', () => {
    const r = load(minimal, [], {
      TRAFFIC_EXIT_WITH_PARENT: '1',
      TRAFFIC_CONFIGFILE: 'x',
      TRAEFIK_CONFIGFILE: 'y',
    });
    assert.deepEqual(r.lines, []);
    assert.ok(r.config);
  });

  it('lets flags win over env, and env over the file', () => {
    const file = `${minimal}log: { level: ERROR }\n`;
    assert.equal(load(file, [], { TRAFFIC_LOG_LEVEL: 'WARN' }).config?.log.level, 'warn');
    assert.equal(load(file, ['--log.level=DEBUG'], { TRAFFIC_LOG_LEVEL: 'WARN' }).config?.log.level, 'debug');
    assert.equal(load(file, ['--log.level', 'INFO']).config?.log.level, 'info');
  });

  it("reads Traefik's TRAEFIK_ variables as ours, a TRAFFIC_ one winning for the same key", () => {
    const r = load(undefined, [], {
      TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':8080',
      TRAEFIK_PROVIDERS_FILE_FILENAME: 'dyn.yaml',
      TRAEFIK_LOG_LEVEL: 'DEBUG',
      TRAFFIC_LOG_LEVEL: 'WARN',
    });
    assert.deepEqual(r.issues, []);
    assert.equal(r.config?.entryPoints['web']?.address, ':8080');
    assert.match(r.config?.providers.file?.filename ?? '', /dyn\.yaml$/);
    assert.equal(r.config?.log.level, 'warn');
    const bad = load(undefined, [], { TRAEFIK_ENTRYPOINTS_WEB_ADRESS: ':80' });
    assert.equal(bad.config, undefined);
    assert.match(bad.issues[0]?.message ?? '', /\(set by TRAEFIK_ENTRYPOINTS_WEB_ADRESS\)$/);
  });

  it('maps env names case-insensitively onto keys and existing entry point names', () => {
    const r = load('entryPoints:\n  Web:\n    address: ":80"\n', [], {
      TRAFFIC_ENTRYPOINTS_WEB_ADDRESS: ':9090',
      TRAFFIC_ENTRYPOINTS_WEB_TRANSPORT_RESPONDINGTIMEOUTS_READTIMEOUT: '5s',
      TRAFFIC_ENTRYPOINTS_WEB_FORWARDEDHEADERS_TRUSTEDIPS: '10.0.0.0/8,::1',
      TRAFFIC_ENTRYPOINTS_WEB_FORWARDEDHEADERS_INSECURE: 'true',
      TRAFFIC_ENTRYPOINTS_WEB_TRANSPORT_KEEPALIVEMAXREQUESTS: '100',
    });
    assert.deepEqual(r.issues, []);
    const ep = r.config?.entryPoints['Web'];
    assert.equal(ep?.address, ':9090');
    assert.equal(ep?.transport.respondingTimeouts.readTimeout, 5000);
    assert.deepEqual(ep?.forwardedHeaders, {
      trustedIPs: ['10.0.0.0/8', '::1'],
      insecure: true,
      connection: [],
      notAppendXForwardedFor: false,
      addXForwardedSchemeHeaders: false,
    });
    assert.equal(ep?.transport.keepAliveMaxRequests, 100);
  });

  it('reads the Traefik v3.7 forwardedHeaders.notAppendXForwardedFor (default false), in a file and as a flag', () => {
    const file = load(`${minimal}    forwardedHeaders:\n      notAppendXForwardedFor: true\n`);
    assert.deepEqual(file.lines, []);
    assert.equal(file.config?.entryPoints['web']?.forwardedHeaders.notAppendXForwardedFor, true);
    const flag = load(minimal, ['--entryPoints.web.forwardedHeaders.notAppendXForwardedFor=true']);
    assert.deepEqual(flag.lines, []);
    assert.equal(flag.config?.entryPoints['web']?.forwardedHeaders.notAppendXForwardedFor, true);
    const bare = load(minimal, ['--entryPoints.web.forwardedHeaders.notAppendXForwardedFor']);
    assert.deepEqual(bare.lines, []);
    assert.equal(bare.config?.entryPoints['web']?.forwardedHeaders.notAppendXForwardedFor, true);
    const none = load(minimal);
    assert.equal(none.config?.entryPoints['web']?.forwardedHeaders.notAppendXForwardedFor, false);
  });

  it('accepts the Traefik v3.7 global.notAppendXForwardedFor, which does nothing there either, with a warning', () => {
    const file = load(`global:\n  notAppendXForwardedFor: true\n${minimal}`);
    assert.deepEqual(file.lines, [
      'conf/static.yaml:2:27: warning: global.notAppendXForwardedFor: `global.notAppendXForwardedFor` has no effect, as in Traefik: set `entryPoints.<name>.forwardedHeaders.notAppendXForwardedFor` on the entry points instead',
    ]);
    assert.equal(file.config?.global?.notAppendXForwardedFor, true);
    assert.equal(file.config?.entryPoints['web']?.forwardedHeaders.notAppendXForwardedFor, false);
    const flag = load(minimal, ['--global.notAppendXForwardedFor=true']);
    assert.equal(flag.config?.global?.notAppendXForwardedFor, true);
    assert.equal(flag.lines.length, 1, flag.lines.join('\n'));
    assert.deepEqual(load(`global:\n  notAppendXForwardedFor: false\n${minimal}`).lines, []);
  });

  it('warns that tcpServersTransport.terminationDelay has no effect (Traefik: DialerManager.Build, #12802), when set', () => {
    const file = load(`tcpServersTransport:\n  terminationDelay: 5s\n${minimal}`);
    assert.equal(file.lines.length, 1, file.lines.join('\n'));
    assert.match(
      file.lines[0]!,
      /^conf\/static\.yaml:2:\d+: warning: tcpServersTransport\.terminationDelay: .*has no effect/,
    );
    assert.equal(load(minimal, ['--tcpServersTransport.terminationDelay=1s']).lines.length, 1);
    assert.deepEqual(load(`tcpServersTransport:\n  dialTimeout: 5s\n${minimal}`).lines, []);
  });

  it('reads the Traefik v3.8 forwardedHeaders.addXForwardedSchemeHeaders (default false), in a file and as a flag', () => {
    const file = load(`${minimal}    forwardedHeaders:\n      addXForwardedSchemeHeaders: true\n`);
    assert.deepEqual(file.lines, []);
    assert.equal(file.config?.entryPoints['web']?.forwardedHeaders.addXForwardedSchemeHeaders, true);
    const flag = load(minimal, ['--entryPoints.web.forwardedHeaders.addXForwardedSchemeHeaders=true']);
    assert.deepEqual(flag.lines, []);
    assert.equal(flag.config?.entryPoints['web']?.forwardedHeaders.addXForwardedSchemeHeaders, true);
    assert.equal(
      load(minimal).config?.entryPoints['web']?.forwardedHeaders.addXForwardedSchemeHeaders,
      false,
    );
  });

  it("takes Traefik v3.7's providers.precedence without case, refusing a provider Traefik does not know", () => {
    const file = load(`${minimal}providers:\n  precedence: [REST, File]\n`);
    assert.deepEqual(file.lines, []);
    assert.deepEqual(file.config?.providers.precedence, ['rest', 'file']);
    const flag = load(minimal, ['--providers.precedence=docker,kubernetes']);
    assert.deepEqual(flag.config?.providers.precedence, ['docker', 'kubernetes']);
    const empty = load(`${minimal}providers:\n  precedence: []\n`);
    assert.equal(empty.config?.providers.precedence[0], 'kubernetesgateway');
    const bad = load(`${minimal}providers:\n  precedence: [file, plugin]\n`);
    assert.equal(bad.config, undefined);
    assert.match(
      bad.lines[0] ?? '',
      /^conf\/static\.yaml:5:22: providers\.precedence\[1\]: unknown provider `plugin`/,
    );
  });

  it("reads Traefik v3.8's serversTransport.forwardingTimeouts.readTimeout and writeTimeout, in a file and as a flag", () => {
    const file = load(`${minimal}serversTransport:\n  forwardingTimeouts:\n    readTimeout: 30s\n`);
    assert.deepEqual(file.lines, []);
    assert.equal(file.config?.serversTransport?.forwardingTimeouts.readTimeout, 30_000);
    const flag = load(minimal, ['--serversTransport.forwardingTimeouts.writeTimeout=30s']);
    assert.deepEqual(flag.lines, []);
    assert.equal(flag.config?.serversTransport?.forwardingTimeouts.writeTimeout, 30_000);
  });

  it('builds a whole configuration from flags alone', () => {
    const r = load(undefined, [
      '--entryPoints.web.address=:9090',
      '--accessLog',
      '--providers.file.filename',
      'dyn.yaml',
    ]);
    assert.deepEqual(r.issues, []);
    assert.equal(r.config?.entryPoints['web']?.address, ':9090');
    assert.deepEqual(r.config?.accessLog, {
      filePath: '',
      format: 'common',
      bufferingSize: 0,
      addInternals: false,
      dualOutput: false,
    });
    assert.deepEqual(r.config?.providers.file, {
      filename: join(process.cwd(), 'dyn.yaml'),
      watch: true,
      debugLogGeneratedTemplate: false,
    });
  });

  it('can remove a section with =false', () => {
    const r = load(`${minimal}accessLog: {}\n`, ['--accessLog=false']);
    assert.equal(r.config?.accessLog, undefined);
  });

  it('rejects flags and env variables that name unknown or unsupported keys', () => {
    const r = load(minimal, ['--entryPoints.web.adress=:1', '--spiffe.workloadAPIAddr=x', '--otlp=true'], {
      TRAFFIC_LOG_COLOR: 'x',
      TRAFFIC_HTTP_ROUTERS_A_RULE: 'x',
    });
    assert.equal(r.config, undefined);
    assert.deepEqual(r.lines, [
      'http: dynamic configuration (`http`) cannot be set by flags or environment (set by TRAFFIC_HTTP_ROUTERS_A_RULE)',
      'log.COLOR: unknown key `COLOR` (set by TRAFFIC_LOG_COLOR)',
      'entryPoints.web.adress: unknown key `adress` (did you mean `address`?) (set by --entryPoints.web.adress)',
      'otlp: unknown key `otlp` (set by --otlp)',
      'spiffe.workloadAPIAddr: workload endpoint socket URI must have a "tcp" or "unix" scheme (set by --spiffe.workloadAPIAddr) (expected unix:///run/spire/agent.sock)',
    ]);
  });

  it('attributes a bad overridden value to its flag, without a file position', () => {
    const r = load(minimal, ['--entryPoints.web.address=nonsense']);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.file, undefined);
    assert.match(
      r.lines[0]!,
      /^entryPoints\.web\.address: invalid address "nonsense" \(set by --entryPoints\.web\.address\)/,
    );
  });

  it('attributes a missing key in an entry point created by env to that variable', () => {
    const r = load(minimal, [], { TRAFFIC_ENTRYPOINTS_ADMIN_TRANSPORT_KEEPALIVEMAXREQUESTS: '3' });
    assert.deepEqual(r.lines, [
      "warning: entryPoints.admin.address: no address (set by TRAFFIC_ENTRYPOINTS_ADMIN_TRANSPORT_KEEPALIVEMAXREQUESTS): the entry point listens on a port the system chooses, on every interface, as Traefik (Go's net.Listen)",
    ]);
  });

  it('refuses __proto__ in a flag, which would otherwise write to Object.prototype', () => {
    const r = load(minimal, ['--entryPoints.__proto__.address=:1']);
    assert.equal(r.config, undefined);
    assert.match(r.lines[0]!, /`__proto__` is not allowed/);
    assert.equal(Object.hasOwn(Object.prototype, 'address'), false);
  });

  it('ignores TRAFFIC_CONFIGFILE, which names the file rather than a key', () => {
    assert.deepEqual(load(minimal, [], { TRAFFIC_CONFIGFILE: 'x.yaml' }).issues, []);
  });

  it('rejects stray positional arguments', () => {
    assert.deepEqual(load(minimal, ['oops']).lines, ['unexpected argument "oops"']);
  });
});

describe('loadStaticConfig: dynamic sections in the static file (Traefik ignores them)', () => {
  const dyn = `http:\n  routers:\n    r: { rule: "PathPrefix(\`/\`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }\n`;

  it('warns that each one is ignored, at its key', () => {
    const r = load(`${minimal}${dyn}tcp: { routers: [] }\n`);
    assert.ok(r.config);
    assert.deepEqual(r.lines, [
      'conf/static.yaml:4:1: warning: http: `http` is dynamic configuration, which is read from providers only: it is ignored in the static file, as Traefik ignores it (put it in a file of `providers.file`, which may name this file)',
      'conf/static.yaml:9:1: warning: tcp: `tcp` is dynamic configuration, which is read from providers only: it is ignored in the static file, as Traefik ignores it (put it in a file of `providers.file`, which may name this file)',
    ]);
  });

  it('says nothing when the file provider reads this file (filename, or a folder holding it)', () => {
    const cwd = process.cwd();
    for (const fp of [
      'filename: conf/static.yaml',
      `filename: ${cwd}/conf/static.yaml`,
      'directory: conf',
      'directory: .',
    ]) {
      const r = load(`${minimal}providers:\n  file:\n    ${fp}\n${dyn}`);
      assert.deepEqual(r.lines, [], fp);
    }
    const other = load(`${minimal}providers:\n  file:\n    filename: conf/other.yaml\n${dyn}`);
    assert.equal(other.lines.length, 1);
  });
});

describe('loadStaticConfig: providers.kubernetesGateway scoping (Traefik`s keys)', () => {
  it('reads gateways as namespace/name or {namespace, name}, gatewayClasses, disableGatewayClassStatus', () => {
    const r = load(
      `${minimal}providers:\n  kubernetesGateway:\n    gateways: [default/one, { namespace: ns, name: two }]\n    gatewayClasses: [traefik]\n    disableGatewayClassStatus: true\n    crossProviderNamespaces: []\n`,
    );
    assert.deepEqual(r.lines, []);
    const gw = r.config?.providers?.kubernetesGateway;
    assert.deepEqual(gw?.gateways, ['default/one', 'ns/two']);
    assert.deepEqual(gw?.gatewayClasses, ['traefik']);
    assert.equal(gw?.disableGatewayClassStatus, true);
    assert.deepEqual(gw?.crossProviderNamespaces, []);
    const bad = load(`${minimal}providers:\n  kubernetesGateway:\n    gateways: [just-a-name]\n`);
    assert.ok(
      bad.lines.some((l) => l.includes('must be namespace/name')),
      bad.lines.join('\n'),
    );
    const iso = load(`${minimal}providers:\n  kubernetesGateway:\n    gatewayIsolation: true\n`);
    assert.ok(
      iso.lines.some((l) => /gatewayIsolation.*not supported/.test(l)),
      iso.lines.join('\n'),
    );
  });
});

describe('loadStaticConfig: every problem in one run', () => {
  it('reports the checks across keys and the format warnings beside a refused key', () => {
    const r = load(`entryPoints:
  web:
    address: "127.0.0.1:8080"
    http:
      redirections:
        entryPoint: { to: websecur, scheme: https }
api:
  dashbord: true
log:
  level: VERBOSE
certificatesResolvers:
  le:
    acme:
      storage: acme.json
      httpChallenge: { entryPoint: webb }
`);
    assert.equal(r.config, undefined);
    assert.deepEqual(r.lines.sort(), [
      'conf/static.yaml:10:10: warning: log.level: invalid log level "VERBOSE": the level is ERROR, as Traefik sets it ("Unspecified or invalid log level, setting the level to default (ERROR)"); one of DEBUG, INFO, WARN, ERROR',
      'conf/static.yaml:15:36: certificatesResolvers.le.acme.httpChallenge.entryPoint: unknown entry point `webb`',
      'conf/static.yaml:6:27: entryPoints.web.http.redirections.entryPoint.to: unknown entry point `websecur`',
      'conf/static.yaml:8:3: api.dashbord: unknown key `dashbord` (did you mean `dashboard`?)',
    ]);
  });

  it('says nothing more about a key it had to leave out', () => {
    const r = load(
      'entryPoints:\n  web:\n    address: 5\n    http:\n      redirections:\n        entryPoint: { to: web }\n',
    );
    assert.deepEqual(r.lines, [
      'conf/static.yaml:3:14: entryPoints.web.address: invalid address "5" (expected host:port, :port or [ipv6]:port)',
      'conf/static.yaml:6:27: entryPoints.web.http.redirections.entryPoint.to: entry point `web` cannot redirect to itself',
    ]);
  });
});

describe("static sections Traefik does not tag allowEmpty, in the file, flags and env (paerser's addMetadata)", () => {
  const refusedLine = (r: ReturnType<typeof load>) =>
    r.lines.find((l) => l.includes('cannot be a standalone element'));

  it('refuses an empty accessLog.filters, accessLog.fields and its headers in the file', () => {
    // logs.go AccessLog.Filters/Fields, AccessLogFields.Headers have no allowEmpty tag. (An empty
    // providers.file loads: Traefik v3's TestSimpleConfigurationNoPanic starts on one.)
    for (const [text, key] of [
      ['accessLog:\n  filters: {}\n', 'filters'],
      ['accessLog:\n  fields: {}\n', 'fields'],
      ['accessLog:\n  fields:\n    headers: {}\n', 'headers'],
    ] as const) {
      const r = load(`${minimal}${text}`);
      assert.equal(r.config, undefined, text);
      assert.match(refusedLine(r) ?? '', new RegExp(`\`${key}\` cannot be a standalone element`), text);
    }
  });

  it('takes the allowEmpty ones empty: metrics exporters, tracing and access-log otlp, ACME tlsChallenge', () => {
    for (const text of [
      'metrics:\n  prometheus: {}\n',
      'tracing:\n  otlp: {}\n',
      'accessLog:\n  otlp: {}\nexperimental:\n  otlpLogs: true\n',
      'accessLog:\n  filters:\n    retryAttempts: true\n',
    ]) {
      const r = load(`${minimal}${text}`);
      assert.equal(refusedLine(r), undefined, `${text}: ${r.lines.join('; ')}`);
    }
  });

  it('refuses a flag or env variable that turns such a section on with nothing under it', () => {
    for (const [argv, env, origin] of [
      [['--core'], {}, '--core'],
      [['--metrics'], {}, '--metrics'],
      [['--accesslog.filters=true'], {}, '--accesslog.filters'],
      [[], { TRAEFIK_METRICS: 'true' }, 'TRAEFIK_METRICS'],
      [[], { TRAEFIK_ENTRYPOINTS_WEB_HTTP2: 'true' }, 'TRAEFIK_ENTRYPOINTS_WEB_HTTP2'],
    ] as const) {
      const r = load(minimal, [...argv], { ...env });
      assert.equal(r.config, undefined, origin);
      assert.match(refusedLine(r) ?? '', new RegExp(`set by ${origin}`), origin);
    }
    // With a key under it, or an allowEmpty section, it loads.
    for (const argv of [
      ['--providers.file', '--providers.file.directory=/etc/d'],
      ['--metrics.prometheus'],
      ['--ping'],
    ]) {
      const r = load(minimal, argv);
      assert.equal(refusedLine(r), undefined, argv.join(' '));
    }
  });
});

describe('accessLog.filters.statusCodes, read as Traefik reads them', () => {
  it("loads a list NewHTTPCodeRanges cannot read, with Traefik's error as a warning", () => {
    const r = load(`${minimal}accessLog:\n  filters:\n    statusCodes: ["200", "4xx"]\n`);
    assert.deepEqual(r.config?.accessLog?.filters?.statusCodes, ['200', '4xx']);
    assert.deepEqual(r.lines, [
      'conf/static.yaml:6:18: warning: accessLog.filters.statusCodes: Failed to create new HTTP code ranges: strconv.Atoi: parsing "4xx": invalid syntax: the access log has no status filter (as Traefik)',
    ]);
    // Any numbers Atoi reads load without a word.
    assert.deepEqual(load(`${minimal}accessLog:\n  filters:\n    statusCodes: ["0-999", 404]\n`).lines, []);
  });
});
