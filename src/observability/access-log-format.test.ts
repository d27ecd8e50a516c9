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

const statuses = (rs: Record<string, unknown>[]) => rs.map((r) => r.DownstreamStatus);

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
    const kept = await json(t, { filters: filters({ statusCodes: ['404', '300-302', '500-500'] }) }, mixed);
    assert.deepEqual(statuses(kept), [301, 302, 404, 500]);
    // A space is no digit to Go's Atoi: the list does not read, and nothing is filtered on status.
    const spaced = await json(t, { filters: filters({ statusCodes: ['404', ' 500-500 '] }) }, mixed);
    assert.equal(statuses(spaced).length, mixed.length);
  });

  it('keeps only retried records when retryAttempts is on', async (t) => {
    const rs = [
      rec({ status: 200 }),
      rec({ status: 201, retryAttempts: 0 }),
      rec({ status: 202, retryAttempts: 2 }),
    ];
    assert.deepEqual(statuses(await json(t, { filters: filters({ retryAttempts: true }) }, rs)), [202]);
  });

  it('keeps only records that took longer than minDuration, as Traefik compares', async (t) => {
    const rs = [
      rec({ status: 200, durationMs: 99.9 }),
      rec({ status: 201, durationMs: 100 }),
      rec({ status: 202, durationMs: 100.001 }),
      rec({ status: 203, durationMs: 2500 }),
    ];
    assert.deepEqual(statuses(await json(t, { filters: filters({ minDuration: 100 }) }, rs)), [202, 203]);
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

  it("has no status filter when a range does not read, as Traefik's NewHandler (NewHTTPCodeRanges)", async (t) => {
    // pkg/middlewares/accesslog/logger.go: "Failed to create new HTTP code ranges" is logged and
    // httpCodeRanges stays empty; keepAccessLog then keeps all (or what the other filters keep).
    const rs = [rec({ status: 200 }), rec({ status: 404, retryAttempts: 1 }), rec({ status: 503 })];
    const all = await json(t, { filters: filters({ statusCodes: ['404', '4xx'] }) }, rs);
    assert.deepEqual(statuses(all), [200, 404, 503]);
    const retried = await json(t, { filters: filters({ statusCodes: ['5o0'], retryAttempts: true }) }, rs);
    assert.deepEqual(statuses(retried), [404]);
    // Any numbers read, as Atoi reads them; a reversed range keeps nothing.
    const wide = await json(t, { filters: filters({ statusCodes: ['+404', '0-299', '599-500'] }) }, rs);
    assert.deepEqual(statuses(wide), [200, 404]);
  });
});

/** Runs `fn` with the process in `tz` (Node reads TZ again when it is assigned). */
async function inZone<T>(t: TestContext, tz: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TZ;
  t.after(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
  process.env.TZ = tz;
  return await fn();
}

describe('access log fields (JSON)', () => {
  it("writes Traefik's field names and values, in Go's key order, with or without default field modes", async (t) => {
    const r = rec({
      clientPort: 40512,
      hostPort: '8443',
      scheme: 'https',
      tlsVersion: '1.3',
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      requestHeaders: HeaderList.from([['Authorization', 'Bearer x']]),
      originMs: 10,
    });
    // Etc/GMT+9 is UTC-9, as in Traefik's own formatter tests.
    const [plain, moded] = await inZone(t, 'Etc/GMT+9', async () => [
      await written(t, { format: 'json' }, [r]),
      await written(t, { format: 'json', fields: fields({}) }, [r]),
    ]);
    assert.deepEqual(moded, plain);
    const o = JSON.parse(plain[0]!) as Record<string, unknown>;
    const { time, ...rest } = o;
    assert.match(String(time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-09:00$/, 'logrus: RFC 3339, local time');
    assert.deepEqual(rest, {
      ClientAddr: '192.0.2.7:40512',
      ClientHost: '192.0.2.7',
      ClientPort: '40512',
      ClientUsername: '-',
      DownstreamContentSize: 512,
      DownstreamStatus: 200,
      Duration: 12345600,
      // The service's share (Traefik's AddServiceFields) and the rest, in nanoseconds.
      OriginContentSize: 512,
      OriginDuration: 10000000,
      OriginStatus: 200,
      Overhead: 2345600,
      RequestAddr: 'shop.test:8443',
      RequestContentSize: 0,
      RequestCount: 1,
      RequestHost: 'shop.test',
      RequestMethod: 'GET',
      RequestPath: '/app/cart?id=3',
      RequestPort: '8443',
      RequestProtocol: 'HTTP/1.1',
      RequestScheme: 'https',
      RetryAttempts: 0,
      RouterName: 'app@file',
      ServiceAddr: '10.0.0.1:8080',
      ServiceName: 'be@file',
      ServiceURL: 'http://10.0.0.1:8080',
      StartLocal: '2024-03-04T22:08:09.12-09:00',
      StartUTC: '2024-03-05T07:08:09.12Z',
      TLSCipher: 'TLS_AES_128_GCM_SHA256',
      TLSVersion: '1.3',
      entryPointName: 'web',
      level: 'info',
      msg: '',
    });
    const keys = Object.keys(o);
    assert.deepEqual(keys, [...keys].sort(), 'keys in bytewise order, as encoding/json writes a map');
  });

  it('leaves out what a request without a router, a Host or TLS does not have; "-" for an unknown port', async (t) => {
    const [o] = await json(t, {}, [rec({ host: '', router: '', service: '', server: '', status: 404 })]);
    for (const k of [
      'RouterName',
      'ServiceName',
      'ServiceURL',
      'ServiceAddr',
      'RequestAddr',
      'RequestHost',
      'RequestPort',
      'TLSVersion',
      'TLSCipher',
    ]) {
      assert.equal(k in o!, false, k);
    }
    assert.equal(o!.ClientAddr, '192.0.2.7');
    assert.equal(o!.ClientPort, '-');
    assert.equal(o!.RequestScheme, 'http');
    assert.equal(o!.DownstreamStatus, 404);
    // No service took it: Traefik's InitServiceFields zeros, the whole duration is overhead.
    assert.equal(o!.OriginStatus, 0);
    assert.equal(o!.OriginContentSize, 0);
    assert.equal(o!.OriginDuration, 0);
    assert.equal(o!.Overhead, o!.Duration);
  });

  it("writes the Kubernetes fields in Go's key order, as OTLP string attributes, honouring the field modes", async (t) => {
    const k8s = rec({
      kubernetes: { kind: 'IngressRoute', namespace: 'shop', name: 'split' },
      kubernetesService: { name: 'b', namespace: 'other', port: 'http' },
    });
    const ingress = rec({
      kubernetes: { kind: 'Ingress', namespace: 'shop', name: 'web' },
      kubernetesService: null,
    });
    const attrs: string[][] = [];
    const otlp = {
      recordAttributes: (_l: unknown, _m: string, _t: number, a: { key: string; value: unknown }[]) => {
        attrs.push(
          a.filter((x) => x.key.startsWith('Kubernetes')).map((x) => `${x.key}=${JSON.stringify(x.value)}`),
        );
      },
      close: async () => {},
    };
    const [o, i, m] = await json(
      t,
      { otlp, fields: fields({ names: { KubernetesServiceNamespace: 'redact' } }) },
      [k8s, ingress, rec()],
    );
    const keys = Object.keys(o!);
    assert.deepEqual(keys, [...keys].sort(), 'keys in bytewise order');
    const only = (x: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(x).filter(([k]) => k.startsWith('Kubernetes')));
    assert.deepEqual(only(o!), {
      KubernetesIngressRouteName: 'split',
      KubernetesIngressRouteNamespace: 'shop',
      KubernetesServiceName: 'b',
      KubernetesServiceNamespace: 'REDACTED',
      KubernetesServicePort: 'http',
    });
    // A redacted field the record does not have stays out, as Traefik redacts the fields set.
    assert.deepEqual(only(i!), { KubernetesIngressName: 'web', KubernetesIngressNamespace: 'shop' });
    assert.deepEqual(only(m!), {});
    assert.deepEqual(attrs, [
      [
        'KubernetesIngressRouteName={"stringValue":"split"}',
        'KubernetesIngressRouteNamespace={"stringValue":"shop"}',
        'KubernetesServiceName={"stringValue":"b"}',
        'KubernetesServiceNamespace={"stringValue":"REDACTED"}',
        'KubernetesServicePort={"stringValue":"http"}',
      ],
      ['KubernetesIngressName={"stringValue":"web"}', 'KubernetesIngressNamespace={"stringValue":"shop"}'],
      [],
    ]);
  });

  it('writes an IPv6 client address in brackets, a Host without port with RequestPort "-"', async (t) => {
    const [o] = await json(t, {}, [rec({ clientIp: '::1', clientPort: 5000, hostPort: '' })]);
    assert.equal(o!.ClientAddr, '[::1]:5000');
    assert.equal(o!.ClientHost, '::1');
    assert.equal(o!.RequestAddr, 'shop.test');
    assert.equal(o!.RequestPort, '-');
  });

  it('writes RetryAttempts and RequestCount on every line', async (t) => {
    const rs = [rec(), rec({ retryAttempts: 0 }), rec({ retryAttempts: 2 })];
    const out = await json(t, {}, rs);
    assert.deepEqual(
      out.map((r) => [r.RetryAttempts, r.RequestCount]),
      [
        [0, 1],
        [0, 2],
        [2, 3],
      ],
    );
  });

  it("escapes <, > and & as Go's JSON encoder does", async (t) => {
    const lines = await written(t, { format: 'json' }, [rec({ query: 'a=<b>&c' })]);
    assert.match(lines[0]!, /"RequestPath":"\/app\/cart\?a=\\u003cb\\u003e\\u0026c"/);
    assert.equal((JSON.parse(lines[0]!) as Record<string, unknown>).RequestPath, '/app/cart?a=<b>&c');
  });

  it("drops and redacts fields by Traefik's names, matched exactly as Traefik's map lookup", async (t) => {
    const names = {
      ClientHost: 'redact',
      RequestHost: 'drop',
      routername: 'drop',
      SERVICENAME: 'drop',
    } as const;
    const [r] = await json(t, { fields: fields({ names }) }, [rec()]);
    assert.equal(r!.ClientHost, 'REDACTED');
    assert.equal('RequestHost' in r!, false);
    // Traefik's AccessLogFields.Keep looks the field's own name up (pkg/types/logs.go): another
    // case names nothing, and the field follows defaultMode (keep).
    assert.equal(typeof r!.RouterName, 'string');
    assert.equal(r!.ServiceName, 'be@file', 'unnamed fields follow defaultMode keep');
  });

  it('keeps only the named fields when defaultMode is drop', async (t) => {
    const f = fields({
      defaultMode: 'drop',
      names: { DownstreamStatus: 'keep', RequestPath: 'keep', Duration: 'redact' },
    });
    const [r] = await json(t, { fields: f }, [rec({ retryAttempts: 1 })]);
    const { time, ...rest } = r!;
    assert.equal(typeof time, 'string');
    assert.deepEqual(rest, {
      RequestPath: '/app/cart?id=3',
      DownstreamStatus: 200,
      Duration: 'REDACTED',
      level: 'info',
      msg: '',
    });
  });

  it('redacts every field when defaultMode is redact', async (t) => {
    const [r] = await json(t, { fields: fields({ defaultMode: 'redact' }) }, [rec()]);
    const { time, level, msg, ...rest } = r!;
    assert.equal(Object.keys(rest).length, 28);
    for (const [k, v] of Object.entries(rest)) assert.equal(v, 'REDACTED', k);
  });

  it('writes request headers as request_<Canonical-Name> when their default mode is keep', async (t) => {
    const headers = HeaderList.from([
      ['x-request-ID', 'abc'],
      ['Accept', 'text/html'],
      ['accept', 'application/json'],
      ['Host', 'shop.test'],
    ]);
    const f = fields({ headers: { defaultMode: 'keep', names: {} } });
    const [r] = await json(t, { fields: f }, [rec({ requestHeaders: headers })]);
    assert.equal(r!['request_X-Request-Id'], 'abc');
    assert.equal(r!.request_Accept, 'text/html,application/json', 'repeated fields join in order, by ","');
    assert.equal('request_Host' in r!, false, 'Go keeps Host out of the header map');
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
      ['Accept', '*/*'],
      ['User-Agent', 'curl/8'],
    ]);
    const f = fields({ headers: { defaultMode: 'redact', names: { 'USER-AGENT': 'keep' } } });
    const [r] = await json(t, { fields: f }, [rec({ requestHeaders: headers })]);
    assert.equal(r!.request_Accept, 'REDACTED');
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
  /** Keeps the two headers the CLF shows (Traefik drops every header by default). */
  const showHeaders = fields({
    headers: { defaultMode: 'drop', names: { Referer: 'keep', 'User-Agent': 'keep' } },
  });

  it('writes Traefik-flavoured CLF, "-" for empty quoted fields', async (t) => {
    const lines = await written(t, { format: 'common', fields: showHeaders }, [
      rec(),
      rec({ referer: '', userAgent: '', router: '', server: '', query: '' }),
    ]);
    assert.deepEqual(lines, [
      expected,
      '192.0.2.7 - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart HTTP/1.1" 200 512 "-" "-" 2 "-" "-" 12ms',
    ]);
  });

  it('writes "-" for the referer and user agent unless header modes keep them, as Traefik (headers default to drop)', async (t) => {
    const [plain] = await written(t, { format: 'common' }, [rec()]);
    assert.match(plain!, / 200 512 "-" "-" 1 "app@file" /);
    const [kept] = await written(
      t,
      { format: 'common', fields: fields({ headers: { defaultMode: 'keep', names: {} } }) },
      [rec()],
    );
    assert.match(kept!, / 200 512 "http:\/\/ref\.test\/" "curl\/8" 1 /);
    const [redacted] = await written(
      t,
      {
        format: 'common',
        fields: fields({ headers: { defaultMode: 'redact', names: { referer: 'drop' } } }),
      },
      [rec()],
    );
    assert.match(redacted!, / 200 512 "-" "REDACTED" 1 /);
  });

  it("writes genericCLF: the same line without Traefik's request count, router, server and duration", async (t) => {
    const lines = await written(t, { format: 'genericCLF', fields: showHeaders }, [
      rec(),
      rec({ userAgent: '' }),
    ]);
    assert.deepEqual(lines, [
      '192.0.2.7 - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart?id=3 HTTP/1.1" 200 512 "http://ref.test/" "curl/8"',
      '192.0.2.7 - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart?id=3 HTTP/1.1" 200 512 "http://ref.test/" "-"',
    ]);
  });

  it('truncates the duration to whole milliseconds, as Traefik divides nanoseconds', async (t) => {
    const [line] = await written(t, { format: 'common' }, [rec({ durationMs: 12.9 })]);
    assert.match(line!, / 12ms$/);
  });

  it('is unchanged by header modes for headers it does not show', async (t) => {
    const f = fields({
      headers: {
        defaultMode: 'drop',
        names: { Authorization: 'redact', Referer: 'keep', 'User-Agent': 'keep' },
      },
    });
    const r = rec({ requestHeaders: HeaderList.from([['Authorization', 'Bearer x']]) });
    assert.deepEqual(await written(t, { format: 'common', fields: f }, [r]), [expected]);
  });

  it('writes "-" for dropped fields (0ms for the duration) and REDACTED for redacted ones', async (t) => {
    const f = fields({
      names: { ClientHost: 'drop', RouterName: 'redact', Duration: 'drop', RequestCount: 'redact' },
      headers: { defaultMode: 'drop', names: { 'user-agent': 'drop', Referer: 'redact' } },
    });
    assert.deepEqual(await written(t, { format: 'common', fields: f }, [rec()]), [
      '- - - [05/Mar/2024:07:08:09 +0000] "GET /app/cart?id=3 HTTP/1.1" 200 512 "REDACTED" "-" REDACTED "REDACTED" "http://10.0.0.1:8080" 0ms',
    ]);
  });

  it('writes local time once StartUTC is dropped, "-" once StartLocal is too', async (t) => {
    const lines = await inZone(t, 'Etc/GMT+9', () =>
      Promise.all([
        written(t, { format: 'common', fields: fields({ names: { StartUTC: 'drop' } }) }, [rec()]),
        written(
          t,
          { format: 'common', fields: fields({ names: { StartUTC: 'drop', StartLocal: 'drop' } }) },
          [rec()],
        ),
      ]),
    );
    assert.match(lines[0]![0]!, / \[04\/Mar\/2024:22:08:09 -0900\] /);
    assert.match(lines[1]![0]!, / - - \[-\] "GET /);
  });
});
