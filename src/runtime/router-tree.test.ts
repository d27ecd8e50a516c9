import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dynamicConfigSchema } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { routerTree } from './router-tree.ts';

const routersOf = (routers: Record<string, unknown>) =>
  dynamicConfigSchema.parse({ http: { routers } }).http.routers;

describe('routerTree (Traefik ParseRouterTree)', () => {
  it('links children to their parents in name order; a tree-less configuration has none', () => {
    const issues: ConfigIssue[] = [];
    const t = routerTree(
      routersOf({
        'p@file': { rule: 'PathPrefix(`/`)' },
        'b@file': { rule: 'Path(`/b`)', service: 's', parentRefs: ['p'] },
        'a@file': { rule: 'Path(`/a`)', service: 's', parentRefs: ['p@file'] },
      }),
      issues,
    );
    assert.deepEqual(issues, []);
    assert.deepEqual([...t.children], [['p@file', ['a@file', 'b@file']]]);
    assert.deepEqual([...t.nested].sort(), ['a@file', 'b@file']);
    const plain: ConfigIssue[] = [];
    assert.equal(
      routerTree(routersOf({ 'r@file': { rule: 'Path(`/`)', service: 's' } }), plain).children.size,
      0,
    );
    assert.deepEqual(plain, []);
  });

  it('drops the link that closes a cycle, with a warning, and leaves out what no root reaches', () => {
    const issues: ConfigIssue[] = [];
    const t = routerTree(
      routersOf({
        'root@file': { rule: 'PathPrefix(`/`)' },
        'mid@file': { rule: 'PathPrefix(`/m`)', parentRefs: ['root', 'leaf'] },
        'leaf@file': { rule: 'Path(`/m/l`)', parentRefs: ['mid'] },
        'x@file': { rule: 'Path(`/x`)', parentRefs: ['y'] },
        'y@file': { rule: 'Path(`/y`)', parentRefs: ['x'] },
      }),
      issues,
    );
    const text = issues.map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`);
    assert.ok(
      text.includes(
        'warning http.routers.leaf@file: cyclic reference detected in router tree: mid@file -> leaf@file -> mid@file; the link to `mid@file` is ignored',
      ),
      text.join('\n'),
    );
    assert.ok(
      text.some((l) => l.startsWith('error http.routers.x@file.parentRefs: router is not reachable')),
    );
    assert.ok(
      text.some((l) => l.startsWith('error http.routers.y@file.parentRefs: router is not reachable')),
    );
    // `leaf` lost its only way to a service: a dead end (Traefik checks that after the cycles).
    assert.ok(text.includes('error http.routers.leaf@file: router has no service and no child routers'));
    assert.deepEqual(t.children.get('root@file'), ['mid@file']);
    assert.deepEqual(t.children.get('mid@file'), []);
  });

  it('leaves out a child naming a parent that does not exist, or with tls', () => {
    const issues: ConfigIssue[] = [];
    const t = routerTree(
      routersOf({
        'p@file': { rule: 'PathPrefix(`/`)' },
        'ok@file': { rule: 'Path(`/ok`)', service: 's', parentRefs: ['p'] },
        'lost@file': { rule: 'Path(`/l`)', service: 's', parentRefs: ['ghost'] },
        'secure@file': { rule: 'Path(`/s`)', service: 's', parentRefs: ['p'], tls: {} },
      }),
      issues,
    );
    assert.deepEqual(issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort(), [
      'http.routers.lost@file.parentRefs.0: parent router `ghost` does not exist',
      'http.routers.secure@file.tls: a child router (with parentRefs) cannot have tls',
    ]);
    assert.deepEqual(t.children.get('p@file'), ['ok@file']);
    assert.ok(t.left.has('lost@file') && t.left.has('secure@file'));
  });
});
