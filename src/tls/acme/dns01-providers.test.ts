/**
 * dnsProviderFor: lego's environment variables to a working provider, or a start-up error that
 * names what is wrong. The providers built are exercised for real (a script, an HTTP server),
 * so that a variable read but not used would fail here too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import type { LogFields, Logger } from '../../core/logger.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { ExecDnsProvider } from './dns01-exec.ts';
import { HttpReqDnsProvider } from './dns01-httpreq.ts';
import { PropagationCheckedDnsProvider } from './dns01-propagation.ts';
import { ChallTestSrvDnsProvider } from './dns01-provider.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import type { Scheduler } from './scheduler.ts';

/** The providers alone: their `present` does not wait for a propagation check. */
const UNCHECKED_EXEC: DnsChallengeConfig = { provider: 'exec', propagation: { disableChecks: true } };
const UNCHECKED_HTTPREQ: DnsChallengeConfig = { provider: 'httpreq', propagation: { disableChecks: true } };

/** Records the delay of every timer; never runs them. */
class RecordingScheduler implements Scheduler {
  readonly delays: number[] = [];
  setTimeout(_fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    return ms;
  }
  clearTimeout(): void {}
}

class WarnLog implements Logger {
  readonly warnings: { msg: string; fields: LogFields | undefined }[] = [];
  readonly children: LogFields[] = [];
  debug(): void {}
  info(): void {}
  warn(msg: string, fields?: LogFields): void {
    this.warnings.push({ msg, fields });
  }
  error(): void {}
  enabled(): boolean {
    return true;
  }
  child(fields: LogFields): Logger {
    this.children.push(fields);
    return this;
  }
}

/** Records the delay of every timer and runs it on the next turn of the event loop. */
class PromptScheduler implements Scheduler {
  readonly delays: number[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    return setImmediate(fn);
  }
  clearTimeout(h: unknown): void {
    clearImmediate(h as NodeJS.Immediate);
  }
}

/** The check's settings, or a test failure when `p` comes without a check. */
function settingsOf(p: unknown) {
  assert.ok(p instanceof PropagationCheckedDnsProvider, 'wrapped in a propagation check');
  return p.check.settings;
}

/** The message of the Dns01ConfigError that `fn` throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Dns01ConfigError, `a Dns01ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('no error was thrown');
}

describe('dnsProviderFor', () => {
  let dir: string;
  let server: Server;
  let endpoint: string;
  const seen: { url: string; auth: string | undefined; body: string }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dns01-providers-'));
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function recorder(name: string): { path: string; out: string } {
    const out = join(dir, `${name}.out`);
    const path = join(dir, `${name}.sh`);
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}'\n`);
    chmodSync(path, 0o755);
    return { path, out };
  }

  describe('exec', () => {
    it('runs the program named by EXEC_PATH', async () => {
      const s = recorder('plain');
      const p = dnsProviderFor(UNCHECKED_EXEC, { EXEC_PATH: s.path });
      assert.ok(p instanceof ExecDnsProvider);
      await p.present('_acme-challenge.example.com.', 'v');
      assert.equal(readFileSync(s.out, 'utf8'), 'present\n_acme-challenge.example.com.\nv\n');
    });

    it('reads the program from the file named by EXEC_PATH_FILE, without its final newline', async () => {
      const s = recorder('from-file');
      const file = join(dir, 'exec-path');
      writeFileSync(file, `${s.path}\n`);
      await dnsProviderFor(UNCHECKED_EXEC, { EXEC_PATH_FILE: file }).cleanup('x.', 'v');
      assert.equal(readFileSync(s.out, 'utf8'), 'cleanup\nx.\nv\n');
    });

    it('is a start-up error without EXEC_PATH, naming the variable and the resolver', () => {
      assert.equal(
        configError(() => dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: '' }, { resolver: 'le' })),
        'certificatesResolvers.le.acme.dnsChallenge (provider exec): the exec provider needs the environment variable EXEC_PATH (or EXEC_PATH_FILE)',
      );
    });

    it('names an EXEC_PATH_FILE that cannot be read', () => {
      const missing = join(dir, 'nope');
      assert.match(
        configError(() => dnsProviderFor({ provider: 'exec' }, { EXEC_PATH_FILE: missing })),
        new RegExp(`: cannot read EXEC_PATH_FILE \\(${missing}\\): ENOENT$`),
      );
    });

    it('rejects EXEC_MODE=RAW, which needs what our solver does not hand providers', () => {
      assert.match(
        configError(() => dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: '/bin/true', EXEC_MODE: 'RAW' })),
        /EXEC_MODE=RAW is not supported yet/,
      );
      assert.match(
        configError(() => dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: '/bin/true', EXEC_MODE: 'raw' })),
        /EXEC_MODE="raw": lego knows only RAW, or no mode at all/,
      );
    });

    it('bounds each run by EXEC_PROPAGATION_TIMEOUT seconds, 60 by default', async () => {
      const s = recorder('timeouts');
      const scheduler = new RecordingScheduler();
      await dnsProviderFor(UNCHECKED_EXEC, { EXEC_PATH: s.path }, { scheduler }).present('x.', 'v');
      await dnsProviderFor(
        UNCHECKED_EXEC,
        { EXEC_PATH: s.path, EXEC_PROPAGATION_TIMEOUT: '5' },
        { scheduler },
      ).present('x.', 'v');
      assert.deepEqual(scheduler.delays, [60_000, 5_000]);
      for (const bad of ['5s', '0', '-1', '1.5']) {
        assert.match(
          configError(() =>
            dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: s.path, EXEC_PROPAGATION_TIMEOUT: bad }),
          ),
          new RegExp(`EXEC_PROPAGATION_TIMEOUT=${JSON.stringify(bad)} must be a whole number of seconds`),
        );
      }
    });
  });

  describe('httpreq', () => {
    it('posts to HTTPREQ_ENDPOINT with the Basic credentials of HTTPREQ_USERNAME and HTTPREQ_PASSWORD', async () => {
      const mark = seen.length;
      const p = dnsProviderFor(UNCHECKED_HTTPREQ, {
        HTTPREQ_ENDPOINT: `${endpoint}/dns`,
        HTTPREQ_USERNAME: 'u',
        HTTPREQ_PASSWORD: 'p',
      });
      assert.ok(p instanceof HttpReqDnsProvider);
      await p.present('_acme-challenge.example.com.', 'v');
      assert.deepEqual(seen.slice(mark), [
        {
          url: '/dns/present',
          auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
          body: '{"fqdn":"_acme-challenge.example.com.","value":"v"}',
        },
      ]);
    });

    it('reads the password from HTTPREQ_PASSWORD_FILE', async () => {
      const file = join(dir, 'password');
      writeFileSync(file, 'from-a-secret\n');
      const mark = seen.length;
      await dnsProviderFor(UNCHECKED_HTTPREQ, {
        HTTPREQ_ENDPOINT: endpoint,
        HTTPREQ_USERNAME: 'u',
        HTTPREQ_PASSWORD_FILE: file,
      }).cleanup('x.', 'v');
      assert.equal(seen[mark]?.auth, `Basic ${Buffer.from('u:from-a-secret').toString('base64')}`);
    });

    it('warns when only one of HTTPREQ_USERNAME and HTTPREQ_PASSWORD is set (lego then sends none)', () => {
      const logger = new WarnLog();
      dnsProviderFor(
        { provider: 'httpreq' },
        { HTTPREQ_ENDPOINT: endpoint, HTTPREQ_USERNAME: 'u' },
        { logger, resolver: 'dns' },
      );
      assert.deepEqual(logger.warnings, [
        {
          msg: 'httpreq: Basic authentication needs both HTTPREQ_USERNAME and HTTPREQ_PASSWORD',
          fields: { missing: 'HTTPREQ_PASSWORD' },
        },
      ]);
      assert.deepEqual(logger.children, [{ resolver: 'dns' }]);
    });

    it('bounds each exchange by HTTPREQ_HTTP_TIMEOUT seconds, 30 by default', async () => {
      const scheduler = new RecordingScheduler();
      await dnsProviderFor(UNCHECKED_HTTPREQ, { HTTPREQ_ENDPOINT: endpoint }, { scheduler }).present(
        'x.',
        'v',
      );
      await dnsProviderFor(
        UNCHECKED_HTTPREQ,
        { HTTPREQ_ENDPOINT: endpoint, HTTPREQ_HTTP_TIMEOUT: '7' },
        { scheduler },
      ).present('x.', 'v');
      assert.deepEqual(scheduler.delays, [30_000, 7_000]);
    });

    it('is a start-up error without HTTPREQ_ENDPOINT, naming the variable', () => {
      assert.equal(
        configError(() => dnsProviderFor({ provider: 'httpreq' }, {}, { resolver: 'dns' })),
        'certificatesResolvers.dns.acme.dnsChallenge (provider httpreq): the httpreq provider needs the environment variable HTTPREQ_ENDPOINT (or HTTPREQ_ENDPOINT_FILE)',
      );
    });

    it('rejects an endpoint that is not an http or https URL, without quoting it', () => {
      const notUrl = configError(() =>
        dnsProviderFor({ provider: 'httpreq' }, { HTTPREQ_ENDPOINT: 'user:secret-pass@dns-api' }),
      );
      assert.match(notUrl, /HTTPREQ_ENDPOINT (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
      assert.doesNotMatch(notUrl, /secret-pass/);
      assert.match(
        configError(() => dnsProviderFor({ provider: 'httpreq' }, { HTTPREQ_ENDPOINT: 'ftp://dns-api/' })),
        /HTTPREQ_ENDPOINT must be an http:\/\/ or https:\/\/ URL, not ftp:\/\//,
      );
    });

    it('lists every problem at once', () => {
      const msg = configError(() =>
        dnsProviderFor({ provider: 'httpreq' }, { HTTPREQ_MODE: 'RAW', HTTPREQ_HTTP_TIMEOUT: 'soon' }),
      );
      assert.match(msg, /needs the environment variable HTTPREQ_ENDPOINT/);
      assert.match(msg, /HTTPREQ_MODE=RAW is not supported yet/);
      assert.match(msg, /HTTPREQ_HTTP_TIMEOUT="soon" must be a whole number of seconds/);
    });
  });

  it('builds the challtestsrv provider from its management URL, reading no variable', () => {
    const p = dnsProviderFor({ provider: 'challtestsrv', managementUrl: 'http://127.0.0.1:8055' }, {});
    assert.ok(p instanceof ChallTestSrvDnsProvider);
    assert.match(
      configError(() => dnsProviderFor({ provider: 'challtestsrv' }, {})),
      /managementUrl is required/,
    );
  });
});

describe('dnsProviderFor and the propagation check', () => {
  let ok: Server;
  let okUrl: string;
  before(async () => {
    // Answers 200 to anything, as challtestsrv does to /set-txt.
    ok = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => ok.listen(0, '127.0.0.1', resolve));
    okUrl = `http://127.0.0.1:${(ok.address() as AddressInfo).port}`;
  });
  after(async () => {
    ok.closeAllConnections();
    await new Promise<void>((resolve) => ok.close(() => resolve()));
  });

  const LEGO_DEFAULTS = {
    resolvers: [],
    delayBeforeChecksMs: 0,
    disableChecks: false,
    requireAllRNS: false,
    disableANSChecks: false,
    timeoutMs: 60_000,
    intervalMs: 2_000,
  };

  it("checks on the zone's authoritative nameservers by default, for 60 s every 2 s (lego's defaults)", () => {
    const exec = dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: '/bin/true' });
    assert.deepEqual(settingsOf(exec), LEGO_DEFAULTS);
    assert.ok((exec as PropagationCheckedDnsProvider).provider instanceof ExecDnsProvider);
    const httpreq = dnsProviderFor({ provider: 'httpreq' }, { HTTPREQ_ENDPOINT: 'http://127.0.0.1:1' });
    assert.deepEqual(settingsOf(httpreq), LEGO_DEFAULTS);
    assert.ok((httpreq as PropagationCheckedDnsProvider).provider instanceof HttpReqDnsProvider);
  });

  it("takes the timeout and interval from the provider's PROPAGATION_TIMEOUT and POLLING_INTERVAL", () => {
    const exec = dnsProviderFor(
      { provider: 'exec' },
      { EXEC_PATH: '/bin/true', EXEC_PROPAGATION_TIMEOUT: '300', EXEC_POLLING_INTERVAL: '10' },
    );
    assert.deepEqual(settingsOf(exec), { ...LEGO_DEFAULTS, timeoutMs: 300_000, intervalMs: 10_000 });
    const httpreq = dnsProviderFor(
      { provider: 'httpreq' },
      {
        HTTPREQ_ENDPOINT: 'http://127.0.0.1:1',
        HTTPREQ_PROPAGATION_TIMEOUT: '120',
        HTTPREQ_POLLING_INTERVAL: '5',
      },
    );
    assert.deepEqual(settingsOf(httpreq), { ...LEGO_DEFAULTS, timeoutMs: 120_000, intervalMs: 5_000 });
    assert.match(
      configError(() =>
        dnsProviderFor(
          { provider: 'httpreq' },
          { HTTPREQ_ENDPOINT: 'http://x', HTTPREQ_POLLING_INTERVAL: '2s' },
        ),
      ),
      /HTTPREQ_POLLING_INTERVAL="2s" must be a whole number of seconds/,
    );
  });

  it('passes the configured resolvers and propagation keys to the check', () => {
    const p = dnsProviderFor(
      {
        provider: 'exec',
        resolvers: ['192.0.2.53:53'],
        propagation: { delayBeforeChecks: 5_000, requireAllRNS: true, disableANSChecks: true },
      },
      { EXEC_PATH: '/bin/true' },
    );
    assert.deepEqual(settingsOf(p), {
      ...LEGO_DEFAULTS,
      resolvers: ['192.0.2.53:53'],
      delayBeforeChecksMs: 5_000,
      requireAllRNS: true,
      disableANSChecks: true,
    });
  });

  it('checks challtestsrv records on the resolvers only, and not at all without resolvers', () => {
    const managementUrl = 'http://127.0.0.1:8055';
    assert.ok(
      dnsProviderFor({ provider: 'challtestsrv', managementUrl }, {}) instanceof ChallTestSrvDnsProvider,
    );
    const p = dnsProviderFor({ provider: 'challtestsrv', managementUrl, resolvers: ['127.0.0.1:8053'] }, {});
    assert.deepEqual(settingsOf(p), {
      ...LEGO_DEFAULTS,
      resolvers: ['127.0.0.1:8053'],
      requireAllRNS: true,
      disableANSChecks: true,
    });
  });

  it('runs delayBeforeChecks on the scheduler of the context, even with disableChecks', async () => {
    const scheduler = new PromptScheduler();
    const p = dnsProviderFor(
      {
        provider: 'challtestsrv',
        managementUrl: okUrl,
        propagation: { disableChecks: true, delayBeforeChecks: 7_000 },
      },
      {},
      { scheduler },
    );
    await p.present('_acme-challenge.example.com.', 'v');
    assert.deepEqual(scheduler.delays, [7_000]);
  });

  it('leaves node:dns unloaded until a check runs', () => {
    // A process of its own: this one has loaded node:dns already (listen on a host name does).
    const script = `
      const { dnsProviderFor } = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});
      dnsProviderFor({ provider: 'exec' }, { EXEC_PATH: '/bin/true' });
      const loaded = process.moduleLoadList.filter((m) => /^NativeModule (dns|internal\\/dns\\/(callback_resolver|promises))$/.test(m));
      process.stdout.write(JSON.stringify(loaded));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  it("warns once about each deprecated key, naming Traefik's replacement", () => {
    const logger = new WarnLog();
    const p = dnsProviderFor(
      { provider: 'exec', delayBeforeCheck: 10_000, disablePropagationCheck: true },
      { EXEC_PATH: '/bin/true' },
      { logger, resolver: 'le' },
    );
    assert.deepEqual(logger.warnings, [
      {
        msg: '`delayBeforeCheck` is deprecated: use `propagation.delayBeforeChecks`',
        fields: { key: 'dnsChallenge.delayBeforeCheck' },
      },
      {
        msg: '`disablePropagationCheck` is deprecated: use `propagation.disableChecks`',
        fields: { key: 'dnsChallenge.disablePropagationCheck' },
      },
    ]);
    assert.deepEqual(settingsOf(p), { ...LEGO_DEFAULTS, delayBeforeChecksMs: 10_000, disableChecks: true });
  });
});
