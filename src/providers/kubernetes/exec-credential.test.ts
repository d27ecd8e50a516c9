import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { kubectl, startFakeKube, tlsFront } from '../../../test/helpers/fake-kube.ts';
import { serviceFor } from '../../../test/helpers/kube-objects.ts';
import { TestPki } from '../../../test/helpers/tls-certs.ts';
import { KubeClient } from './kube-client.ts';

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A credential plugin as EKS's `aws eks get-token` is one: a command (node) with args, which
 * appends what it was given (argv, an env entry, KUBERNETES_EXEC_INFO) to `runs` and prints an
 * ExecCredential with the token of `token` (or `status` of `status.json` when that exists).
 */
function writePlugin(dir: string): string {
  const script = join(dir, 'plugin.mjs');
  writeFileSync(
    script,
    `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
const dir = ${JSON.stringify(dir)};
appendFileSync(dir + '/runs', JSON.stringify({ argv: process.argv.slice(2), region: process.env.AWS_REGION, info: JSON.parse(process.env.KUBERNETES_EXEC_INFO) }) + '\\n');
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
const status = existsSync(dir + '/status.json')
  ? JSON.parse(readFileSync(dir + '/status.json', 'utf8'))
  : { token: readFileSync(dir + '/token', 'utf8').trim() };
process.stdout.write(JSON.stringify({ kind: 'ExecCredential', apiVersion: info.apiVersion, status }));
`,
  );
  return script;
}

const runs = (dir: string): { argv: string[]; region: string; info: Record<string, unknown> }[] => {
  let text = '';
  try {
    text = readFileSync(join(dir, 'runs'), 'utf8');
  } catch {}
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
};

function kubeconfig(dir: string, server: string, exec: string, clusterExtra = ''): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: eks
clusters:
  - name: eks
    cluster:
      server: "${server}"
${clusterExtra}
      extensions:
        - { name: client.authentication.k8s.io/exec, extension: { audience: kube } }
users:
  - name: iam
    user:
      exec:
${exec}
contexts: [{ name: eks, context: { cluster: eks, user: iam } }]
`,
  );
  return file;
}

const execBlock = (script: string, apiVersion = 'client.authentication.k8s.io/v1beta1', more = '') =>
  `        apiVersion: ${apiVersion}
        command: ${JSON.stringify(process.execPath)}
        args: [${JSON.stringify(script)}, eks, get-token, --cluster-name, prod]
        env: [{ name: AWS_REGION, value: eu-west-3 }]
        provideClusterInfo: true
${more}`;

const SERVICES = '/api/v1/namespaces/default/services';

describe('kubeconfig exec credential plugins (client-go`s pkg/client/auth/exec)', () => {
  it('runs the plugin once with its args, env and KUBERNETES_EXEC_INFO, sends its token, and runs it again after a 401', async (t) => {
    const dir = tempDir(t, 'kube-exec-');
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'token-1';
    // An event to stream, so that the watch below answers its head at once.
    kube.apply(serviceFor('default', 'web'));
    writeFileSync(join(dir, 'token'), 'token-1');
    const script = writePlugin(dir);
    // https: clientcmd uses a user's credentials with an https server only.
    const front = await tlsFront(kube);
    t.after(() => front.close());
    const ca = Buffer.from(front.caPem).toString('base64');
    const file = kubeconfig(dir, front.url, execBlock(script), `      certificate-authority-data: ${ca}`);
    const client = new KubeClient({}, { KUBECONFIG: file });
    const signal = new AbortController().signal;
    const list = await client.getJson<{ kind: string }>(SERVICES, signal);
    assert.equal(list.kind, 'ServiceList');
    await client.getJson(SERVICES, signal);
    const [first, ...others] = runs(dir);
    assert.equal(others.length, 0, 'the token is kept while it has no expiry');
    assert.deepEqual(first?.argv, ['eks', 'get-token', '--cluster-name', 'prod']);
    assert.equal(first?.region, 'eu-west-3');
    assert.deepEqual(first?.info, {
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {
        cluster: { server: front.url, 'certificate-authority-data': ca, config: { audience: 'kube' } },
        interactive: false,
      },
    });
    // The token rotates on the server: the 401 fails that request, the next runs the plugin again.
    kube.requireToken = 'token-2';
    writeFileSync(join(dir, 'token'), 'token-2');
    await assert.rejects(client.getJson(SERVICES, signal), /status 401/);
    assert.equal((await client.getJson<{ kind: string }>(SERVICES, signal)).kind, 'ServiceList');
    assert.equal(runs(dir).length, 2);
    // A watch stream answered 401 does the same.
    kube.requireToken = 'token-3';
    writeFileSync(join(dir, 'token'), 'token-3');
    await assert.rejects(client.stream(`${SERVICES}?watch=true`, signal), /status 401/);
    const res = await client.stream(`${SERVICES}?watch=true`, new AbortController().signal);
    assert.equal(res.statusCode, 200);
    res.destroy();
    assert.equal(runs(dir).length, 3);
  });

  it('gives the plugin the same KUBERNETES_EXEC_INFO, args and env as kubectl (client-go) does', async (t) => {
    const dir = tempDir(t, 'kube-exec-');
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'token-1';
    writeFileSync(join(dir, 'token'), 'token-1');
    const script = writePlugin(dir);
    const front = await tlsFront(kube);
    t.after(() => front.close());
    const file = kubeconfig(
      dir,
      front.url,
      execBlock(script, 'client.authentication.k8s.io/v1', '        interactiveMode: IfAvailable\n'),
      `      certificate-authority-data: ${Buffer.from(front.caPem).toString('base64')}`,
    );
    const list = JSON.parse(await kubectl(file, 'get', '--raw', SERVICES)) as { kind: string };
    assert.equal(list.kind, 'ServiceList');
    const client = new KubeClient({}, { KUBECONFIG: file });
    assert.equal(
      (await client.getJson<{ kind: string }>(SERVICES, new AbortController().signal)).kind,
      'ServiceList',
    );
    const [theirs, ours] = runs(dir);
    assert.ok(theirs !== undefined && ours !== undefined);
    assert.deepEqual(ours, theirs);
  });

  it('runs the plugin again once status.expirationTimestamp has passed', async (t) => {
    const dir = tempDir(t, 'kube-exec-');
    const kube = await startFakeKube();
    t.after(() => kube.close());
    kube.requireToken = 'old';
    writeFileSync(
      join(dir, 'status.json'),
      JSON.stringify({ token: 'old', expirationTimestamp: '2001-01-01T00:00:00Z' }),
    );
    const script = writePlugin(dir);
    const front = await tlsFront(kube);
    t.after(() => front.close());
    const file = kubeconfig(
      dir,
      front.url,
      execBlock(script, 'client.authentication.k8s.io/v1', '        interactiveMode: Never\n'),
      `      certificate-authority-data: ${Buffer.from(front.caPem).toString('base64')}`,
    );
    const client = new KubeClient({}, { KUBECONFIG: file });
    const signal = new AbortController().signal;
    await client.getJson(SERVICES, signal);
    await client.getJson(SERVICES, signal);
    assert.equal(runs(dir).length, 2);
    assert.equal(runs(dir)[0]?.info['apiVersion'], 'client.authentication.k8s.io/v1');
  });

  it('presents the client certificate the plugin returns (clientCertificateData, clientKeyData) over TLS', async (t) => {
    const dir = tempDir(t, 'kube-exec-');
    const pki = new TestPki();
    t.after(() => rmSync(pki.dir, { recursive: true, force: true }));
    const server = pki.issue('kube-apiserver', ['127.0.0.1']);
    const client = pki.issue('system:node', []);
    const seen: string[] = [];
    const api = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        seen.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        res.setHeader('content-type', 'application/json');
        res.end('{"kind":"ServiceList","items":[]}');
      },
    );
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    t.after(() => api.close());
    const url = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'status.json'),
      JSON.stringify({ clientCertificateData: client.certPem, clientKeyData: client.keyPem }),
    );
    const script = writePlugin(dir);
    const ca = Buffer.from(pki.ca.certPem).toString('base64');
    const file = kubeconfig(dir, url, execBlock(script), `      certificate-authority-data: ${ca}`);
    const kc = new KubeClient({}, { KUBECONFIG: file });
    assert.equal(
      (await kc.getJson<{ kind: string }>(SERVICES, new AbortController().signal)).kind,
      'ServiceList',
    );
    assert.deepEqual(seen, ['system:node']);
    const info = runs(dir)[0]?.info as { spec: { cluster: Record<string, unknown> } };
    assert.equal(info.spec.cluster['certificate-authority-data'], ca);
  });

  it('refuses a v1 exec block without interactiveMode and reports a plugin that is missing', async (t) => {
    const dir = tempDir(t, 'kube-exec-');
    const file = kubeconfig(
      dir,
      'https://127.0.0.1:1',
      '        apiVersion: client.authentication.k8s.io/v1\n        command: aws\n',
    );
    assert.throws(() => new KubeClient({}, { KUBECONFIG: file }), /interactiveMode must be specified/);
    const missing = kubeconfig(
      dir,
      'https://127.0.0.1:1',
      '        apiVersion: client.authentication.k8s.io/v1beta1\n        command: ./no-such-plugin\n        installHint: install it with apt-get\n',
    );
    const kc = new KubeClient({}, { KUBECONFIG: missing });
    await assert.rejects(
      kc.getJson(SERVICES, new AbortController().signal),
      new RegExp(`executable ${dir}/no-such-plugin not found\\n\\ninstall it with apt-get`),
    );
  });
});
