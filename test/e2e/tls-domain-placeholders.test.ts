/**
 * TLS domain names no certificate can hold (a `${DOMAIN}` placeholder the file provider does not
 * expand) in an entry point's `http.tls.domains` and in the default store's
 * `defaultGeneratedCert.domain`: Traefik reads them as plain strings that only a resolver's order
 * uses (applyModel, pkg/tls/tlsmanager.go sanitizeDomains), so it starts and serves. They were
 * errors here: the static file refused, the TLS configuration rejected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake } from '../helpers/tls-certs.ts';

describe('TLS domains holding a placeholder', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('site'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls:
        domains: [{ main: "\${DOMAIN}", sans: ["*.\${DOMAIN}"] }]
log: { level: INFO }
http:
  routers:
    site: { rule: "Host(\`site.test\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  stores:
    default:
      defaultGeneratedCert: { resolver: le, domain: { main: "default.\${DOMAIN}" } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('starts with a located warning for each name, and serves the router over TLS', async () => {
    const raw = proxy.logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));
    assert.ok(
      raw.some((m) =>
        /:\d+:\d+: warning: entryPoints\.websecure\.http\.tls\.domains\[0\]\.main: invalid domain name/.test(
          m,
        ),
      ),
      JSON.stringify(raw),
    );
    const w = await proxy.waitForLog(
      (l) =>
        l.msg === 'configuration warning' && String(l['issue']).includes('defaultGeneratedCert.domain.main'),
    );
    assert.match(String(w['issue']), /:\d+:\d+: warning: .*invalid domain name "default\.\$\{DOMAIN\}"/);
    const port = proxy.ports['websecure']!;
    const r = await curl(['-k', '--resolve', `site.test:${port}:127.0.0.1`, `https://site.test:${port}/`]);
    assert.equal(r.status, 200, r.stderr);
    assert.equal(r.body.toString(), 'site');
    const h = await handshake({ port, servername: 'site.test' });
    assert.ok(h.ok && h.subjectCN === 'TRAEFIK DEFAULT CERT', JSON.stringify(h));
  });
});
