/**
 * The exec provider against real programs: shell scripts written to a temporary folder, which
 * record the arguments they were given. The run's timeout goes through a manual scheduler, so
 * the test decides when it expires.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogFields, Logger } from '../../core/logger.ts';
import { ExecDnsProvider } from './dns01-exec.ts';
import type { Scheduler } from './scheduler.ts';
import { ManualScheduler } from './test-dns01-helpers.ts';

/** Collects debug lines and resolves waiters on the first line that matches. */
class LineLog implements Logger {
  readonly lines: { msg: string; fields: LogFields }[] = [];
  #waiters: { pred: (f: LogFields) => boolean; resolve: () => void }[] = [];
  debug(msg: string, fields: LogFields = {}): void {
    this.lines.push({ msg, fields });
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(fields)) return true;
      w.resolve();
      return false;
    });
  }
  info(): void {}
  warn(): void {}
  error(): void {}
  enabled(): boolean {
    return true;
  }
  child(): Logger {
    return this;
  }
  until(pred: (f: LogFields) => boolean): Promise<void> {
    if (this.lines.some((l) => pred(l.fields))) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
}

describe('ExecDnsProvider', () => {
  let dir: string;
  let n = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dns01-exec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable `sh` script; `$OUT` in its text is a file it may write its findings to. */
  function script(body: string): { path: string; out: string } {
    n++;
    const out = join(dir, `out-${n}`);
    const path = join(dir, `script-${n}.sh`);
    writeFileSync(path, `#!/bin/sh\nOUT='${out}'\n${body}\n`);
    chmodSync(path, 0o755);
    return { path, out };
  }

  const provider = (
    program: string,
    extra: { scheduler?: Scheduler; logger?: Logger; env?: NodeJS.ProcessEnv } = {},
  ) => new ExecDnsProvider({ program, timeoutMs: 60_000, ...extra });

  it('runs the program with present, the record name and the value as three arguments', async () => {
    const s = script(`printf '%s\\n' "$#" "$@" > "$OUT"`);
    await provider(s.path).present(
      '_acme-challenge.example.com.',
      'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM',
    );
    assert.equal(
      readFileSync(s.out, 'utf8'),
      '3\npresent\n_acme-challenge.example.com.\nLHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM\n',
    );
  });

  it('runs the program with cleanup for the withdrawal', async () => {
    const s = script(`printf '%s\\n' "$@" > "$OUT"`);
    await provider(s.path).cleanup('_acme-challenge.example.com.', 'v1');
    assert.equal(readFileSync(s.out, 'utf8'), 'cleanup\n_acme-challenge.example.com.\nv1\n');
  });

  it('passes arguments verbatim, without a shell to interpret them', async () => {
    const s = script(`printf '%s\\n' "$3" > "$OUT"`);
    const marker = join(dir, 'pwned');
    const value = `$(touch ${marker}); \`touch ${marker}\` 'q' "d" *`;
    await provider(s.path).present('_acme-challenge.example.com.', value);
    assert.equal(readFileSync(s.out, 'utf8'), `${value}\n`);
    assert.equal(existsSync(marker), false);
  });

  it('gives the program the environment it was configured with', async () => {
    const s = script(`printf '%s' "$DNS_API_TOKEN" > "$OUT"`);
    await provider(s.path, { env: { PATH: process.env['PATH'], DNS_API_TOKEN: 's3cret' } }).present(
      'a.',
      'b',
    );
    assert.equal(readFileSync(s.out, 'utf8'), 's3cret');
  });

  it('fails on a non-zero exit status with the end of stderr in the error', async () => {
    const s = script(`echo 'progress on stdout'\necho 'zone example.com not found' >&2\nexit 3`);
    await assert.rejects(provider(s.path).present('_acme-challenge.example.com.', 'v'), (e: Error) => {
      assert.equal(
        e.message,
        `exec: ${s.path} present _acme-challenge.example.com.: exited with status 3: zone example.com not found`,
      );
      return true;
    });
  });

  it('quotes stdout when the failing program wrote nothing to stderr', async () => {
    const s = script(`echo 'API answered 403'\nexit 1`);
    await assert.rejects(provider(s.path).cleanup('x.', 'v'), /exited with status 1: API answered 403$/);
  });

  it('keeps only the end of a long stderr', async () => {
    const s = script(
      `i=0; while [ $i -lt 400 ]; do echo "noise line $i" >&2; i=$((i+1)); done\necho 'the real reason' >&2\nexit 2`,
    );
    await assert.rejects(provider(s.path).present('x.', 'v'), (e: Error) => {
      assert.match(e.message, /the real reason$/);
      assert.doesNotMatch(e.message, /noise line 0\n/);
      assert.ok(e.message.length < 1200, `message of ${e.message.length} characters`);
      return true;
    });
  });

  it('reports a program killed by a signal', async () => {
    const s = script('kill -TERM $$');
    await assert.rejects(provider(s.path).present('x.', 'v'), /: was killed by SIGTERM$/);
  });

  it('reports a program that cannot be run', async () => {
    await assert.rejects(provider(join(dir, 'missing.sh')).present('x.', 'v'), /: cannot run it: ENOENT$/);
    const s = script('exit 0');
    chmodSync(s.path, 0o644);
    await assert.rejects(provider(s.path).present('x.', 'v'), /: cannot run it: EACCES$/);
  });

  it('kills a program that outlives the timeout, with what it started, and fails with its stderr', {
    timeout: 10_000,
  }, async () => {
    const s = script(`sleep 30 &\necho $! > "$OUT"\necho 'waiting for the DNS API' >&2\nwait`);
    const scheduler = new ManualScheduler();
    const logger = new LineLog();
    const run = provider(s.path, { scheduler, logger }).present('x.', 'v');
    const outcome = run.then(
      () => undefined,
      (e: Error) => e,
    );
    assert.equal(scheduler.pending[0], 60_000);
    await logger.until((f) => f['line'] === 'waiting for the DNS API');
    scheduler.fire(60_000);
    const err = await outcome;
    assert.ok(err instanceof Error, 'the run failed');
    assert.equal(
      err.message,
      `exec: ${s.path} present x.: no result within 60 s (killed): waiting for the DNS API`,
    );
    const sleeper = Number(readFileSync(s.out, 'utf8'));
    assert.ok(sleeper > 0);
    // The kill reaches the whole group at once, but a killed process closes its pipes (which
    // lets 'close' fire) a moment before the kernel marks it a zombie: give it that moment.
    assert.equal(await dies(sleeper), true, 'the sleep the script started was killed too');
    assert.equal(scheduler.pending.length, 0, 'no timer left behind');
  });

  it('sends the output lines to the debug log and clears its timer on success', async () => {
    const s = script(`echo 'record created'\necho 'propagating' >&2`);
    const scheduler = new ManualScheduler();
    const logger = new LineLog();
    await provider(s.path, { scheduler, logger }).present('x.', 'v');
    assert.deepEqual(logger.lines.map((l) => `${l.msg} ${l.fields['stream']} ${l.fields['line']}`).sort(), [
      'acme dns exec output stderr propagating',
      'acme dns exec output stdout record created',
    ]);
    assert.equal(scheduler.pending.length, 0);
  });
});

/** True once `pid` is dead, polling for up to 2 s (the sleep it was started with is 30 s). */
async function dies(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** False once the process is gone or a zombie (it has closed its descriptors: it is dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
