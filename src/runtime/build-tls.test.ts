import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDynamic } from '../config/dynamic/parse.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { GeneratedDefaultCertificate } from '../tls/index.ts';
import { selfSignedCertificate } from '../tls/x509/index.ts';
import { buildTls } from './build-tls.ts';

const generated = new GeneratedDefaultCertificate();
// What the resolver obtains for defaultGeneratedCert's domain (main and sans).
const acmeCert = selfSignedCertificate(['acme-default.test', 'www.acme-default.test']);
const mainOnly = selfSignedCertificate(['acme-default.test']);
const fileCert = selfSignedCertificate(['file.test']);
const bothInFile = selfSignedCertificate(['www.acme-default.test', 'acme-default.test', 'other.test']);

function build(yaml: string, extra: readonly { certPem: string; keyPem: string }[] = []) {
  const parsed = parseDynamic(yaml, 'dyn.yaml');
  assert.ok(parsed.config, JSON.stringify(parsed.issues));
  // Named as after the merge of providers: `name@file`.
  const at = <T>(o: Record<string, T>, keep = (_: string) => false): Record<string, T> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [keep(k) ? k : `${k}@file`, v]));
  parsed.config.http.routers = at(parsed.config.http.routers);
  parsed.config.tls.options = at(parsed.config.tls.options, (k) => k === 'default');
  const issues: ConfigIssue[] = [];
  const files: Record<string, string> = {
    'f.pem': fileCert.certPem,
    'f.key': fileCert.keyPem,
    'b.pem': bothInFile.certPem,
    'b.key': bothInFile.keyPem,
  };
  const tls = buildTls(
    parsed.config,
    {
      entryPoints: new Map(),
      generated,
      build: buildTls,
      extraCertificates: () => extra.map((c, i) => ({ ...c, source: `acme:${i}` })),
    },
    issues,
    (p) => {
      const f = files[p];
      if (f === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), {
          code: 'ENOENT',
          syscall: 'open',
        });
      return f;
    },
  );
  return { tls, issues };
}

const WITH_GENERATED = `tls:
  stores:
    default:
      defaultGeneratedCert: { resolver: le, domain: { main: acme-default.test, sans: [www.acme-default.test] } }
`;

// Traefik's pkg/tls/tlsmanager.go getDefaultCertificate: the default store's certificate for
// every one of the domains (CertificateStore.GetCertificate), whoever put it there.
describe('buildTls: tls.stores.default.defaultGeneratedCert', () => {
  it("serves the store's certificate for main and sans as the default once there is one", () => {
    const { tls, issues } = build(WITH_GENERATED, [mainOnly, acmeCert]);
    assert.deepEqual(issues, []);
    assert.equal(tls.store.defaultCertificate.certPem, acmeCert.certPem);
    assert.equal(tls.store.defaultCertificate.generated, false);
  });

  it('serves the generated certificate while none has all the names (main alone is not enough)', () => {
    const none = build(WITH_GENERATED);
    assert.deepEqual(none.issues, []);
    assert.equal(none.tls.store.defaultCertificate.certPem, generated.get().certPem);
    const partial = build(WITH_GENERATED, [mainOnly]);
    assert.equal(partial.tls.store.defaultCertificate.certPem, generated.get().certPem);
  });

  it("takes a configured file's certificate that has the names too, and reads them in lower case without a final dot", () => {
    const { tls, issues } = build(
      `tls:
  certificates:
    - { certFile: b.pem, keyFile: b.key }
  stores:
    default:
      defaultGeneratedCert: { resolver: le, domain: { main: ACME-Default.test., sans: [WWW.acme-default.test] } }
`,
    );
    assert.deepEqual(issues, []);
    assert.equal(tls.store.defaultCertificate.certPem, bothInFile.certPem);
  });

  // Traefik's getDefaultCertificate looks the domains up whatever the resolver (validate.ts warns
  // when it does not exist: tls-warnings.ts defaultGeneratedCertWarnings).
  it('takes a certificate with the names whatever the resolver, else the generated one', () => {
    const { tls, issues } = build(WITH_GENERATED, [acmeCert]);
    assert.deepEqual(issues, []);
    assert.equal(tls.store.defaultCertificate.certPem, acmeCert.certPem);
    assert.equal(build(WITH_GENERATED).tls.store.defaultCertificate.certPem, generated.get().certPem);
  });

  // Traefik's acme provider (watchNewDomains) warns and gives defaultCertificate precedence.
  it('ignores defaultGeneratedCert next to defaultCertificate: defaultCertificate serves', () => {
    const { tls, issues } = build(
      `tls:
  stores:
    default:
      defaultCertificate: { certFile: f.pem, keyFile: f.key }
      defaultGeneratedCert: { resolver: le, domain: { main: acme-default.test } }
`,
      [acmeCert],
    );
    assert.deepEqual(issues, []);
    assert.equal(tls.store.defaultCertificate.certPem, fileCert.certPem);
  });

  it('keeps the configured defaultCertificate, or the generated one, when the option is absent', () => {
    const configured = build(`tls:
  stores:
    default:
      defaultCertificate: { certFile: f.pem, keyFile: f.key }
`);
    assert.deepEqual(configured.issues, []);
    assert.equal(configured.tls.store.defaultCertificate.certPem, fileCert.certPem);
    const none = build('tls:\n', [acmeCert]);
    assert.equal(none.tls.store.defaultCertificate.certPem, generated.get().certPem);
  });
});

describe('buildTls: an options set that cannot be built', () => {
  // Traefik's tlsmanager Get fails for the routers naming it ("building TLS config"), as for a
  // name that does not exist; build-per-object.ts disables those routers only.
  it('leaves the set out with its error and calls it `unusable` on the routers naming it', () => {
    const { tls, issues } = build(`http:
  routers:
    one: { rule: "Host(\`a.test\`)", service: s, tls: { options: mtls } }
    two: { rule: "Host(\`b.test\`)", service: s, tls: { options: nope } }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
tls:
  options:
    mtls: { clientAuth: { caFiles: [missing.pem], clientAuthType: RequireAndVerifyClientCert } }
`);
    assert.equal(tls.options.has('mtls@file'), false);
    assert.deepEqual(
      issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      [
        'tls.options.mtls@file.clientAuth.caFiles.0: unable to read CA file: open missing.pem: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "invalid certificate(s) content")',
        'http.routers.one@file.tls.options: unusable TLS options `mtls`',
        'http.routers.two@file.tls.options: unknown TLS options `nope`',
      ],
    );
  });
});

describe('buildTls: TLS options per SNI, per entry point', () => {
  const routers = (extra: string) => `http:
  routers:
    one: { rule: "Host(\`a.test\`)", entryPoints: [one], service: s, tls: { options: strict } }
    two: { rule: "Host(\`a.test\`)", entryPoints: [two], service: s, tls: {} }
${extra}  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
tls:
  options:
    strict: { minVersion: VersionTLS13 }
`;

  it('gives a host the options of the routers of each entry point (Traefik: one listener each)', () => {
    const { tls, issues } = build(routers(''));
    assert.deepEqual(issues, []);
    assert.equal(tls.routerFor('one').optionsFor('a.test'), 'strict@file');
    assert.equal(tls.routerFor('two').optionsFor('a.test'), 'default');
    // An entry point no router names: only the routers of every entry point (none here).
    assert.equal(tls.routerFor('three').optionsFor('a.test'), 'default');
    // A request for a.test on `one` over another SNI would skip `strict` there only.
    assert.equal(tls.routerFor('one').misdirected('b.test', 'a.test'), true);
    assert.equal(tls.routerFor('two').misdirected('b.test', 'a.test'), false);
  });

  it('makes a router of every entry point conflict on each entry point, warned once per entry point', () => {
    const { tls, issues } = build(
      routers('    all: { rule: "Host(`a.test`)", service: s, tls: { options: strict } }\n'),
    );
    assert.equal(tls.routerFor('one').optionsFor('a.test'), 'strict@file');
    assert.equal(tls.routerFor('two').optionsFor('a.test'), 'default');
    assert.equal(tls.routerFor('three').optionsFor('a.test'), 'strict@file');
    assert.deepEqual(
      issues.map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`),
      [
        'warning http.routers.all@file.tls.options: routers on a.test (entry point two) ask for different TLS options: the default TLS options are used there',
        'warning http.routers.two@file.tls.options: routers on a.test (entry point two) ask for different TLS options: the default TLS options are used there',
      ],
    );
  });
});
