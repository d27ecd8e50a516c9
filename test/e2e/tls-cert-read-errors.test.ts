/**
 * A certificate whose files cannot be read, in Traefik's words (pkg/tls/certificate.go
 * GetCertificate: `unable to read CertFile: <Go's os.PathError>`): a certFile naming a folder is
 * Go's `read <path>: is a directory`, as Traefik says it; a keyFile naming nothing is Go's `open
 * <path>: no such file or directory`, with what Traefik says then (its FileOrContent reads a path
 * that names no file as the PEM itself: `… failed to find any PEM data in key input`). The
 * certificate is left out, the rest served.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startBackend } from '../helpers/backends.ts';
import { startProxy } from '../helpers/proxy-process.ts';

describe('TLS certificate files that cannot be read', () => {
  it("are logged in Traefik's words, located, and the configuration is applied without them", async (t) => {
    const be = await startBackend((_req, res) => res.end('ok'));
    t.after(() => be.close());
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
tls:
  certificates:
    - certFile: certs
      keyFile: missing.key
`,
      files: { 'certs/readme.txt': 'a folder, not a certificate\n' },
    });
    t.after(() => proxy.stop());
    assert.equal(await (await fetch(`http://127.0.0.1:${proxy.port}/`)).text(), 'ok');
    const errors = proxy.logs.filter((l) => l.msg === 'configuration error').map((l) => String(l['issue']));
    const at = (key: string) => errors.find((e) => e.includes(`tls.certificates[0].${key}: `));
    assert.match(
      at('certFile') ?? JSON.stringify(errors),
      new RegExp(
        `^${proxy.configPath}:\\d+:\\d+: tls\\.certificates\\[0\\]\\.certFile: unable to read CertFile: read certs: is a directory$`,
      ),
    );
    assert.ok(
      at('keyFile')?.endsWith(
        'tls.certificates[0].keyFile: unable to read KeyFile: open missing.key: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "unable to parse TLS certificate key pair: tls: failed to find any PEM data in key input")',
      ),
      JSON.stringify(errors),
    );
  });
});
