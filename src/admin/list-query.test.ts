import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listPage } from './list-query.ts';

const q = (s: string): URLSearchParams => new URLSearchParams(s);
const names = (r: ReturnType<typeof listPage<Record<string, unknown>>>): string[] => {
  assert.ok(r.ok);
  return r.items.map((i) => String(i['name']));
};

describe("Traefik's list parameters (pkg/api/criterion.go, sort.go)", () => {
  const routers = [
    {
      name: 'b@file',
      rule: 'HostSNI(`db.test`)',
      service: 'db@file',
      middlewares: ['one@file'],
      status: 'enabled',
      issues: [],
    },
    {
      name: 'a@docker',
      rule: 'HostSNI(`*`)',
      service: 'db@docker',
      middlewares: [],
      status: 'disabled',
      issues: ['x'],
    },
    {
      name: 'c@file',
      rule: 'HostSNI(`c.test`)',
      service: 'echo@file',
      middlewares: [],
      status: 'warning',
      issues: ['w'],
    },
  ];

  it('filters by status with Traefik’s three, as the views carry them', () => {
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('status=warning'))), ['c@file']);
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('status=ENABLED'))), ['b@file']);
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('status=disabled'))), ['a@docker']);
  });

  it('searches rule and name for TCP routers, the name only for UDP routers; middlewareName not for UDP', () => {
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('search=DB.TEST'))), ['b@file']);
    assert.deepEqual(names(listPage(routers, 'udpRouters', q('search=db.test'))), []);
    assert.deepEqual(names(listPage(routers, 'udpRouters', q('middlewareName=nope'))), [
      'a@docker',
      'b@file',
      'c@file',
    ]);
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('middlewareName=one@file'))), ['b@file']);
  });

  // Traefik's filterService and filterMiddleware compare the names as the router writes them.
  const asWritten = (item: object) =>
    ({
      'b@file': { service: 'db', middlewares: ['one'] },
      'a@docker': { service: 'db@docker', middlewares: [] },
      'c@file': { service: 'echo', middlewares: ['two@docker'] },
    })[(item as { name: string }).name];

  it('matches serviceName as Traefik’s filterService: a written `@` exactly, else the name before `@`', () => {
    const by = (s: string) => names(listPage(routers, 'tcpRouters', q(s), asWritten));
    assert.deepEqual(by('serviceName=db'), ['b@file']);
    assert.deepEqual(by('serviceName=db@file'), ['b@file']);
    // Traefik compares only what comes before `@` when the router writes none.
    assert.deepEqual(by('serviceName=db@other'), ['b@file']);
    assert.deepEqual(by('serviceName=db@docker'), ['a@docker', 'b@file']);
  });

  it('matches middlewareName exactly as the router writes it', () => {
    const by = (s: string) => names(listPage(routers, 'tcpRouters', q(s), asWritten));
    assert.deepEqual(by('middlewareName=one'), ['b@file']);
    assert.deepEqual(by('middlewareName=one@file'), []);
    assert.deepEqual(by('middlewareName=two@docker'), ['c@file']);
  });

  it('sorts by a key then by name, descending for any direction but asc', () => {
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('sortBy=service&direction=x'))), [
      'c@file',
      'b@file',
      'a@docker',
    ]);
    assert.deepEqual(names(listPage(routers, 'tcpRouters', q('sortBy=unknown'))), [
      'a@docker',
      'b@file',
      'c@file',
    ]);
  });

  it('pages: X-Next-Page 1 after the last page; a page past the end, or a bad number, is refused', () => {
    const r = listPage(routers, 'tcpRouters', q('per_page=2&page=2'));
    assert.ok(r.ok);
    assert.equal(r.nextPage, 1);
    assert.deepEqual(names(r), ['c@file']);
    assert.deepEqual(listPage(routers, 'tcpRouters', q('per_page=abc')), {
      ok: false,
      message: 'invalid request: per_page: 0',
    });
    assert.deepEqual(listPage(routers, 'tcpRouters', q('page=-1')), {
      ok: false,
      message: 'invalid request: page: -1',
    });
    // Entry points are by name, ascending, whatever `sortBy` and `direction` say (getEntryPoints).
    const eps = [{ name: 'b' }, { name: 'a' }];
    assert.deepEqual(names(listPage(eps, 'entrypoints', q('direction=desc&sortBy=name'))), ['a', 'b']);
    // An empty list has a first page.
    assert.deepEqual(listPage([], 'entrypoints', q('page=1')), { ok: true, items: [], nextPage: 1 });
  });
});
