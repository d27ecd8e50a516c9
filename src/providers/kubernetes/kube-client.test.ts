import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeKube, tlsFront } from '../../../test/helpers/fake-kube.ts';
import { KubeClient } from './kube-client.ts';

const SERVICES = '/api/v1/namespaces/default/services';

const kubeconfigText = (server: string, caPem: string | undefined, user: string): string =>
  `current-context: c
clusters: [{ name: k, cluster: { server: "${server}"${caPem === undefined ? '' : `, certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`} } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`;

describe('which API server and credentials (Traefik`s newK8sClient order)', () => {
  it('in a cluster with an endpoint: the service account`s token at the endpoint (rest.InClusterConfig, its host replaced)', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'service-account-token';
    const sa = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    t.after(() => rmSync(sa, { recursive: true, force: true }));
    writeFileSync(join(sa, 'token'), 'service-account-token\n');
    writeFileSync(join(sa, 'ca.crt'), 'CA');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    // The provider's token and CA file are not used in a cluster, as Traefik's.
    const client = new KubeClient({ endpoint: kube.url, token: 'ignored' }, env, sa);
    const list = await client.getJson<{ kind: string }>(SERVICES, new AbortController().signal);
    assert.equal(list.kind, 'ServiceList');
  });

  it('in a cluster without the service account`s ca.crt: still connects (rest.InClusterConfig only logs it)', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'service-account-token';
    const sa = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    t.after(() => rmSync(sa, { recursive: true, force: true }));
    writeFileSync(join(sa, 'token'), 'service-account-token\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const client = new KubeClient({ endpoint: kube.url }, env, sa);
    const list = await client.getJson<{ kind: string }>(SERVICES, new AbortController().signal);
    assert.equal(list.kind, 'ServiceList');
    // Without the token, in a cluster, there is no client (rest.InClusterConfig's error).
    rmSync(join(sa, 'token'));
    assert.throws(() => new KubeClient({ endpoint: kube.url }, env, sa), /ENOENT/);
  });

  it('outside a cluster with KUBECONFIG: the kubeconfig`s server, even with an endpoint', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'test-token';
    const dir = mkdtempSync(join(tmpdir(), 'kube-cfg-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const front = await tlsFront(kube);
    t.after(() => front.close());
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfigText(front.url, front.caPem, '{ token: test-token }'));
    const client = new KubeClient({ endpoint: 'http://127.0.0.1:1', token: 'other' }, { KUBECONFIG: file });
    const list = await client.getJson<{ kind: string }>(SERVICES, new AbortController().signal);
    assert.equal(list.kind, 'ServiceList');
  });

  it('reads a kubeconfig`s tokenFile again for each connection (a rotated token is used)', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    const dir = mkdtempSync(join(tmpdir(), 'kube-cfg-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), 'first\n');
    const front = await tlsFront(kube);
    t.after(() => front.close());
    writeFileSync(join(dir, 'kubeconfig'), kubeconfigText(front.url, front.caPem, '{ tokenFile: token }'));
    const client = new KubeClient({}, { KUBECONFIG: join(dir, 'kubeconfig') });
    const signal = new AbortController().signal;
    kube.requireToken = 'first';
    await client.getJson(SERVICES, signal);
    kube.requireToken = 'second';
    writeFileSync(join(dir, 'token'), 'second\n');
    const list = await client.getJson<{ kind: string }>(SERVICES, signal);
    assert.equal(list.kind, 'ServiceList');
  });

  it('sends a kubeconfig user`s credentials to an https server only (clientcmd`s isConfigTransportTLS)', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'test-token';
    const dir = mkdtempSync(join(tmpdir(), 'kube-cfg-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfigText(kube.url, undefined, '{ token: test-token }'));
    const client = new KubeClient({}, { KUBECONFIG: join(dir, 'kubeconfig') });
    await assert.rejects(client.getJson(SERVICES, new AbortController().signal), /status 401/);
  });

  it('neither: the endpoint is required', () => {
    assert.throws(() => new KubeClient({}, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }), /no endpoint/);
  });
});
