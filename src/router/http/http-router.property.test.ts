/**
 * Property: for random route sets and random requests, the indexed router returns what a naive
 * linear scan over all routes (sorted by priority, then name, then input order) returns, and
 * `explain` lists every route that matches. Seeded, so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom as prng } from '../../../test/helpers/seeded-random.ts';
import { request } from '../request-fixture.ts';
import { compileRule, defaultPriority } from '../rule/compile.ts';
import type { RuleMatcher } from '../rule/matchers.ts';
import { HttpRouter, type RouteEntry } from './http-router.ts';

const HOSTS = [
  'a.com',
  'b.com',
  'x.a.com',
  '*.a.com',
  '*.b.com',
  'A.COM',
  'a.com.',
  '*',
  'z.x.a.com',
  '*.x.a.com',
  'y.b.com',
];
const PREFIXES = ['/', '/a', '/a/', '/ab', '/b', '/a%2F', '/é', '/foo bar'];
const LEAVES: ((pick: <T>(xs: readonly T[]) => T) => string)[] = [
  (p) => `Host(\`${p(HOSTS)}\`)`,
  (p) => `Host(\`${p(HOSTS)}\`)`,
  (p) => `Host(\`${p(HOSTS)}\`)`,
  () => 'HostRegexp(`^x\\.`)',
  (p) => `PathPrefix(\`${p(PREFIXES)}\`)`,
  (p) => `PathPrefix(\`${p(PREFIXES)}\`)`,
  (p) => `Path(\`${p(['/', '/a', '/ab', '/b/c', '/foo bar'])}\`)`,
  () => 'PathRegexp(`^/a`)',
  (p) => `Method(\`${p(['GET', 'post'])}\`)`,
  (p) => `Header(\`${p(['X-T', 'x-t'])}\`, \`${p(['1', '2'])}\`)`,
  (p) => `Header(\`X-T\`, \`${p(['1', '2', '3'])}\`)`,
  () => 'HeaderRegexp(`X-T`, `^[12]$`)',
  (p) => p(['Query(`q`)', 'Query(`q`, `1`)', 'QueryRegexp(`q`, `^\\d$`)']),
  (p) => `ClientIP(\`${p(['10.0.0.0/8', '192.0.2.1', '::1'])}\`)`,
];

function generator(seed: number) {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const expr = (depth: number): string => {
    const x = rnd();
    if (depth <= 0 || x < 0.45) return pick(LEAVES)(pick);
    if (x < 0.55) return `!${expr(depth - 1)}`;
    if (x < 0.85) return `(${expr(depth - 1)} && ${expr(depth - 1)})`;
    return `(${expr(depth - 1)} || ${expr(depth - 1)})`;
  };
  const routes = (n: number): RouteEntry<number>[] =>
    Array.from({ length: n }, (_, value) => {
      const r: RouteEntry<number> = {
        name: `r${int(n)}`,
        rule: rnd() < 0.05 ? 'Host(`broken`' : expr(3),
        entryPoints: pick([[], [], ['web'], ['websecure'], ['web', 'websecure']]),
        value,
      };
      const pr = rnd();
      if (pr < 0.2) return { ...r, priority: 0 };
      if (pr < 0.45) return { ...r, priority: int(7) * 10 - 20 };
      return r;
    });
  const req = () =>
    request({
      host: pick([
        'a.com',
        'b.com',
        'x.a.com',
        'y.a.com',
        'y.b.com',
        'w.b.com',
        'z.x.a.com',
        'q.x.a.com',
        'c.com',
        '',
      ]),
      path: pick(['/', '/a', '/a/x', '/ab', '/b/c', '/a%2Fb', '/%C3%A9t', '/foo%20bar', '*']),
      method: pick(['GET', 'POST']),
      query: pick(['', 'q', 'q=1', 'q=x&q=', 'r=1']),
      headers: pick([
        [],
        [['X-T', '1']],
        [['x-t', '2']],
        [
          ['X-T', '3'],
          ['X-T', '1'],
        ],
        [['X-U', '1']],
      ]),
      clientIp: pick(['10.1.1.1', '192.0.2.1', '::1']),
    });
  return { routes, req, entryPoint: () => pick(['web', 'websecure', 'other']) };
}

interface Naive {
  name: string;
  entryPoints: readonly string[];
  match: RuleMatcher;
  value: number;
}

function naiveTable(routes: readonly RouteEntry<number>[]): Naive[] {
  const table: (Naive & { priority: number; index: number })[] = [];
  routes.forEach((r, index) => {
    const c = compileRule(r.rule);
    if (!c.ok) return;
    const priority = r.priority ? r.priority : defaultPriority(r.rule);
    table.push({ name: r.name, entryPoints: r.entryPoints, match: c.match, value: r.value, priority, index });
  });
  return table.sort(
    (a, b) =>
      b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.index - b.index,
  );
}

describe('HttpRouter against a linear scan', () => {
  it('returns what a linear scan over all routes sorted by priority returns', () => {
    let compared = 0;
    let hits = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const g = generator(seed);
      const routes = g.routes(2 + (seed % 30));
      const { router, errors } = HttpRouter.build(routes);
      const table = naiveTable(routes);
      assert.equal(errors.length + table.length, routes.length);
      for (let n = 0; n < 60; n++) {
        const ep = g.entryPoint();
        const req = g.req();
        const onEp = table.filter((t) => t.entryPoints.length === 0 || t.entryPoints.includes(ep));
        const expected = onEp.find((t) => t.match(req))?.value;
        const actual = router.match(ep, req);
        const context = () => `seed ${seed}, ${ep} ${req.method} ${req.host}${req.path}?${req.query}`;
        assert.equal(actual, expected, context());

        const explained = router.explain(ep, req);
        const matchedNames = explained.filter((e) => e.matched).map((e) => e.name);
        assert.deepEqual(
          matchedNames,
          onEp.filter((t) => t.match(req)).map((t) => t.name),
          `explain: ${context()}`,
        );
        compared++;
        if (expected !== undefined) hits++;
      }
    }
    // The generator must exercise both outcomes, or the comparison proves little.
    assert.ok(hits > compared * 0.2 && hits < compared * 0.95, `${hits} hits of ${compared}`);
  });
});
