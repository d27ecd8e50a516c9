/**
 * `tls.stores.default.defaultGeneratedCert` where Traefik starts with a warning: beside
 * `defaultCertificate` (pkg/provider/acme/provider.go watchNewDomains: "cannot be defined at the
 * same time", defaultCertificate has precedence), or naming a resolver that does not exist
 * (nothing ordered; pkg/tls/tlsmanager.go getDefaultCertificate falls back to the generated
 * certificate). Both were errors that rejected the TLS configuration here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, selfSignedCertificate } from '../helpers/tls-certs.ts';

describe('defaultGeneratedCert that Traefik only warns about', () => {
  const configured = selfSignedCertificate(['default.test'], { commonName: 'Configured Default' });
  let backend: Backend;
  let both: ProxyProcess;
  let unknown: ProxyProcess;

  const config = (store: string): string => `entryPoints:
  websecure:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    site: { rule: "Host(\`site.test\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  stores:
    default:
${store}`;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('site'));
    [both, unknown] = await Promise.all([
      startProxy({
        config: config(`      defaultCertificate: { certFile: default.pem, keyFile: default.key }
      defaultGeneratedCert: { resolver: le, domain: { main: site.test } }
`),
        files: { 'default.pem': configured.certPem, 'default.key': configured.keyPem },
      }),
      startProxy({
        config: config('      defaultGeneratedCert: { resolver: nowhere, domain: { main: site.test } }\n'),
      }),
    ]);
  });

  after(async () => {
    await Promise.all([both?.stop(), unknown?.stop()]);
    await backend?.close();
  });

  const warnings = (p: ProxyProcess): string =>
    p.logs
      .filter((l) => l.msg === 'configuration warning')
      .map((l) => String(l['issue']))
      .join('\n');

  const served = async (p: ProxyProcess): Promise<void> => {
    const port = p.ports['websecure']!;
    const r = await curl(['-k', '--resolve', `site.test:${port}:127.0.0.1`, `https://site.test:${port}/`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'site');
  };

  it('beside defaultCertificate: a warning, and defaultCertificate is the default certificate', async () => {
    assert.match(
      warnings(both),
      /:\d+:\d+: warning: tls\.stores\.default\.defaultGeneratedCert: defaultCertificate and defaultGeneratedCert cannot be defined at the same time/,
    );
    const h = await handshake({ port: both.ports['websecure']!, servername: 'other.test' });
    assert.ok(h.ok, JSON.stringify(h));
    assert.equal(h.subjectCN, 'Configured Default');
    await served(both);
  });

  it('with an unknown resolver: a warning, and the generated certificate serves', async () => {
    assert.match(
      warnings(unknown),
      /:\d+:\d+: warning: tls\.stores\.default\.defaultGeneratedCert\.resolver: unknown certificate resolver `nowhere`/,
    );
    const h = await handshake({ port: unknown.ports['websecure']!, servername: 'site.test' });
    assert.ok(h.ok, JSON.stringify(h));
    assert.equal(h.subjectCN, 'TRAEFIK DEFAULT CERT');
    await served(unknown);
  });
});
