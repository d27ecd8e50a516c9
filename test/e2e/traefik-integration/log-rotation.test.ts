/**
 * Traefik's integration/log_rotation_test.go and integration/dual_logging_test.go (v3 branch) run
 * against our proxy: each test names the Go test it follows.
 *
 * log_rotation_test.go: fixture integration/fixtures/access_log/access_log_base.toml, reduced to
 * what TestAccessLogRotation uses (the `web` entry point and the compose's rt-server1 router, as a
 * file configuration on a loopback whoami stand-in); `[log]`'s filePath and ERROR level left out
 * (the harness reads the INFO lines on stderr; "traefik.log is empty" is: no error line there); the
 * access log at an absolute path, read once the proxy has stopped. The v3 file has no
 * TestTraefikLogRotation (v2's: Traefik v3 no longer reopens its own log on SIGUSR1).
 *
 * dual_logging_test.go: fixture integration/fixtures/dual_logging/otlp_and_stdout.toml, its
 * docker provider (exposedByDefault = false: no router) left out, the API's entry point declared
 * on port 0. Traefik's marker line is "Starting provider"; ours says other words, so the test
 * looks for one record we write at start ("entry point listening") on both outputs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.ts';
import { within } from '../../helpers/wait.ts';
import { startFixture, startWhoami } from './fixture.ts';
import { checkAccessLogFormat } from './fixture-obs.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

/** Resolves once `path` exists (try.Do's os.Stat loop), polling; bounded. */
async function untilExists(path: string): Promise<void> {
  await within(
    (async () => {
      while (!existsSync(path)) await new Promise((r) => setTimeout(r, 20));
    })(),
    `${path} to exist`,
  );
}

describe('traefik integration/log_rotation_test.go', () => {
  it('TestAccessLogRotation: after a rename and SIGUSR1 the access log goes on in a new file, no line lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-traefik-rotation-'));
    open.push(async () => rmSync(dir, { recursive: true, force: true }));
    const accessLog = join(dir, 'access.log');
    const rotated = `${accessLog}.rotated`;
    const w = await startWhoami('server1');
    open.push(() => w.close());
    const proxy = await startFixture(
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[accessLog]
  filePath = "{{ .AccessLog }}"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers]
  [providers.file]
    filename = "{{ .SelfFilename }}"

[http.routers.rt-server1]
  entryPoints = ["web"]
  rule = "Host(\`frontend1.docker.local\`)"
  service = "service1"

[[http.services.service1.loadBalancer.servers]]
  url = "{{ .Server1 }}"
`,
      { AccessLog: accessLog, Server1: w.url },
    );
    open.push(() => proxy.stop());
    const req = () => httpRequest(proxy.ports.web!, { headers: { Host: 'frontend1.docker.local' } });

    assert.equal((await req()).status, 200);
    // The file is opened at start (the Go test renames it right after its first answer).
    await untilExists(accessLog);
    renameSync(accessLog, rotated);
    // "in the midst of the requests, issue SIGUSR1 signal to server process"
    proxy.child.kill('SIGUSR1');
    assert.equal((await req()).status, 200);
    assert.equal((await req()).status, 200);
    await untilExists(accessLog);

    assert.equal(await proxy.stop(), 0);
    // verifyLogLines: the rotated file's lines, then the new file's, numbered on from there.
    let count = 0;
    for (const file of [rotated, accessLog]) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        checkAccessLogFormat(line, count);
        count++;
      }
      if (file === rotated) assert.ok(count >= 1, 'the rotated file keeps the first line');
    }
    assert.equal(count, 3);
    assert.ok(statSync(accessLog).isFile());
    // verifyEmptyErrorLog
    assert.deepEqual(
      proxy.logs.filter((l) => l.level === 'error' || l.level === 'fatal'),
      [],
    );
  });
});

describe('traefik integration/dual_logging_test.go', () => {
  it('TestOTLPAndStdoutLogging: the log goes both to its usual output and to the OTLP collector', async () => {
    const collector = await startOtlpReceiver();
    open.push(() => collector.close());
    const proxy = await startFixture(
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "INFO"

[experimental]
  otlpLogs = true

[log.otlp]
  serviceName = "traefik-test"
  [log.otlp.http]
    endpoint = "{{ .CollectorURL }}"

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[api]
`,
      { CollectorURL: `${collector.base}/v1/logs` },
    );
    open.push(() => proxy.stop());
    const marker = 'entry point listening';
    // s.waitForTraefik("dashboard"): the API answers.
    assert.equal((await httpRequest(proxy.ports.traefik!, { path: '/api/rawdata' })).status, 200);
    assert.equal(await proxy.stop(), 0);
    const otlp = await collector.waitForLog(
      (l) => l.body === marker && l.resource['service.name'] === 'traefik-test',
    );
    assert.equal(otlp.body, marker);
    assert.ok(
      proxy.logs.some((l) => l.msg === marker),
      'the same record on the usual output (stderr here, JSON)',
    );
  });
});
