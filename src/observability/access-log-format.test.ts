import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import {
  AccessLog,
  type AccessLogFields,
  type AccessLogFilters,
  type AccessLogOptions,
  type AccessRecord,
} from './access-log.ts';

/*
 * What lands in the file: Traefik's filters (a record is kept when it matches any configured
 * filter) and field modes (keep, drop, redact; for the record's fields and request headers).
 */

const BASE: AccessRecord = {
  startTime: Date.UTC(2024, 2, 5, 7, 8, 9, 120),
  clientIp: '192.0.2.7',
  method: 'GET',
  host: 'shop.test',
  path: '/app/cart',
  query: 'id=3',
  protocol: 'HTTP/1.1',
  status: 200,
  bytesIn: 0,
  bytesOut: 512,
  durationMs: 12.3456,
  entryPoint: 'web',
  router: 'app@file',
  service: 'be@file',
  server: 'http://10.0.0.1:8080',
  userAgent: 'curl/8',
  referer: 'http://ref.test/',
};

function rec(over: Partial<AccessRecord> = {}): AccessRecord {
  return { ...BASE, ...over };
}

/** Logs `records` to a fresh temp file with `opts` and returns the file's lines. */
async function written(
  t: TestContext,
  opts: Omit<AccessLogOptions, 'filePath'>,
  records: readonly AccessRecord[],
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const log = new AccessLog({ ...opts, filePath: file });
  for (const r of records) log.log(r);
  await log.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  return lines;
}

async function json(
  t: TestContext,
  opts: Omit<AccessLogOptions, 'filePath' | 'format'>,
  records: readonly AccessRecord[],
): Promise<Record<string, unknown>[]> {
  return (await written(t, { ...opts, format: 'json' }, records)).map(
    (l) => JSON.parse(l) as Record<string, unknown>,
  );
}

function filters(over: Partial<AccessLogFilters>): AccessLogFilters {
  return { statusCodes: [], retryAttempts: false, minDuration: 0, ...over };
}

function fields(over: Partial<AccessLogFields>): AccessLogFields {
  return { defaultMode: 'keep', names: {}, headers: { defaultMode: 'drop', names: {} }, ...over };
}

const statuses = (rs: Record<string, unknown>[]) => rs.map((r) => r.status);

describe('access log filters', () => {
  const mixed = [200, 301, 302, 303, 404, 500, 503].map((status) => rec({ status }));

  it('keeps every record without filters, and with filters that configure nothing', async (t) => {
    assert.deepEqual(statuses(await json(t, {}, mixed)), [200, 301, 302, 303, 404, 500, 503]);
    assert.deepEqual(
      statuses(await json(t, { filters: filters({}) }, mixed)),
      [200, 301, 302, 303, 404, 500, 503],
    );
  });

  it('keeps only statuses in one of the ranges, bounds included', async (t) => {
    const kept = await json(t, { filters: filters({ statusCodes: ['404', '300-302', ' 500-500 '] }) }, mixed);
    assert.deepEqual(statuses(kept), [301, 302, 404, 500]);
  });

  it('keeps only retried records when retryAttempts is on', async (t) => {
    const rs = [
      rec({ status: 200 }),
      rec({ status: 201, retryAttempts: 0 }),
      rec({ status: 202, retryAttempts: 2 }),
    ];
    assert.deepEqual(statuses(await json(t, { filters: filters({ retryAttempts: true }) }, rs)), [202]);
  });

  it('keeps only records that took at least minDuration', async (t) => {
    const rs = [
      rec({ status: 200, durationMs: 99.9 }),
      rec({ status: 201, durationMs: 100 }),
      rec({ status: 202, durationMs: 2500 }),
    ];
    assert.deepEqual(statuses(await json(t, { filters: filters({ minDuration: 100 }) }, rs)), [201, 202]);
  });

  it('keeps a record that matches any one of several filters', async (t) => {
    const rs = [
      rec({ status: 200, durationMs: 5 }), // matches nothing
      rec({ status: 201, durationMs: 5, retryAttempts: 1 }), // retried
      rec({ status: 202, durationMs: 800 }), // slow
      rec({ status: 503, durationMs: 5 }), // status
      rec({ status: 204, durationMs: 5, retryAttempts: 0 }), // matches nothing
    ];
    const f = filters({ statusCodes: ['500-599'], retryAttempts: true, minDuration: 500 });
    assert.deepEqual(statuses(await json(t, { filters: f }, rs)), [201, 202, 503]);
  });

  it('counts filtered-out requests in the CLF request count, as Traefik does', async (t) => {
    const lines = await written(t, { format: 'common', filters: filters({ statusCodes: ['404'] }) }, [
      rec({ status: 200 }),
      rec({ status: 404 }),
      rec({ status: 200 }),
      rec({ status: 404 }),
    ]);
    assert.deepEqual(
      lines.map((l) => / 404 512 "[^"]*" "[^"]*" (\d+) /.exec(l)?.[1]),
      ['2', '4'],
    );
  });

  it('rejects a malformed status range', () => {
    assert.throws(
      () => new AccessLog({ format: 'json', filePath: '', filters: filters({ statusCodes: ['4xx'] }) }),
      /invalid status code range "4xx"/,
    );
  });
});

describe('access log fields (JSON)', () => {
  it('writes the same line with default field modes as without fields', async (t) => {
    const r = rec({ requestHeaders: HeaderList.from([['Authorization', 'Bearer x']]) });
    const plain = await written(t, { format: 'json' }, [r]);
    const moded = await written(t, { format: 'json', fields: fields({}) }, [r]);
    assert.deepEqual(moded, plain);
    assert.deepEqual(JSON.parse(plain[0]!), {
      time: '2024-03-05T07:08:09.120Z',
      clientIp: '192.0.2.7',
      method: 'GET',
      host: 'shop.test',
      path: '/app/cart?id=3',
      protocol: 'HTTP/1.1',
      status: 200,
      bytesIn: 0,
      bytesOut: 512,
      durationMs: 12.346,
      entryPoint: 'web',
      router: 'app@file',
      service: 'be@file',
      server: 'http://10.0.0.1:8080',
    });
  });

  it('writes retryAttempts only for retried requests, with or without field modes', async (t) => {
    const rs = [rec(), rec({ retryAttempts: 0 }), rec({ retryAttempts: 2 })];
    for (const opts of [{}, { fields: fields({}) }]) {
      assert.deepEqual(
        (await json(t, opts, rs)).map((r) => r.retryAttempts),
        [undefined, undefined, 2],
      );
    }
  });

  it('drops and redacts fields named by our key or by Traefik name, in any case', async (t) => {
    const names = {
      clientIp: 'redact',
      ClientHost: 'keep',
      RequestHost: 'drop',
      routername: 'redact',
    } as const;
    const [r] = await json(t, { fields: fields({ names }) }, [rec()]);
    assert.equal(r!.clientIp, 'REDACTED', 'our own key wins over the alias');
    assert.equal('host' in r!, false);
    assert.equal(r!.router, 'REDACTED');
    assert.equal(r!.service, 'be@file', 'unnamed fields follow defaultMode keep');
  });

  it('keeps only the named fields when defaultMode is drop', async (t) => {
    const f = fields({
      defaultMode: 'drop',
      names: { DownstreamStatus: 'keep', path: 'keep', Duration: 'redact' },
    });
    const [r] = await json(t, { fields: f }, [rec({ retryAttempts: 1 })]);
    assert.deepEqual(r, { path: '/app/cart?id=3', status: 200, durationMs: 'REDACTED' });
  });

  it('redacts every field when defaultMode is redact', async (t) => {
    const [r] = await json(t, { fields: fields({ defaultMode: 'redact' }) }, [rec()]);
    assert.ok(Object.keys(r!).length === 14);
    for (const [k, v] of Object.entries(r!)) assert.equal(v, 'REDACTED', k);
  });

  it('writes request headers as request_<Canonical-Name> when their default mode is keep', async (t) => {
    const headers = HeaderList.from([
      ['x-request-ID', 'abc'],
      ['Accept', 'text/html'],
      ['accept', 'application/json'],
    ]);
    const f = fields({ headers: { defaultMode: 'keep', names: {} } });
    const [r] = await json(t, { fields: f }, [rec({ requestHeaders: headers })]);
    assert.equal(r!['request_X-Request-Id'], 'abc');
    assert.equal(r!.request_Accept, 'text/html, application/json', 'repeated fields join in order');
  });

  it('matches header names case-insensitively for keep, drop and redact', async (t) => {
    const headers = HeaderList.from([
      ['authorization', 'Bearer secret-token'],
      ['X-Trace', 't1'],
      ['COOKIE', 'sid=1'],
      ['User-Agent', 'curl/8'],
    ]);
    const f = fields({
      headers: {
        defaultMode: 'drop',
        names: { Authorization: 'redact', 'x-trace': 'keep', Cookie: 'redact' },
      },
    });
    const lines = await written(t, { format: 'json', fields: f }, [rec({ requestHeaders: headers })]);
    const r = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(r.request_Authorization, 'REDACTED');
    assert.equal(r.request_Cookie, 'REDACTED');
    assert.equal(r['request_X-Trace'], 't1');
    assert.equal('request_User-Agent' in r, false, 'dropped by the default mode');
    assert.doesNotMatch(lines[0]!, /secret-token|sid=1/);
  });

  it('applies a header default of redact with per-name exceptions', async (t) => {
    const headers = HeaderList.from([
      ['Host', 'shop.test'],
      ['User-Agent', 'curl/8'],
    ]);
    const f = fields({ headers: { defaultMode: 'redact', names: { 'USER-AGENT': 'keep' } } });
    const [r] = await json(t, { fields: f }, [rec({ requestHeaders: headers })]);
    assert.equal(r!.request_Host, 'REDACTED');
    assert.equal(r!['request_User-Agent'], 'curl/8');
  });

  it('falls back to the user agent and referer when the record has no header list', async (t) => {
    const f = fields({ headers: { defaultMode: 'keep', names: { referer: 'redact' } } });
    const [r] = await json(t, { fields: f }, [rec()]);
    assert.equal(r!['request_User-Agent'], 'curl/8');
    assert.equal(r!.request_Referer, 'REDACTED');
  });
});

describe('access log common format', () => {
  const expected =
    '192.0.2.7 - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart?id=3 HTTP/1.1" 200 512 "http://ref.test/" "curl/8" 1 "app@file" "http://10.0.0.1:8080" 12ms';

  it('writes Traefik-flavoured CLF, "-" for empty quoted fields', async (t) => {
    const lines = await written(t, { format: 'common' }, [
      rec(),
      rec({ referer: '', userAgent: '', router: '', server: '', query: '' }),
    ]);
    assert.deepEqual(lines, [
      expected,
      '192.0.2.7 - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart HTTP/1.1" 200 512 "-" "-" 2 "-" "-" 12ms',
    ]);
  });

  it('is unchanged by default field modes and by header modes for headers it does not show', async (t) => {
    const f = fields({ headers: { defaultMode: 'drop', names: { Authorization: 'redact' } } });
    const r = rec({ requestHeaders: HeaderList.from([['Authorization', 'Bearer x']]) });
    assert.deepEqual(await written(t, { format: 'common', fields: f }, [r]), [expected]);
  });

  it('writes "-" for dropped fields and REDACTED for redacted ones', async (t) => {
    const f = fields({
      names: { ClientHost: 'drop', RouterName: 'redact', duration: 'drop', RequestCount: 'redact' },
      headers: { defaultMode: 'drop', names: { 'user-agent': 'drop', Referer: 'redact' } },
    });
    assert.deepEqual(await written(t, { format: 'common', fields: f }, [rec()]), [
      '- - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart?id=3 HTTP/1.1" 200 512 "REDACTED" "-" REDACTED "REDACTED" "http://10.0.0.1:8080" -',
    ]);
  });
});
