import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogFields, Logger, LogLevel } from '../core/logger.ts';
import {
  type CompareOptions,
  MirrorComparator,
  type MirrorResult,
  type MirrorStats,
  SUMMARY_EVERY,
} from './mirror-compare.ts';

interface Line {
  level: LogLevel;
  msg: string;
  fields: LogFields | undefined;
}

function recordingLogger(lines: Line[], debug = true): Logger {
  const log: Logger = {
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
    enabled: (level) => debug || level !== 'debug',
    child: () => log,
  };
  return log;
}

function ok(
  status: number,
  headers: Record<string, string | undefined> = {},
  digest: string | null = 'd1',
): MirrorResult {
  return { ok: true, status, headers, digest, error: null, bytes: 3 };
}

function failed(error: string): MirrorResult {
  return { ok: false, status: 0, headers: {}, digest: null, error, bytes: 0 };
}

const OPTS: CompareOptions = { headers: ['content-type', 'etag'], body: true, maxExamples: 10 };

function stats(over: Partial<MirrorStats> = {}): MirrorStats {
  return {
    compared: 0,
    matched: 0,
    mismatchedStatus: 0,
    mismatchedHeaders: 0,
    mismatchedBody: 0,
    errors: 0,
    ...over,
  };
}

function setup(opts: CompareOptions = OPTS, mirrors: readonly string[] = ['m1', 'm2']) {
  const lines: Line[] = [];
  const cmp = new MirrorComparator('svc', mirrors, opts, recordingLogger(lines));
  return { lines, cmp };
}

describe('MirrorComparator', () => {
  it('counts a match when status, selected headers and digest are equal', () => {
    const { cmp, lines } = setup();
    const c = cmp.begin('GET', '/a');
    c.primary(ok(200, { 'content-type': 'text/plain', etag: '"x"' }));
    c.mirror(0, ok(200, { 'content-type': 'text/plain', etag: '"x"' }));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, matched: 1 }));
    assert.deepEqual(cmp.stats()['m2'], stats());
    assert.equal(lines.length, 0);
  });

  it('reports a status mismatch with both statuses', () => {
    const { cmp, lines } = setup();
    const c = cmp.begin('GET', '/a');
    c.primary(ok(200));
    c.mirror(1, ok(500));
    assert.deepEqual(cmp.stats()['m2'], stats({ compared: 1, mismatchedStatus: 1 }));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'warn');
    assert.equal(lines[0]!.msg, 'mirror mismatch');
    assert.deepEqual(lines[0]!.fields, {
      service: 'svc',
      mirror: 'm2',
      method: 'GET',
      path: '/a',
      status: [200, 500],
      headers: {},
      body: ['d1', 'd1'],
      counts: stats({ compared: 1, mismatchedStatus: 1 }),
    });
  });

  it('logs a summary with the counters every SUMMARY_EVERY comparisons', () => {
    const { cmp, lines } = setup();
    for (let i = 0; i < SUMMARY_EVERY; i++) {
      const c = cmp.begin('GET', '/s');
      c.primary(ok(200));
      c.mirror(0, ok(200));
    }
    const summaries = lines.filter((l) => l.msg === 'mirror comparison');
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!.fields?.['compared'], SUMMARY_EVERY);
  });

  it('reports only the selected headers that differ, a missing header included', () => {
    const { cmp, lines } = setup();
    const c = cmp.begin('GET', '/h');
    c.primary(ok(200, { 'content-type': 'text/plain', etag: '"1"', 'x-other': 'a' }));
    c.mirror(0, ok(200, { 'content-type': 'text/plain', 'x-other': 'b' }));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, mismatchedHeaders: 1 }));
    assert.deepEqual(lines[0]!.fields?.['headers'], { etag: ['"1"', undefined] });
  });

  it('reports a body mismatch when digests differ and body comparison is on', () => {
    const { cmp, lines } = setup();
    const c = cmp.begin('POST', '/b');
    c.primary(ok(200, {}, 'aaa'));
    c.mirror(0, ok(200, {}, 'bbb'));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, mismatchedBody: 1 }));
    assert.deepEqual(lines[0]!.fields?.['body'], ['aaa', 'bbb']);
  });

  it('ignores digests and header names not selected when body comparison is off', () => {
    const { cmp, lines } = setup({ headers: [], body: false, maxExamples: 10 });
    const c = cmp.begin('GET', '/');
    c.primary(ok(200, { etag: '1' }, 'aaa'));
    c.mirror(0, ok(200, { etag: '2' }, 'bbb'));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, matched: 1 }));
    assert.equal(lines.length, 0);
  });

  it('counts every kind a single comparison shows, and logs it once without a body field when body is off', () => {
    const { cmp, lines } = setup({ headers: ['etag'], body: false, maxExamples: 10 });
    const c = cmp.begin('GET', '/');
    c.primary(ok(200, { etag: '1' }));
    c.mirror(0, ok(404, { etag: '2' }));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, mismatchedStatus: 1, mismatchedHeaders: 1 }));
    assert.equal(lines.length, 1);
    assert.equal('body' in (lines[0]!.fields ?? {}), false);
  });

  it('compares the same way when the mirror answers before the primary', () => {
    const { cmp, lines } = setup();
    const c = cmp.begin('GET', '/late');
    c.mirror(0, ok(503));
    c.mirror(1, ok(200));
    assert.deepEqual(cmp.stats()['m1'], stats());
    assert.equal(c.settled, false);
    c.primary(ok(200));
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, mismatchedStatus: 1 }));
    assert.deepEqual(cmp.stats()['m2'], stats({ compared: 1, matched: 1 }));
    assert.deepEqual(lines[0]!.fields?.['status'], [200, 503]);
    assert.equal(c.settled, true);
  });

  it('logs at most maxExamples mismatches per mirror and keeps counting after that', () => {
    const { cmp, lines } = setup({ headers: [], body: false, maxExamples: 2 });
    for (let i = 0; i < 5; i++) {
      const c = cmp.begin('GET', `/${i}`);
      c.primary(ok(200));
      c.mirror(0, ok(500));
      c.mirror(1, ok(502));
    }
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 5, mismatchedStatus: 5 }));
    assert.deepEqual(cmp.stats()['m2'], stats({ compared: 5, mismatchedStatus: 5 }));
    const warned = lines
      .filter((l) => l.level === 'warn')
      .map((l) => [l.fields?.['mirror'], l.fields?.['path']]);
    assert.deepEqual(warned, [
      ['m1', '/0'],
      ['m2', '/0'],
      ['m1', '/1'],
      ['m2', '/1'],
    ]);
  });

  it('counts a mirror error in errors at debug level, not as a mismatch, in either order', () => {
    const { cmp, lines } = setup();
    const a = cmp.begin('GET', '/e');
    a.mirror(0, failed('timeout'));
    a.primary(ok(200));
    const b = cmp.begin('GET', '/e');
    b.primary(ok(200));
    b.mirror(0, failed('UPSTREAM_RESET: boom'));
    assert.deepEqual(cmp.stats()['m1'], stats({ errors: 2 }));
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.fields?.['error']]),
      [
        ['debug', 'mirror error', 'timeout'],
        ['debug', 'mirror error', 'UPSTREAM_RESET: boom'],
      ],
    );
  });

  it('does not compare against a failed primary, whichever side arrives first', () => {
    const { cmp, lines } = setup();
    const a = cmp.begin('GET', '/p');
    a.mirror(0, ok(200));
    a.primary(failed('UPSTREAM_RESET: x'));
    const b = cmp.begin('GET', '/p');
    b.primary(failed('UPSTREAM_RESET: x'));
    b.mirror(0, ok(500));
    assert.deepEqual(cmp.stats()['m1'], stats());
    assert.equal(lines.length, 0);
  });

  it('ignores a result for a skipped mirror and counts nothing for it', () => {
    const { cmp } = setup();
    const c = cmp.begin('GET', '/s');
    c.skip(1);
    c.primary(ok(200));
    c.mirror(0, ok(200));
    c.mirror(1, ok(500));
    assert.deepEqual(cmp.stats()['m2'], stats());
    assert.equal(c.settled, true);
  });

  it('ignores repeated results and out-of-range indexes', () => {
    const { cmp } = setup();
    const c = cmp.begin('GET', '/r');
    c.primary(ok(200));
    c.primary(ok(500));
    c.mirror(0, ok(200));
    c.mirror(0, ok(500));
    c.mirror(7, ok(500));
    c.mirror(-1, ok(500));
    c.skip(9);
    assert.deepEqual(cmp.stats(), {
      m1: stats({ compared: 1, matched: 1 }),
      m2: stats(),
    });
  });

  it('returns a copy of the counters that later requests do not change', () => {
    const { cmp } = setup();
    const before = cmp.stats();
    const c = cmp.begin('GET', '/');
    c.primary(ok(200));
    c.mirror(0, ok(200));
    assert.deepEqual(before['m1'], stats());
    assert.deepEqual(cmp.stats()['m1'], stats({ compared: 1, matched: 1 }));
  });

  it('does not build debug fields when debug is disabled', () => {
    const lines: Line[] = [];
    const cmp = new MirrorComparator('svc', ['m1'], OPTS, recordingLogger(lines, false));
    const c = cmp.begin('GET', '/');
    c.mirror(0, failed('timeout'));
    assert.equal(lines.length, 0);
    assert.deepEqual(cmp.stats()['m1'], stats({ errors: 1 }));
  });
});
