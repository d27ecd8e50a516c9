import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { loadStaticConfig } from './load.ts';

/** A static file with one http-01 resolver whose other keys are `extra` (YAML lines under `acme:`). */
function load(extra: string) {
  const text = `entryPoints:
  web:
    address: "127.0.0.1:8080"
certificatesResolvers:
  le:
    acme:
      email: admin@example.com
      httpChallenge: { entryPoint: web }
${extra}`;
  const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv: [], env: {} });
  return { acme: r.config?.certificatesResolvers?.['le']?.acme, lines: r.issues.map(formatIssue) };
}

describe('certificatesResolvers.<name>.acme: the HTTP client timeouts', () => {
  it("defaults to Traefik's 2m and 30s", () => {
    const r = load('');
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.clientTimeout, 120_000);
    assert.equal(r.acme?.clientResponseHeaderTimeout, 30_000);
  });

  it('takes durations, 0 meaning no limit', () => {
    const r = load('      clientTimeout: 5m\n      clientResponseHeaderTimeout: 45\n');
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.clientTimeout, 300_000);
    assert.equal(r.acme?.clientResponseHeaderTimeout, 45_000);
    const none = load('      clientTimeout: 0\n      clientResponseHeaderTimeout: 0\n');
    assert.deepEqual(none.lines, []);
    assert.equal(none.acme?.clientTimeout, 0);
  });

  // Traefik's Provider.Init refuses it and cmd/traefik/traefik.go skips the resolver.
  it('skips a resolver whose clientTimeout is below clientResponseHeaderTimeout, with a warning', () => {
    const r = load('      clientTimeout: 10s\n');
    assert.deepEqual(r.lines, [
      "static.yaml:9:22: warning: certificatesResolvers.le.acme.clientTimeout: clientTimeout must be at least clientResponseHeaderTimeout: the resolver is skipped (routers naming it are served with the store's certificates), as in Traefik",
    ]);
    assert.equal(r.acme, undefined);
    assert.equal(load('      clientTimeout: 0\n').lines.length, 1);
  });
});

describe('certificatesResolvers.<name>.acme.keyType', () => {
  it("defaults to Traefik's RSA4096 and takes every key type of Traefik's GetKeyType", () => {
    assert.equal(load('').acme?.keyType, 'RSA4096');
    for (const t of ['EC256', 'EC384', 'RSA2048', 'RSA4096', 'RSA8192']) {
      const r = load(`      keyType: ${t}\n`);
      assert.deepEqual(r.lines, [], t);
      assert.equal(r.acme?.keyType, t);
    }
  });

  it("reads an unknown key type as RSA4096, as Traefik's GetKeyType, with a warning", () => {
    const r = load('      keyType: ec-256\n');
    assert.equal(r.acme?.keyType, 'RSA4096');
    assert.equal(r.lines.length, 1);
    assert.match(
      r.lines[0]!,
      /warning.*certificatesResolvers\.le\.acme\.keyType: unknown key type "ec-256": RSA4096 is used/,
    );
  });
});

describe('certificatesResolvers.<name>.acme: how the CA is trusted', () => {
  it("takes Traefik's caSystemCertPool (default false) and caServerName", () => {
    assert.equal(load('').acme?.caSystemCertPool, false);
    const r = load('      caSystemCertPool: true\n      caServerName: acme.internal\n');
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.caSystemCertPool, true);
    assert.equal(r.acme?.caServerName, 'acme.internal');
  });
});

describe('certificatesResolvers.<name>.acme httpChallenge.delay and tlsChallenge.delay', () => {
  it("takes Traefik's delay (a duration, seconds as a number), default 0", () => {
    assert.equal(load('').acme?.httpChallenge?.delay, 0);
    const text = (challenge: string) => `entryPoints:
  web:
    address: "127.0.0.1:8080"
certificatesResolvers:
  le:
    acme:
${challenge}`;
    const r = loadStaticConfig({
      file: 'static.yaml',
      readFile: () => text('      httpChallenge: { entryPoint: web, delay: 5s }\n'),
      argv: [],
      env: {},
    });
    assert.deepEqual(r.issues.map(formatIssue), []);
    assert.equal(r.config?.certificatesResolvers?.['le']?.acme?.httpChallenge?.delay, 5000);
    const t = loadStaticConfig({
      file: 'static.yaml',
      readFile: () => text('      tlsChallenge: { delay: 2 }\n'),
      argv: [],
      env: {},
    });
    assert.deepEqual(t.issues.map(formatIssue), []);
    assert.equal(t.config?.certificatesResolvers?.['le']?.acme?.tlsChallenge?.delay, 2000);
  });
});

describe('certificatesResolvers.<name>.acme.eab', () => {
  it('takes kid and hmacEncoded, base64url with or without padding as lego decodes it', () => {
    const raw = load(
      '      eab: { kid: kid-1, hmacEncoded: zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W }\n',
    );
    assert.deepEqual(raw.lines, []);
    assert.deepEqual(raw.acme?.eab, {
      kid: 'kid-1',
      hmacEncoded: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W',
    });
    assert.deepEqual(load('      eab: { kid: k, hmacEncoded: "c2VjcmV0LWtleQ==" }\n').lines, []);
  });

  // Traefik's ValidateConfiguration checks only the storage; lego fails the registration.
  it('loads a key lego cannot decode with a warning, and refuses a missing kid', () => {
    const r = load('      eab: { kid: k, hmacEncoded: "not+base64/url" }\n');
    assert.deepEqual(r.lines, [
      'static.yaml:9:35: warning: certificatesResolvers.le.acme.eab.hmacEncoded: every certificate order of this resolver fails (acme: could not decode hmac key): its routers serve without its certificates, as in Traefik',
    ]);
    assert.equal(r.acme?.eab?.hmacEncoded, 'not+base64/url');
    assert.equal(load('      eab: { hmacEncoded: c2VjcmV0 }\n').lines.length, 1);
  });
});

describe('certificatesResolvers.<name>.acme: preferredChain, profile, emailAddresses', () => {
  it('takes them as Traefik does', () => {
    const r = load(
      '      preferredChain: "ISRG Root X1"\n      profile: shortlived\n      emailAddresses: [ops@example.com, pki@example.com]\n',
    );
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.preferredChain, 'ISRG Root X1');
    assert.equal(r.acme?.profile, 'shortlived');
    assert.deepEqual(r.acme?.emailAddresses, ['ops@example.com', 'pki@example.com']);
    assert.deepEqual(load('').acme?.emailAddresses, []);
  });

  // Traefik starts; Go's x509.CreateCertificateRequest then fails every order of the resolver.
  it('loads an email address an rfc822Name cannot hold, with a warning', () => {
    assert.deepEqual(load('      emailAddresses: [ "opé@example.com" ]\n').lines, [
      'static.yaml:9:25: warning: certificatesResolvers.le.acme.emailAddresses[0]: every certificate order of this resolver fails (x509: "opé@example.com" cannot be encoded as an IA5String): its routers serve without its certificates, as in Traefik',
    ]);
  });
});

describe('certificatesResolvers.<name>.acme.caServer', () => {
  it("reads an empty one as Let's Encrypt's production directory, as Traefik's getSafeACMECAServer", () => {
    const r = load('      caServer: ""\n');
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.caServer, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(load('').acme?.caServer, 'https://acme-v02.api.letsencrypt.org/directory');
  });

  it("reads Let's Encrypt's ACME v1 URLs as their v2 ones, with a warning, as Traefik", () => {
    const prod = load('      caServer: https://acme-v01.api.letsencrypt.org/directory\n');
    assert.equal(prod.acme?.caServer, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.deepEqual(prod.lines, [
      'static.yaml:9:17: warning: certificatesResolvers.le.acme.caServer: "https://acme-v01.api.letsencrypt.org/directory" is a v01 endpoint of the ACME API: "https://acme-v02.api.letsencrypt.org/directory" is used (as Traefik)',
    ]);
    const staging = load('      caServer: https://acme-staging.api.letsencrypt.org/directory\n');
    assert.equal(staging.acme?.caServer, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(staging.lines.length, 1);
    const other = load('      caServer: https://127.0.0.1:14000/dir\n');
    assert.deepEqual(other.lines, []);
    assert.equal(other.acme?.caServer, 'https://127.0.0.1:14000/dir');
  });

  // Traefik's ValidateConfiguration checks only the storage; lego's api.New fails each order.
  it('loads what Go cannot get with a warning (an unexpanded placeholder, another scheme)', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
    const r = load('      caServer: "${ACME_CA_SERVER}"\n');
    assert.deepEqual(r.lines, [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      'static.yaml:9:17: warning: certificatesResolvers.le.acme.caServer: every certificate order of this resolver fails (get directory at \'${ACME_CA_SERVER}\': Get "${ACME_CA_SERVER}": unsupported protocol scheme ""): its routers serve without its certificates, as in Traefik',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
    assert.equal(r.acme?.caServer, '${ACME_CA_SERVER}');
    assert.match(
      load('      caServer: ftp://ca.test/dir\n').lines.join(),
      /unsupported protocol scheme "ftp"/,
    );
  });
});

describe('certificatesResolvers.<name>.acme: the challenges', () => {
  const load3 = (challenges: string) => {
    const text = `entryPoints:\n  web:\n    address: "127.0.0.1:8080"\ncertificatesResolvers:\n  le:\n    acme:\n${challenges}`;
    const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv: [], env: {} });
    return { acme: r.config?.certificatesResolvers?.['le']?.acme, lines: r.issues.map(formatIssue) };
  };

  it('takes several, as Traefik gives lego a solver for each', () => {
    const r = load3('      httpChallenge: { entryPoint: web }\n      tlsChallenge: {}\n');
    assert.deepEqual(r.lines, []);
    assert.ok(r.acme?.httpChallenge && r.acme.tlsChallenge);
  });

  // Traefik starts; its getClient fails each order ("ACME challenge not specified").
  it("loads none with a warning: every order of the resolver fails, as Traefik's getClient", () => {
    const r = load3('      email: a@example.com\n');
    assert.deepEqual(r.lines, [
      'static.yaml:6:5: warning: certificatesResolvers.le.acme: every certificate order of this resolver fails (cannot get ACME client ACME challenge not specified, please select TLS or HTTP or DNS Challenge): its routers serve without its certificates, as in Traefik',
    ]);
    assert.equal(r.acme?.email, 'a@example.com');
  });

  // Traefik's Configuration tags the three challenges allowEmpty; getClient sets an HTTP-01 solver
  // only for a non-empty entryPoint and a DNS-01 one for a non-empty provider. Both were refused.
  it('loads httpChallenge and dnsChallenge without their key as no solver, with a warning', () => {
    const empty = load3('      httpChallenge: {}\n      dnsChallenge: {}\n');
    assert.equal(empty.acme?.httpChallenge, undefined);
    assert.equal(empty.acme?.dnsChallenge, undefined);
    assert.deepEqual(empty.lines, [
      "static.yaml:7:7: warning: certificatesResolvers.le.acme.httpChallenge: `httpChallenge` without `entryPoint` sets no HTTP-01 solver (Traefik's getClient uses it only with one): it is ignored",
      "static.yaml:8:7: warning: certificatesResolvers.le.acme.dnsChallenge: `dnsChallenge` without `provider` sets no DNS-01 solver (Traefik's getClient uses it only with one): it is ignored",
      'static.yaml:6:5: warning: certificatesResolvers.le.acme: every certificate order of this resolver fails (cannot get ACME client ACME challenge not specified, please select TLS or HTTP or DNS Challenge): its routers serve without its certificates, as in Traefik',
    ]);
    // Beside a usable challenge, that one serves.
    const tls = load3('      httpChallenge: {}\n      tlsChallenge: {}\n');
    assert.equal(tls.acme?.httpChallenge, undefined);
    assert.ok(tls.acme?.tlsChallenge);
    assert.equal(tls.lines.length, 1, tls.lines.join('\n'));
  });
});

describe('certificatesResolvers.<name>.acme.disableCommonName', () => {
  it("is Traefik v3.6's boolean, false by default", () => {
    assert.equal(load('').acme?.disableCommonName, false);
    const r = load('      disableCommonName: true\n');
    assert.deepEqual(r.lines, []);
    assert.equal(r.acme?.disableCommonName, true);
  });
});

describe('certificatesResolvers.<name>.tailscale', () => {
  const load2 = (resolver: string) => {
    const text = `entryPoints:\n  web:\n    address: "127.0.0.1:8080"\ncertificatesResolvers:\n  ts:\n${resolver}`;
    const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv: [], env: {} });
    return { config: r.config, lines: r.issues.map(formatIssue) };
  };

  it("is Traefik's resolver without options", () => {
    const r = load2('    tailscale: {}\n');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['ts'], { tailscale: {} });
  });

  it('is acme or tailscale, one of them', () => {
    assert.deepEqual(
      load2('    tailscale: {}\n    acme: { email: a@example.com, tlsChallenge: {} }\n').lines,
      [
        'static.yaml:6:5: certificatesResolvers.ts: a certificate resolver is `acme` or `tailscale`, not both',
      ],
    );
    assert.deepEqual(load2('    {}\n').lines, [
      'static.yaml:6:5: certificatesResolvers.ts: a certificate resolver needs `acme` or `tailscale`',
    ]);
  });
});
