/**
 * The Kubernetes CRD provider in the real proxy, out of cluster, with a kubeconfig whose user is
 * an exec credential plugin (as EKS's `aws eks get-token` is one): the API server (the fake on
 * loopback behind an https front) requires the plugin's token; an IngressRoute is routed, and
 * the plugin ran once for all of the provider's list and watch requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube, tlsFront } from '../helpers/fake-kube.ts';
import { ingressRouteFor, loopbackServices } from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('Kubernetes CRD provider with an exec credential plugin (e2e, API server on loopback)', () => {
  let backend: Backend;
  let kube: FakeKube;
  let front: Awaited<ReturnType<typeof tlsFront>>;
  let proxy: ProxyProcess;
  let dir: string;
  let web = 0;

  before(async () => {
    [backend, kube] = await Promise.all([
      startBackend((req, res) => res.end(`pod ${req.url}`)),
      startFakeKube(),
    ]);
    front = await tlsFront(kube);
    kube.requireToken = 'k8s-aws-v1.token';
    dir = mkdtempSync(join(tmpdir(), 'kube-exec-e2e-'));
    writeFileSync(
      join(dir, 'get-token.mjs'),
      `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(join(dir, 'runs'))}, process.argv.slice(2).join(' ') + '\\n');
process.stdout.write(JSON.stringify({
  kind: 'ExecCredential',
  apiVersion: 'client.authentication.k8s.io/v1beta1',
  status: { token: 'k8s-aws-v1.token' },
}));
`,
    );
    writeFileSync(
      join(dir, 'kubeconfig'),
      `apiVersion: v1
kind: Config
current-context: eks
clusters:
  - name: eks
    cluster:
      server: "${front.url}"
      certificate-authority-data: ${Buffer.from(front.caPem).toString('base64')}
users:
  - name: iam
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: ${JSON.stringify(process.execPath)}
        args: [${JSON.stringify(join(dir, 'get-token.mjs'))}, eks, get-token, --cluster-name, prod]
contexts: [{ name: eks, context: { cluster: eks, user: iam } }]
`,
    );
    for (const o of loopbackServices('shop', { web: backend.port })) kube.apply(o);
    kube.apply(ingressRouteFor('shop', 'storefront', 'PathPrefix(`/shop`)', 'web'));
    proxy = await startProxy({
      env: { KUBECONFIG: join(dir, 'kubeconfig') },
      config: `${providersHead('50ms')}  kubernetesCRD: {}
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await front?.close();
    await Promise.all([backend?.close(), kube?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('routes an IngressRoute read with the plugin`s token, the plugin run once', async () => {
    let r = await fetch(`http://127.0.0.1:${web}/shop/cart`);
    let at = 0;
    while (r.status !== 200) {
      const l = await waitForLogFrom(proxy, at, (x: LogLine) => x.msg === 'configuration applied', 30_000);
      at = proxy.logs.indexOf(l) + 1;
      r = await fetch(`http://127.0.0.1:${web}/shop/cart`);
    }
    assert.equal(await r.text(), 'pod /shop/cart');
    assert.deepEqual(readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean), [
      'eks get-token --cluster-name prod',
    ]);
  });
});
