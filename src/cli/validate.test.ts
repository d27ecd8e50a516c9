import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { checkRule } from '../runtime/rule-checks.ts';
import { selfSignedCertificate } from '../tls/x509/index.ts';
import { TestPki } from '../upstream/test-pki.ts';
import { runValidate } from './validate.ts';

async function dirWith(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'traffic-validate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/**
 * `traffic validate` run from the static file's folder, as a user runs it there: relative paths
 * in the configuration are relative to the working directory, as in Traefik.
 */
async function validate(
  file: string | undefined,
  argv: string[] = [],
  env: NodeJS.ProcessEnv = {},
  cwd: string | undefined = file === undefined ? undefined : dirname(file),
) {
  let out = '';
  const before = process.cwd();
  if (cwd !== undefined) process.chdir(cwd);
  try {
    const code = await runValidate(file, argv, env, checkRule, undefined, (s) => {
      out += s;
    });
    return { code, lines: out.trimEnd().split('\n') };
  } finally {
    process.chdir(before);
  }
}

const staticYaml = `entryPoints:
  web:
    address: "127.0.0.1:8080"
providers:
  file:
    filename: dynamic.yaml
`;

const dynamicYaml = `http:
  routers:
    all:
      rule: "PathPrefix(\`/\`)"
      service: demo
    api:
      rule: "PathPrefix(\`/api\`)"
      middlewares: [strip]
      service: demo
  middlewares:
    strip: { stripPrefix: { prefixes: [/api] } }
  services:
    demo:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9101" }, { url: "http://127.0.0.1:9102" }]
`;

describe('runValidate', () => {
  it('exits 0 and counts objects for a good configuration', async (t) => {
    const dir = await dirWith(t, { 'traffic.yaml': staticYaml, 'dynamic.yaml': dynamicYaml });
    assert.deepEqual(await validate(join(dir, 'traffic.yaml')), {
      code: 0,
      lines: ['configuration OK: 2 routers, 1 services, 1 middlewares'],
    });
  });

  it('validates the shipped example, from the repository root as its file provider path says', async () => {
    const root = new URL('../../', import.meta.url).pathname;
    const r = await validate(join(root, 'config/example.yaml'), [], {}, root);
    assert.deepEqual(r, { code: 0, lines: ['configuration OK: 2 routers, 1 services, 1 middlewares'] });
  });

  it('points a bad rule at the exact character, in the dynamic file', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': staticYaml,
      'dynamic.yaml': dynamicYaml.replace('"PathPrefix(`/api`)"', '"PathPrefix(`/api`) && Nope(`x`)"'),
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines, [
      `${join(dir, 'dynamic.yaml')}:7:36: http.routers.api.rule: invalid rule: unknown matcher "Nope"`,
      'configuration has 1 error',
    ]);
  });

  it('reports what the build disables, as the proxy and traffic explain do, located in the file', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': staticYaml,
      'dynamic.yaml': `http:
  routers:
    r:
      rule: "PathPrefix(\`/\`)"
      middlewares: [auth]
      service: s
  middlewares:
    auth:
      basicAuth:
        users: []
    other:
      basicAuth:
        usersFile: ./missing-users
  services:
    s:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9" }]
`,
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    const file = join(dir, 'dynamic.yaml');
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines, [
      `${file}:5:21: http.routers.r.middlewares[0]: middleware \`auth@file\` is disabled because of its own errors`,
      `${file}:8:5: http.middlewares.auth: no users: basicAuth needs at least one user`,
      `${file}:11:5: http.middlewares.other: cannot read usersFile "./missing-users": ENOENT`,
      'configuration has 3 errors',
    ]);
  });

  it('reports unknown keys, a missing service and a bad duration together', async (t) => {
    const dir = await dirWith(t, {
      // The file provider reads the folder, the static file in it too (its dynamic sections).
      'traffic.yaml': `${staticYaml.replace('filename: dynamic.yaml', 'directory: .')}http:\n  routers:\n    extra: { rule: "Path(\`/x\`)", service: ghost }\n`,
      'dynamic.yaml': `${dynamicYaml}  serversTransports:\n    t: { forwardingTimeouts: { dialTimeout: fast }, colour: red, http3: {} }\n`,
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    const d = join(dir, 'dynamic.yaml');
    const s = join(dir, 'traffic.yaml');
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines, [
      `${d}:17:45: http.serversTransports.t.forwardingTimeouts.dialTimeout: invalid duration "fast" (expected a duration such as 10s, 1m30s, 250ms, or a whole number of seconds)`,
      `${d}:17:53: http.serversTransports.t.colour: unknown key \`colour\``,
      `${d}:17:66: http.serversTransports.t.http3: unknown key \`http3\``,
      `${s}:9:43: http.routers.extra.service: service \`ghost\` does not exist`,
      'configuration has 4 errors',
    ]);
  });

  it('ignores the static file`s own dynamic sections, with a warning, when no provider reads it (as Traefik)', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': `${staticYaml}http:\n  routers:\n    extra: { rule: "Path(\`/x\`)", service: ghost }\n`,
      'dynamic.yaml': dynamicYaml,
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.deepEqual(r, {
      code: 0,
      lines: [
        `${join(dir, 'traffic.yaml')}:7:1: warning: http: \`http\` is dynamic configuration, which is read from providers only: it is ignored in the static file, as Traefik ignores it (put it in a file of \`providers.file\`, which may name this file)`,
        'configuration OK: 2 routers, 1 services, 1 middlewares',
      ],
    });
  });

  it('checks each rule in the syntax the proxy reads it with: core.defaultRuleSyntax, else v3', async (t) => {
    // A v3-only matcher (QueryRegexp) under `defaultRuleSyntax: v2`, and a v2-only form (Host
    // with two domains) without `core`: the proxy disables both routers (Traefik's muxer parses a
    // router's rule in its syntax, applyModel giving it core.defaultRuleSyntax); validate says so.
    const router = (rule: string) =>
      `http:\n  routers:\n    r: { rule: "${rule}", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n`;
    for (const [core, rule, ok] of [
      ['core: { defaultRuleSyntax: v2 }\n', 'QueryRegexp(`a`, `^b`)', false],
      ['core: { defaultRuleSyntax: v2 }\n', 'Host(`a.test`, `b.test`)', true],
      ['', 'Host(`a.test`, `b.test`)', false],
      ['', 'QueryRegexp(`a`, `^b`)', true],
    ] as const) {
      const dir = await dirWith(t, { 'traffic.yaml': `${staticYaml}${core}`, 'dynamic.yaml': router(rule) });
      const r = await validate(join(dir, 'traffic.yaml'));
      const errors = r.lines.filter((l) => !l.includes(': warning: '));
      if (ok)
        assert.deepEqual(
          errors,
          ['configuration OK: 1 routers, 1 services, 0 middlewares'],
          `${core}${rule}`,
        );
      else {
        assert.equal(r.code, 1, `${core}${rule}: ${r.lines.join('\n')}`);
        assert.match(
          errors[0]!,
          new RegExp(`^${join(dir, 'dynamic.yaml')}:3:\\d+: http\\.routers\\.r\\.rule: invalid rule: `),
        );
      }
    }
  });

  it('checks the dynamic files too when the static file has errors, and reports all of them at once', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': `${staticYaml.replace('    address', '    adress: ":1"\n    address')}log: { maxSize: lots }\n`,
      'dynamic.yaml': dynamicYaml.replace('"PathPrefix(`/api`)"', '"PathPrefix(`/api`) && Nope(`x`)"'),
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    const s = join(dir, 'traffic.yaml');
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines, [
      `${join(dir, 'dynamic.yaml')}:7:36: http.routers.api.rule: invalid rule: unknown matcher "Nope"`,
      `${s}:3:5: entryPoints.web.adress: unknown key \`adress\` (did you mean \`address\`?)`,
      `${s}:8:17: log.maxSize: wrong type: got "lots" (expected a number)`,
      'configuration has 3 errors',
    ]);
  });

  it('refuses a YAML alias bomb, in the static or a dynamic file, with a clear error', async (t) => {
    const bomb = `${['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat([...'bcdefg'].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`))
      .join('\n')}\n`;
    const message =
      'YAML aliases expand too much (more than 1000 nodes): refused as a resource exhaustion attack; write the values out or use fewer aliases';
    const dir = await dirWith(t, { 'traffic.yaml': staticYaml, 'dynamic.yaml': bomb, 'bomb.yaml': bomb });
    assert.deepEqual(await validate(join(dir, 'traffic.yaml')), {
      code: 1,
      lines: [`${join(dir, 'dynamic.yaml')}: ${message}`, 'configuration has 1 error'],
    });
    assert.deepEqual(await validate(join(dir, 'bomb.yaml')), {
      code: 1,
      lines: [`${join(dir, 'bomb.yaml')}: ${message}`, 'configuration has 1 error'],
    });
  });

  it('checks router entry points against the entry points of a static file with errors', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': `${staticYaml}log: { maxSize: lots }\n`,
      'dynamic.yaml': dynamicYaml.replace(
        '      service: demo\n    api:',
        '      service: demo\n      entryPoints: [webb]\n    api:',
      ),
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 1);
    assert.ok(
      r.lines.some((l) => l.endsWith('http.routers.all.entryPoints[0]: entry point `webb` does not exist')),
      r.lines.join('\n'),
    );
  });

  it('warns about a certResolver that names no resolver, on a router and on an entry point (Traefik serves them)', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': `${staticYaml.replace('    address: "127.0.0.1:8080"', '    address: "127.0.0.1:8080"\n    http: { tls: { certResolver: letsencrypt } }')}`,
      'dynamic.yaml': dynamicYaml.replace(
        '      service: demo\n    api:',
        '      service: demo\n      tls: { certResolver: le }\n    api:',
      ),
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 0, r.lines.join('\n'));
    const text = r.lines.join('\n');
    assert.match(
      text,
      /dynamic\.yaml:6:28: warning: http\.routers\.all\.tls\.certResolver: certificate resolver `le` does not exist/,
    );
    assert.match(
      text,
      /traffic\.yaml:4:34: warning: entryPoints\.web\.http\.tls\.certResolver: certificate resolver `letsencrypt` does not exist/,
    );
  });

  it('says a Traefik key is not supported yet, by name', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': staticYaml.replace('    address', '    http3: {}\n    address'),
      'dynamic.yaml': dynamicYaml,
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.deepEqual(r, {
      code: 1,
      lines: [
        `${join(dir, 'traffic.yaml')}:3:5: entryPoints.web.http3: \`http3\` is not supported yet`,
        'configuration has 1 error',
      ],
    });
  });

  it('reports a YAML syntax error with its position', async (t) => {
    const dir = await dirWith(t, { 'traffic.yaml': staticYaml, 'dynamic.yaml': 'http:\n  routers: {\n' });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.lines[0]!, new RegExp(`^${join(dir, 'dynamic.yaml')}:3:1: YAML syntax error`));
  });

  it('reports a missing dynamic file', async (t) => {
    const dir = await dirWith(t, { 'traffic.yaml': staticYaml });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.lines[0]!, /dynamic\.yaml: cannot read the file \(ENOENT/);
  });

  it('applies flag and env overrides, flags winning', async (t) => {
    const dir = await dirWith(t, { 'traffic.yaml': staticYaml, 'dynamic.yaml': dynamicYaml });
    const file = join(dir, 'traffic.yaml');
    assert.equal((await validate(file, ['--log.maxSize=5'], { TRAFFIC_LOG_MAXSIZE: 'nonsense' })).code, 0);
    assert.deepEqual((await validate(file, [], { TRAFFIC_LOG_MAXSIZE: 'nonsense' })).lines, [
      'log.maxSize: wrong type: got "nonsense" (set by TRAFFIC_LOG_MAXSIZE) (expected a number)',
      'configuration has 1 error',
    ]);
    assert.deepEqual((await validate(file, ['--entryPoints.web.adress=:1'])).lines, [
      'entryPoints.web.adress: unknown key `adress` (did you mean `address`?) (set by --entryPoints.web.adress)',
      'configuration has 1 error',
    ]);
  });

  it('checks router entry points against the static ones', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': staticYaml,
      'dynamic.yaml': dynamicYaml.replace(
        'service: demo\n    api',
        'service: demo\n      entryPoints: [websecure]\n    api',
      ),
    });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 1);
    assert.match(
      r.lines[0]!,
      /:6:21: http\.routers\.all\.entryPoints\[0\]: entry point `websecure` does not exist$/,
    );
  });

  it('reads every YAML file of a providers.file directory', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': staticYaml.replace('filename: dynamic.yaml', 'directory: conf.d'),
      'conf.d/routers.yaml': 'http:\n  routers:\n    r: { rule: "Path(`/`)", service: s }\n',
      'conf.d/services.yml':
        'http:\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }\n',
    });
    assert.deepEqual(await validate(join(dir, 'traffic.yaml')), {
      code: 0,
      lines: ['configuration OK: 1 routers, 1 services, 0 middlewares'],
    });
  });

  it('prints warnings but still exits 0', async (t) => {
    const dir = await dirWith(t, { 'traffic.yaml': 'log: { level: INFO }\n' });
    const r = await validate(join(dir, 'traffic.yaml'));
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines, [
      "warning: entryPoints: no entry point is defined: Traefik's default entry point `http` listens on :80",
      'configuration OK: 0 routers, 0 services, 0 middlewares',
    ]);
  });

  it('checks the environment variables of DNS-01 providers, as run does before it listens', async (t) => {
    const staticWithDns = `entryPoints:
  web:
    address: "127.0.0.1:8080"
certificatesResolvers:
  dns:
    acme:
      email: a@b.test
      storage: acme.json
      dnsChallenge: { provider: exec }
`;
    const dir = await dirWith(t, { 'traffic.yaml': staticWithDns });
    const file = join(dir, 'traffic.yaml');
    const missing = await validate(file, [], {});
    assert.equal(missing.code, 1);
    // Located at the resolver's provider, as every other issue.
    assert.match(
      missing.lines[0]!,
      /traffic\.yaml:9:33: certificatesResolvers\.dns\.acme\.dnsChallenge \(provider exec\): .*EXEC_PATH/,
    );
    assert.deepEqual(await validate(file, [], { EXEC_PATH: '/usr/local/bin/dns-hook' }), {
      code: 0,
      lines: ['configuration OK: 0 routers, 0 services, 0 middlewares'],
    });
  });

  it('warns about dnsChallenge keys that Traefik deprecates, and still passes', async (t) => {
    const dir = await dirWith(t, {
      'traffic.yaml': `entryPoints:
  web:
    address: "127.0.0.1:8080"
certificatesResolvers:
  dns:
    acme:
      email: a@b.test
      dnsChallenge: { provider: exec, delayBeforeCheck: 10, disablePropagationCheck: true }
`,
    });
    const r = await validate(join(dir, 'traffic.yaml'), [], { EXEC_PATH: '/usr/local/bin/dns-hook' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines, [
      `${join(dir, 'traffic.yaml')}:8:57: warning: certificatesResolvers.dns.acme.dnsChallenge.delayBeforeCheck: \`delayBeforeCheck\` is deprecated: use \`propagation.delayBeforeChecks\``,
      `${join(dir, 'traffic.yaml')}:8:86: warning: certificatesResolvers.dns.acme.dnsChallenge.disablePropagationCheck: \`disablePropagationCheck\` is deprecated: use \`propagation.disableChecks\``,
      'configuration OK: 0 routers, 0 services, 0 middlewares',
    ]);
  });

  describe('TLS', () => {
    const certA = selfSignedCertificate(['a.test']);
    const certB = selfSignedCertificate(['b.test']);
    const tlsStatic = `entryPoints:
  websecure:
    address: "127.0.0.1:8443"
    http: { tls: {} }
providers:
  file:
    filename: dynamic.yaml
`;

    it('reads the certificate files and reports a key that does not match, at its line', async (t) => {
      const dir = await dirWith(t, {
        'traffic.yaml': tlsStatic,
        'a.pem': certA.certPem,
        'b.key': certB.keyPem,
        'a.key': certA.keyPem,
      });
      await writeFile(
        join(dir, 'dynamic.yaml'),
        `tls:
  certificates:
    - certFile: ${join(dir, 'a.pem')}
      keyFile: ${join(dir, 'a.key')}
    - certFile: ${join(dir, 'a.pem')}
      keyFile: ${join(dir, 'b.key')}
`,
      );
      const r = await validate(join(dir, 'traffic.yaml'));
      assert.equal(r.code, 1);
      assert.equal(r.lines.length, 2, r.lines.join('\n'));
      assert.match(
        r.lines[0]!,
        /dynamic\.yaml:5:\d+: tls\.certificates\[1\].*private key does not match the certificate/,
      );
      assert.equal(r.lines[1], 'configuration has 1 error');
    });

    it('warns, at the certificate in the file, when a certificate file lacks its intermediate', async (t) => {
      const root = new TestPki('Validate Root');
      const intermediate = new TestPki('Validate Intermediate', root);
      t.after(() => {
        root.remove();
        intermediate.remove();
      });
      const leaf = intermediate.issue('chain.test', ['chain.test']);
      const dir = await dirWith(t, {
        'traffic.yaml': tlsStatic,
        'leaf.pem': leaf.certPem,
        'full.pem': leaf.certPem + intermediate.ca.certPem + root.ca.certPem,
        'leaf.key': leaf.keyPem,
      });
      await writeFile(
        join(dir, 'dynamic.yaml'),
        `tls:
  certificates:
    - certFile: ${join(dir, 'full.pem')}
      keyFile: ${join(dir, 'leaf.key')}
    - certFile: ${join(dir, 'leaf.pem')}
      keyFile: ${join(dir, 'leaf.key')}
`,
      );
      const r = await validate(join(dir, 'traffic.yaml'));
      assert.equal(r.code, 0, r.lines.join('\n'));
      assert.equal(r.lines.length, 2, r.lines.join('\n'));
      assert.equal(
        r.lines[0],
        `${join(dir, 'dynamic.yaml')}:5:7: warning: tls.certificates[1]: ${join(dir, 'leaf.pem')}: the chain does not reach a known root: add the intermediate certificate(s) after the certificate in the file (no certificate for issuer "CN=Validate Intermediate" in the file or among node's trusted roots)`,
      );
      assert.match(r.lines[1]!, /^configuration OK/);
    });

    it('reports a missing certificate file and an unknown options name, each in the file', async (t) => {
      const dir = await dirWith(t, { 'traffic.yaml': tlsStatic });
      await writeFile(
        join(dir, 'dynamic.yaml'),
        `http:
  routers:
    r:
      rule: "Host(\`a.test\`)"
      service: s
      tls: { options: nope }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
tls:
  certificates:
    - { certFile: ${join(dir, 'missing.pem')}, keyFile: ${join(dir, 'missing.key')} }
`,
      );
      const r = await validate(join(dir, 'traffic.yaml'));
      assert.equal(r.code, 1, r.lines.join('\n'));
      const text = r.lines.join('\n');
      assert.match(text, /dynamic\.yaml:6:\d+: http\.routers\.r\.tls\.options: unknown TLS options `nope`/);
      assert.match(text, /dynamic\.yaml:11:\d+: tls\.certificates\[0\]\.certFile: .*missing\.pem/);
    });

    it('accepts good certificates, options and a known resolver for defaultGeneratedCert', async (t) => {
      const dir = await dirWith(t, {
        'traffic.yaml': `${tlsStatic}certificatesResolvers:
  le:
    acme:
      email: a@b.test
      storage: acme.json
      httpChallenge: { entryPoint: websecure }
`,
        'a.pem': certA.certPem,
        'a.key': certA.keyPem,
      });
      await writeFile(
        join(dir, 'dynamic.yaml'),
        `tls:
  certificates:
    - { certFile: ${join(dir, 'a.pem')}, keyFile: ${join(dir, 'a.key')} }
  options:
    modern: { minVersion: VersionTLS13 }
  stores:
    default:
      defaultGeneratedCert: { resolver: le, domain: { main: a.test } }
`,
      );
      const ok = await validate(join(dir, 'traffic.yaml'));
      assert.deepEqual(ok, { code: 0, lines: ['configuration OK: 0 routers, 0 services, 0 middlewares'] });
      await writeFile(
        join(dir, 'dynamic.yaml'),
        `tls:
  stores:
    default:
      defaultGeneratedCert: { resolver: other, domain: { main: a.test } }
`,
      );
      // A warning, as Traefik starts with it (pkg/tls/tlsmanager.go getDefaultCertificate).
      const unknown = await validate(join(dir, 'traffic.yaml'));
      assert.equal(unknown.code, 0, unknown.lines.join('\n'));
      assert.match(
        unknown.lines.join('\n'),
        /dynamic\.yaml:4:\d+: warning: tls\.stores\.default\.defaultGeneratedCert\.resolver: unknown certificate resolver `other`/,
      );
    });
  });
});
