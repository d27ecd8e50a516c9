import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readKubeconfig } from './kubeconfig.ts';

describe('kubeconfig', () => {
  it('reads the current context`s server, CA (file relative to the kubeconfig) and client certificate data', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(
      join(dir, 'config'),
      `apiVersion: v1
kind: Config
current-context: prod
clusters:
  - { name: dev, cluster: { server: "https://dev:6443" } }
  - { name: prod, cluster: { server: "https://prod:6443/", certificate-authority: ca.pem } }
users:
  - { name: admin, user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} } }
contexts:
  - { name: dev, context: { cluster: dev, user: admin } }
  - { name: prod, context: { cluster: prod, user: admin } }
`,
    );
    const k = readKubeconfig(join(dir, 'config'));
    assert.equal(k.server, 'https://prod:6443');
    assert.equal(k.token, undefined);
    assert.deepEqual(k.tls, { ca: 'CA PEM', cert: 'CERT', key: 'KEY' });
  });

  it('refuses an auth-provider user (Traefik registers none), a CA with insecure-skip-tls-verify (client-go) and a missing context by name', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'exec'),
      `current-context: c
clusters: [{ name: k, cluster: { server: "https://k" } }]
users: [{ name: u, user: { auth-provider: { name: oidc } } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`,
    );
    assert.throws(
      () => readKubeconfig(join(dir, 'exec')),
      /user u: auth-provider credentials are not supported/,
    );
    writeFileSync(
      join(dir, 'insecure'),
      `current-context: c
clusters: [{ name: k, cluster: { server: "https://k", insecure-skip-tls-verify: true, certificate-authority-data: Q0E= } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`,
    );
    assert.throws(
      () => readKubeconfig(join(dir, 'insecure')),
      /root certificates file with the insecure flag is not allowed/,
    );
    writeFileSync(join(dir, 'nocontext'), 'current-context: nope\ncontexts: []\n');
    assert.throws(() => readKubeconfig(join(dir, 'nocontext')), /no context named "nope"/);
  });

  it('reads tls-server-name (the name the server certificate is checked against) and username/password', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'config'),
      `current-context: c
clusters: [{ name: k, cluster: { server: "https://10.0.0.1:6443", tls-server-name: kubernetes.default } }]
users: [{ name: u, user: { username: admin, password: "s3:cret" } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`,
    );
    const k = readKubeconfig(join(dir, 'config'));
    assert.deepEqual(k.tls, { servername: 'kubernetes.default' });
    assert.equal(k.basic, Buffer.from('admin:s3:cret').toString('base64'));
    assert.equal(k.exec, undefined);
  });
});
