import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { AccessLogConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import { AccessLog, type AccessRecord, createAccessLog } from './access-log.ts';

/*
 * The writer against real files: batching, close, and reopen for logrotate (rename, then reopen:
 * later lines go to a new file at the old path, and no line is lost or reordered).
 */

function rec(path: string, status = 200): AccessRecord {
  return {
    startTime: Date.UTC(2024, 0, 1),
    clientIp: '127.0.0.1',
    method: 'GET',
    host: 'h.test',
    path,
    query: '',
    protocol: 'HTTP/1.1',
    status,
    bytesIn: 0,
    bytesOut: 1,
    durationMs: 1,
    entryPoint: 'web',
    router: '',
    service: '',
    server: '',
    userAgent: '',
    referer: '',
  };
}

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'access.log');
}

/** The RequestPath of every JSON line in `file` ([] when the file does not exist). */
function paths(file: string): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  return lines.map((l) => (JSON.parse(l) as { RequestPath: string }).RequestPath);
}

/** Taken before any test mocks the timers: the deadline below must stay real. */
const realSetTimeout = setTimeout;
const realClearTimeout = clearTimeout;

/**
 * Resolves once `file` holds `n` lines (woken by file system events, not by polling); the
 * deadline only turns a missing write into a failure instead of a hang.
 */
function linesIn(file: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = watch(dirname(file), () => check());
    const deadline = realSetTimeout(() => {
      w.close();
      reject(new Error(`${file} never held ${n} lines`));
    }, 10_000);
    const check = (): void => {
      if (existsSync(file) && readFileSync(file, 'utf8').split('\n').length > n) {
        realClearTimeout(deadline);
        w.close();
        resolve();
      }
    };
    check();
  });
}

describe('access log writer', () => {
  it('writes every logged line to the file by close, in order', async (t) => {
    const file = tempFile(t);
    const log = new AccessLog({ format: 'json', filePath: file });
    for (let i = 0; i < 50; i++) log.log(rec(`/r${i}`));
    await log.close();
    assert.deepEqual(
      paths(file),
      Array.from({ length: 50 }, (_, i) => `/r${i}`),
    );
  });

  it('ignores lines logged after close, and close twice resolves twice', async (t) => {
    const file = tempFile(t);
    const log = new AccessLog({ format: 'json', filePath: file });
    log.log(rec('/before'));
    const first = log.close();
    log.log(rec('/after'));
    await first;
    await log.close();
    assert.deepEqual(paths(file), ['/before']);
  });

  it('flush() writes the pending lines and leaves the log open', async (t) => {
    const file = tempFile(t);
    const log = new AccessLog({ format: 'json', filePath: file });
    log.log(rec('/a'));
    await log.flush();
    assert.deepEqual(paths(file), ['/a']);
    log.log(rec('/b'));
    await log.close();
    assert.deepEqual(paths(file), ['/a', '/b']);
  });

  it('writes as soon as bufferingSize lines are pending, without waiting for the timer', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] }); // the 50 ms flush timer never fires
    const file = tempFile(t);
    const log = new AccessLog({ format: 'json', filePath: file, bufferingSize: 3 });
    t.after(() => log.close());
    await log.flush(); // the file is open
    for (const p of ['/1', '/2', '/3']) log.log(rec(p));
    await linesIn(file, 3);
    assert.deepEqual(paths(file), ['/1', '/2', '/3']);
  });

  it('writes pending lines when the flush timer fires', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const file = tempFile(t);
    const log = new AccessLog({ format: 'json', filePath: file, bufferBytes: 1 << 20 });
    t.after(() => log.close());
    await log.flush();
    log.log(rec('/1'));
    log.log(rec('/2'));
    t.mock.timers.tick(50);
    await linesIn(file, 2);
    assert.deepEqual(paths(file), ['/1', '/2']);
  });

  describe('reopen', () => {
    it('sends later lines to a new file at the path after a rename, losing none', async (t) => {
      const file = tempFile(t);
      const rotated = `${file}.1`;
      const log = new AccessLog({ format: 'json', filePath: file });
      log.log(rec('/a'));
      await log.flush();
      renameSync(file, rotated);
      log.log(rec('/b')); // still pending, logged before the reopen: the old file's (Traefik's Rotate)
      log.reopen();
      log.log(rec('/c')); // logged while the new file is being opened
      await log.close();
      assert.deepEqual(paths(rotated), ['/a', '/b']);
      assert.deepEqual(paths(file), ['/c']);
    });

    it('lets the write in flight finish on the old file before reopening', async (t) => {
      const file = tempFile(t);
      const rotated = `${file}.1`;
      const log = new AccessLog({ format: 'json', filePath: file, bufferingSize: 1 });
      await log.flush();
      log.log(rec('/a')); // bufferingSize 1: its write starts now, on the old descriptor
      renameSync(file, rotated);
      log.reopen();
      log.log(rec('/b'));
      log.reopen(); // a second request while one is pending changes nothing
      log.log(rec('/c'));
      await log.close();
      assert.deepEqual(paths(rotated), ['/a']);
      assert.deepEqual(paths(file), ['/b', '/c']);
    });

    it('keeps order across many lines and repeated rotations', async (t) => {
      const file = tempFile(t);
      const log = new AccessLog({ format: 'json', filePath: file, bufferingSize: 7 });
      const all: string[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 25; i++) {
          const p = `/r${round}-${i}`;
          all.push(p);
          log.log(rec(p));
        }
        if (round < 3) {
          await log.flush();
          renameSync(file, `${file}.${round}`);
          log.reopen();
        }
      }
      await log.close();
      const seen = [...paths(`${file}.0`), ...paths(`${file}.1`), ...paths(`${file}.2`), ...paths(file)];
      assert.deepEqual(seen, all);
      assert.equal(paths(file)[0], '/r3-0');
    });

    it('goes on writing to the old file when the path cannot be opened again', async (t) => {
      const file = tempFile(t);
      const elsewhere = join(dirname(dirname(file)), `${Date.now()}-moved-${process.pid}`);
      mkdirSync(elsewhere);
      t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
      const errors: string[] = [];
      const log = new AccessLog({
        format: 'json',
        filePath: file,
        onError: (message, error) => errors.push(`${message}: ${(error as NodeJS.ErrnoException).code}`),
      });
      log.log(rec('/a'));
      await log.flush();
      const moved = join(elsewhere, 'access.log');
      renameSync(file, moved);
      rmdirSync(dirname(file));
      log.reopen();
      log.log(rec('/b'));
      await log.close();
      assert.deepEqual(errors, [`access log: cannot open ${file}: ENOENT`]);
      assert.deepEqual(paths(moved), ['/a', '/b']);
    });

    it('does nothing for stdout', async () => {
      const errors: unknown[] = [];
      const log = new AccessLog({ format: 'json', filePath: '', onError: (m) => errors.push(m) });
      log.reopen();
      await log.close();
      assert.deepEqual(errors, []);
    });
  });

  it('reports a file that cannot be opened, drops its lines and still closes', async (t) => {
    const blocker = tempFile(t);
    writeFileSync(blocker, ''); // a regular file where a folder should be
    const file = join(blocker, 'access.log');
    const errors: string[] = [];
    const log = new AccessLog({ format: 'json', filePath: file, onError: (m) => errors.push(m) });
    log.log(rec('/a'));
    await log.close();
    assert.deepEqual(errors, [`access log: cannot open ${file}`]);
  });
});

describe('createAccessLog', () => {
  const config = (over: Partial<AccessLogConfig>): AccessLogConfig => ({
    filePath: '',
    format: 'common',
    bufferingSize: 0,
    addInternals: false,
    dualOutput: false,
    ...over,
  });

  it('maps format, filePath, filters and fields from the static configuration', async (t) => {
    const file = tempFile(t);
    const log = createAccessLog(
      config({
        filePath: file,
        format: 'json',
        filters: { statusCodes: ['404'], retryAttempts: false, minDuration: 0 },
        fields: {
          defaultMode: 'drop',
          names: { RequestPath: 'keep' },
          headers: { defaultMode: 'drop', names: {} },
          queryParameters: { defaultMode: 'keep' },
        },
      }),
    );
    log.log(rec('/ok', 200));
    log.log(rec('/missing', 404));
    await log.close();
    const line = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), ['RequestPath', 'level', 'msg', 'time']);
    assert.equal(line.RequestPath, '/missing');
  });

  it('makes the missing folders of its file', async (t) => {
    const file = join(dirname(tempFile(t)), 'a', 'b', 'access.log');
    const log = createAccessLog(config({ filePath: file, format: 'json' }));
    log.log(rec('/made'));
    await log.close();
    assert.deepEqual(paths(file), ['/made']);
  });

  it('reports open failures through the logger with the file path', async (t) => {
    // No folder can be made under a regular file.
    const blocker = tempFile(t);
    writeFileSync(blocker, '');
    const file = join(blocker, 'access.log');
    const seen: unknown[] = [];
    const logger = { error: (msg: string, fields: unknown) => seen.push([msg, fields]) } as unknown as Logger;
    const log = createAccessLog(config({ filePath: file }), logger);
    await log.close();
    assert.equal(seen.length, 1);
    const [msg, fields] = seen[0] as [string, { filePath: string; error: Error }];
    assert.equal(msg, `access log: cannot open ${file}`);
    assert.equal(fields.filePath, file);
    assert.equal((fields.error as NodeJS.ErrnoException).code, 'ENOTDIR');
  });
});
