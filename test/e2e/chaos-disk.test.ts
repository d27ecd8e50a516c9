/**
 * Chaos: a full disk under the access log and the ACME storage. A small tmpfs mounted by the test
 * on a folder of its own (never a real disk) is filled up before the proxy starts. The proxy must
 * serve every request anyway, keep the certificate it obtained in memory and serve it, say once
 * (not per request) that it cannot write, leave no temporary files behind, and write again, both
 * the log and the storage, once there is room. Needs root (mount); skipped with the reason
 * otherwise, and without pebble (apt-get install pebble) outside CI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acmeContext, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  assertBackToIdle,
  assertClassified,
  type Footprint,
  fireFaults,
  footprint,
  HealthyProbe,
  idleChange,
  paths,
} from '../helpers/chaos.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForFileLines } from '../helpers/wait.ts';

/** Mounts a tmpfs of `size` on `dir`. */
function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
}

function cannotMount(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'tm-disk-probe-'));
  try {
    mountTmpfs(dir, '64k');
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return false;
  } catch (e) {
    return `mounting a tmpfs is not permitted here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = cannotMount() || PEBBLE_SKIP;

/** Writes zeros into `file` until the file system says ENOSPC. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // What is left is less than a block; take it byte by byte.
  const tail = openSync(file, 'a');
  try {
    for (;;) writeSync(tail, Buffer.alloc(1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(tail);
  }
}

function dynamic(names: readonly string[], backend: Backend): string {
  return `http:
  routers:
    ok: { rule: "PathPrefix(\`/ok/\`)", entryPoints: [web], service: be }
${names.map((n, i) => `    tls${i}: { rule: "Host(\`${n}\`)", entryPoints: [websecure], service: be, tls: { certResolver: le } }\n`).join('')}  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
}

describe('chaos: a full disk under the access log and the ACME storage', { skip, concurrency: false }, () => {
  const ONE = 'disk-one.test';
  const TWO = 'disk-two.test';
  let dir: string;
  let disk: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;
  let pid: number;
  let idle: Footprint;
  let tlsPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-chaos-disk-'));
    disk = join(dir, 'disk');
    execFileSync('mkdir', [disk]);
    mountTmpfs(disk, '256k');
    fill(join(disk, 'filler'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  websecure:
    address: "127.0.0.1:${tlsPort}"
    http:
      tls: {}
log: { level: INFO }
accessLog:
  filePath: "${join(disk, 'access.log')}"
  format: json
serversTransport:
  forwardingTimeouts: { idleConnTimeout: 1s }
certificatesResolvers:
  le:
    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(disk, 'acme.json')}"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      httpChallenge: { entryPoint: web }
providers:
  file: { filename: dynamic.yaml }
`,
      files: { 'dynamic.yaml': dynamic([ONE], backend) },
    });
    pid = proxy.child.pid!;
  });

  after(async () => {
    await proxy?.stop();
    await ca?.close();
    await backend?.close();
    if (disk !== undefined) {
      try {
        execFileSync('umount', [disk], { stdio: 'pipe' });
      } catch {}
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the certificate it obtained from memory when the storage cannot be written, and leaves no temporary file', async () => {
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, ONE), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    const failed = await proxy.waitForLog((l) => l.msg === 'acme storage could not be written', 5000);
    assert.match(JSON.stringify(failed), /ENOSPC/);
    const got = await untilTrusted(tlsPort, ONE, root, {
      what: `pebble's certificate for ${ONE}`,
      ms: 10_000,
    });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    // acme.json is the empty file made at start (Traefik's CheckFile creates it, mode 0600): no
    // temporary file beside it, and nothing written into it.
    assert.deepEqual(readdirSync(disk).sort(), ['access.log', 'acme.json', 'filler'], 'no temporary file');
    assert.equal(readFileSync(join(disk, 'acme.json')).length, 0, 'acme.json as made at start');
    idle = footprint(pid);
  });

  it('serves every request while the access log cannot be written, and says so once', async (t) => {
    const probe = new HealthyProbe(`http://127.0.0.1:${proxy.ports['web']}/ok/probe`);
    const results = await fireFaults(proxy.ports['web']!, paths('ok', 'full', 300), 6);
    const stats = await probe.stopAndAssert('full disk');
    assert.deepEqual(await assertClassified(proxy, results), { ok: 300 });
    // The first line that could not be written was reported (the ACME validation requests came
    // first); not one report more for the hundreds after it.
    await proxy.waitForLog((l) => l.msg === 'access log: write failed', 5000);
    const reports = proxy.logs.filter((l) => l.msg === 'access log: write failed');
    assert.equal(reports.length, 1, 'one report for the whole failing stretch');
    assert.match(JSON.stringify(reports[0]), /ENOSPC/);
    t.diagnostic(
      `${stats.ok + 300} requests served on a full disk; access.log holds ${readFileSync(join(disk, 'access.log')).length} bytes`,
    );
    t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, 'full disk')));
  });

  it('writes the access log and the storage again once there is room', async (t) => {
    unlinkSync(join(disk, 'filler'));
    const before = readFileSync(join(disk, 'access.log'), 'latin1');
    const results = await fireFaults(proxy.ports['web']!, paths('ok', 'room', 20), 4);
    assert.deepEqual(await assertClassified(proxy, results), { ok: 20 });
    // The batch cut short by ENOSPC may have left a partial line; every line after it is whole.
    const lines = await waitForFileLines(join(disk, 'access.log'), before.split('\n').length - 1 + 20);
    const logged = lines
      .filter((l) => l.includes('/ok/room-'))
      .map((l) => String((JSON.parse(l.slice(l.indexOf('{'))) as { RequestPath?: unknown }).RequestPath));
    assert.equal(logged.length, 20, `lines after the recovery: ${lines.slice(-3).join('\n')}`);
    // A change makes the manager write again: a second name, then both are in the storage.
    proxy.writeFile('dynamic.yaml', dynamic([ONE, TWO], backend));
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, TWO), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    const storage = JSON.parse(readFileSync(join(disk, 'acme.json'), 'utf8')) as {
      le?: { Certificates?: { domain?: { main?: string } }[] };
    };
    const stored = (storage.le?.Certificates ?? []).map((c) => c.domain?.main).sort();
    assert.deepEqual(stored, [ONE, TWO]);
    assert.ok(existsSync(join(disk, 'acme.json')));
    t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, 'disk recovered', 15_000)));
  });
});
