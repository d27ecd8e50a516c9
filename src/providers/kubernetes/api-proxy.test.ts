import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { TestPki } from '../../../test/helpers/tls-certs.ts';
import { apiProxy, noProxy } from './api-proxy.ts';
import { KubeClient } from './kube-client.ts';

const SERVICES = '/api/v1/namespaces/default/services';

/** A forward proxy on loopback: absolute-form requests relayed, CONNECT tunnelled; what it saw. */
async function startProxy(t: TestContext): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = request(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = [
      req.url!.slice(0, req.url!.lastIndexOf(':')),
      req.url!.slice(req.url!.lastIndexOf(':') + 1),
    ];
    const up = connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, seen };
}

function kubeconfig(t: TestContext, server: string, cluster: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kube-proxy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `current-context: c
clusters: [{ name: k, cluster: { server: "${server}", ${cluster} } }]
users: [{ name: u, user: { token: test-token } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`,
  );
  return file;
}

describe('the API server through a proxy, as client-go (kubeconfig proxy-url, HTTPS_PROXY)', () => {
  it('follows Go`s ProxyFromEnvironment: HTTPS_PROXY for https, NO_PROXY names, suffixes, CIDRs and ports, never loopback', () => {
    const env = {
      HTTPS_PROXY: 'proxy.corp:3128',
      NO_PROXY: 'internal.corp,.svc,10.0.0.0/8,api.example:8443',
    };
    assert.equal(apiProxy('https://api.example', env), 'http://proxy.corp:3128');
    assert.equal(apiProxy('http://api.example', env), undefined, 'http uses HTTP_PROXY');
    assert.equal(apiProxy('https://internal.corp', env), undefined);
    assert.equal(apiProxy('https://k8s.internal.corp', env), undefined);
    assert.equal(apiProxy('https://kubernetes.default.svc', env), undefined);
    assert.equal(apiProxy('https://10.96.0.1', env), undefined);
    assert.equal(apiProxy('https://api.example:8443', env), undefined);
    assert.equal(apiProxy('https://api.example:6443', env), 'http://proxy.corp:3128');
    assert.equal(apiProxy('https://127.0.0.1:6443', env), undefined);
    assert.equal(apiProxy('https://[::1]:6443', env), undefined);
    assert.equal(apiProxy('https://localhost:6443', env), undefined);
    assert.equal(noProxy('svc', '443', '.svc'), false, '`.svc` is its subdomains only');
    assert.equal(noProxy('anything', '443', '*'), true);
    // proxy-url is every request's proxy, loopback included (http.ProxyURL).
    assert.equal(apiProxy('https://127.0.0.1', {}, 'http://p:1'), 'http://p:1');
    assert.throws(() => apiProxy('https://a', {}, 'socks5://p:1080'), /socks5 proxy is not supported/);
  });

  it('sends an http API server`s requests to the kubeconfig`s proxy-url (absolute form)', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    const proxy = await startProxy(t);
    const file = kubeconfig(t, kube.url, `proxy-url: "${proxy.url}"`);
    const client = new KubeClient({}, { KUBECONFIG: file });
    const list = await client.getJson<{ kind: string }>(SERVICES, new AbortController().signal);
    assert.equal(list.kind, 'ServiceList');
    assert.deepEqual(proxy.seen, [`GET ${kube.url}${SERVICES}`]);
  });

  it('tunnels an https API server through the proxy-url with CONNECT, the server`s certificate checked', async (t) => {
    const pki = new TestPki();
    t.after(() => rmSync(pki.dir, { recursive: true, force: true }));
    const cert = pki.issue('kube-apiserver', ['127.0.0.1']);
    const api = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'ServiceList', auth: req.headers.authorization }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    t.after(() => api.close());
    const target = `127.0.0.1:${(api.address() as AddressInfo).port}`;
    const proxy = await startProxy(t);
    const ca = Buffer.from(pki.ca.certPem).toString('base64');
    const file = kubeconfig(
      t,
      `https://${target}`,
      `proxy-url: "${proxy.url}", certificate-authority-data: ${ca}`,
    );
    const client = new KubeClient({}, { KUBECONFIG: file });
    const list = await client.getJson<{ kind: string; auth: string }>(SERVICES, new AbortController().signal);
    assert.deepEqual(list, { kind: 'ServiceList', auth: 'Bearer test-token' });
    assert.deepEqual(proxy.seen, [`CONNECT ${target}`]);
  });
});
