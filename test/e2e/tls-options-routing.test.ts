/**
 * Which TLS options set a handshake gets, as Traefik decides it, through the real proxy: the
 * options of the HTTPS routers whose rule names the SNI with Host, resolved on each entry point
 * on its own (pkg/server/router/tcp/manager.go buildEntryPointHandler). The options are told
 * apart by ALPN: `h1only` offers http/1.1 only, the default options h2 first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('TLS options per SNI (Traefik semantics)', () => {
  let pki: TestPki;
  let cert: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('TLS options routing CA');
    cert = pki.issue('options.test', ['*.options.test']);
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  one:
    address: "127.0.0.1:0"
  two:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    # The same host on two entry points with different options: no conflict (one listener each).
    per-ep-one: { rule: "Host(\`per-ep.options.test\`)", entryPoints: [one], service: be, tls: { options: h1only } }
    per-ep-two: { rule: "Host(\`per-ep.options.test\`)", entryPoints: [two], service: be, tls: {} }
    # tls.domains names certificates to obtain; the options follow the rule's Host names.
    acme-names:
      rule: "Host(\`dom.options.test\`)"
      entryPoints: [one]
      service: be
      tls: { options: h1only, domains: [{ main: "*.dom.options.test" }] }
    # Every Host of the rule, even one that is not needed for a match.
    either: { rule: "Host(\`or.options.test\`) || PathPrefix(\`/or\`)", entryPoints: [one], service: be, tls: { options: h1only } }
    # A negated Host is no name of the router's (Traefik v3.7.13): not.options.test keeps the default.
    negated:
      rule: "Host(\`neg.options.test\`) && !Host(\`not.options.test\`) && !(Host(\`x.options.test\`) || PathPrefix(\`/x\`))"
      entryPoints: [one]
      service: be
      tls: { options: h1only }
    # Options that do not exist (a typo): the router is left out and its host's handshakes refused.
    typo: { rule: "Host(\`typo.options.test\`)", entryPoints: [one], service: be, tls: { options: mtlss } }
    catch-all: { rule: "PathPrefix(\`/\`)", entryPoints: [one], service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    h1only:
      alpnProtocols: [http/1.1]
      preferServerCipherSuites: true
  stores:
    other: {}
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await backend?.close();
    pki?.remove();
  });

  /** The ALPN protocol the proxy chose for `servername` on entry point `ep` (the options' marker). */
  const alpnOf = async (ep: string, servername: string): Promise<string | false | null> => {
    const h = await handshake({ port: proxy.ports[ep]!, servername, alpn: ['h2', 'http/1.1'] });
    assert.ok(h.ok, `${ep} ${servername}: ${h.ok ? '' : h.error}`);
    return h.alpn;
  };

  it('resolves the options of a host on each entry point on its own', async () => {
    assert.equal(await alpnOf('one', 'per-ep.options.test'), 'http/1.1');
    assert.equal(await alpnOf('two', 'per-ep.options.test'), 'h2');
    assert.equal(
      proxy.logs.some((l) => JSON.stringify(l).includes('ask for different TLS options')),
      false,
      'no conflict warning: the routers are on different entry points',
    );
  });

  it("maps the options to every Host name of the rule, and not to the router's tls.domains", async () => {
    assert.equal(await alpnOf('one', 'dom.options.test'), 'http/1.1');
    assert.equal(await alpnOf('one', 'sub.dom.options.test'), 'h2');
    assert.equal(await alpnOf('one', 'or.options.test'), 'http/1.1');
    assert.equal(await alpnOf('one', 'other.options.test'), 'h2');
  });

  it('maps no options to a negated Host of a rule (Traefik v3.7.13)', async () => {
    assert.equal(await alpnOf('one', 'neg.options.test'), 'http/1.1');
    assert.equal(await alpnOf('one', 'not.options.test'), 'h2');
    assert.equal(await alpnOf('one', 'x.options.test'), 'h2');
  });

  it('refuses the handshakes of a host whose router names TLS options that do not exist, as Traefik', async () => {
    // Traefik's "special closing route" (buildEntryPointHandler): not the default options, which
    // would let the catch-all router serve that host without what the router asked for.
    const h = await handshake({ port: proxy.ports['one']!, servername: 'typo.options.test' });
    assert.equal(h.ok, false, JSON.stringify(h));
    assert.equal(await alpnOf('one', 'other.options.test'), 'h2', 'other hosts are served');
    const errors = proxy.logs.filter((l) => l.msg === 'configuration error').map((l) => String(l['issue']));
    assert.ok(
      errors.some((e) => /http\.routers\.typo\.tls\.options: unknown TLS options `mtlss`/.test(e)),
      JSON.stringify(errors),
    );
  });

  it('warns, as Traefik does, of preferServerCipherSuites (whatever its value) and of a store other than default', () => {
    const warnings = proxy.logs
      .filter((l) => l.msg === 'configuration warning')
      .map((l) => String(l['issue']))
      .join('\n');
    assert.match(warnings, /tls\.options\.h1only\.preferServerCipherSuites.*deprecated/, warnings);
    assert.match(warnings, /tls\.stores\.other.*only the `default` store is used/, warnings);
  });
});
