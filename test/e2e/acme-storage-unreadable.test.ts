/**
 * An ACME storage file Traefik cannot read: its Provider.Init reads the account first
 * (pkg/provider/acme/local_store_unix.go CheckFile: "permissions 644 for … are too open, please
 * use 600"; LocalStore.get's json.Unmarshal for a corrupt file), fails, and cmd/traefik/traefik.go
 * skips the resolver ("The ACME resolve is skipped from the resolvers list"): its routers are
 * served with the store's certificates, as for a resolver that does not exist, and the
 * certificates in the file are not served. Here the mode was tightened to 0600 and the file's
 * certificates served; a corrupt file started the resolver empty, and its first save moved the
 * file aside. The file is left as it is now. A file that does not exist is created, mode 0600.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, selfSignedCertificate } from '../helpers/tls-certs.ts';

describe('an ACME storage file Traefik cannot read', () => {
  const stored = selfSignedCertificate(['open.test']);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const acmeJson = JSON.stringify({
    open: {
      Account: null,
      Certificates: [
        {
          domain: { main: 'open.test' },
          certificate: b64(stored.certPem),
          key: b64(stored.keyPem),
          Store: 'default',
        },
      ],
    },
  });
  const corrupt = '{ "corrupt": [ not json';
  let dir: string;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-storage-e2e-'));
    writeFileSync(join(dir, 'open.json'), acmeJson);
    chmodSync(join(dir, 'open.json'), 0o644);
    writeFileSync(join(dir, 'corrupt.json'), corrupt, { mode: 0o600 });
    backend = await startBackend((_req, res) => res.end('site'));
    const resolver = (name: string): string => `  ${name}:
    acme:
      email: admin@example.test
      caServer: "https://127.0.0.1:9/directory"
      storage: "${join(dir, `${name}.json`)}"
      tlsChallenge: {}
`;
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
log: { level: INFO }
certificatesResolvers:
${resolver('open')}${resolver('corrupt')}${resolver('fresh')}
http:
  routers:
    o: { rule: "Host(\`open.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: open } }
    c: { rule: "Host(\`corrupt.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: corrupt } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("skips the resolvers with an error in Traefik's words", async () => {
    const open = await proxy.waitForLog(
      (l) => l.msg === 'The ACME resolver "open" is skipped from the resolvers list',
    );
    assert.equal(
      open['error'],
      `unable to get ACME account: permissions 644 for ${join(dir, 'open.json')} are too open, please use 600`,
    );
    const c = await proxy.waitForLog(
      (l) => l.msg === 'The ACME resolver "corrupt" is skipped from the resolvers list',
    );
    assert.match(String(c['error']), /^unable to get ACME account: .*corrupt\.json is not JSON/);
    assert.equal(proxy.logs.filter((l) => String(l.msg).includes('"fresh" is skipped')).length, 0);
  });

  it("serves their routers with the default certificate, not the file's", async () => {
    const port = proxy.ports['websecure']!;
    for (const host of ['open.test', 'corrupt.test']) {
      const h = await handshake({ port, servername: host });
      assert.ok(h.ok, JSON.stringify(h));
      assert.equal(h.subjectCN, 'TRAEFIK DEFAULT CERT');
      const r = await curl(['-k', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`]);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'site');
    }
  });

  it('leaves the files as they were, and creates a missing one with mode 0600', async () => {
    await proxy.stop();
    assert.equal(readFileSync(join(dir, 'open.json'), 'utf8'), acmeJson);
    assert.equal(statSync(join(dir, 'open.json')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(dir, 'corrupt.json'), 'utf8'), corrupt);
    assert.equal(statSync(join(dir, 'fresh.json')).mode & 0o777, 0o600);
  });
});
