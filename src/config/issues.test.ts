import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue, formatPath, issue, sortIssues } from './issues.ts';

describe('formatPath', () => {
  it('joins keys with dots, indexes with brackets and quotes odd names', () => {
    assert.equal(formatPath(['http', 'routers', 'api', 'rule']), 'http.routers.api.rule');
    assert.equal(
      formatPath(['http', 'services', 's', 'loadBalancer', 'servers', 0, 'url']),
      'http.services.s.loadBalancer.servers[0].url',
    );
    assert.equal(formatPath(['http', 'routers', 'a.b']), 'http.routers["a.b"]');
    assert.equal(formatPath(['http', 'middlewares', 'strip-v1@file']), 'http.middlewares.strip-v1@file');
  });
});

describe('formatIssue', () => {
  it('prints file:line:col, the path, the message and what was expected', () => {
    const i = issue(
      'error',
      'wrong type: got 5',
      ['http', 'routers', 'api', 'rule'],
      { file: 'conf/dyn.yaml', line: 12, col: 7 },
      'a string',
    );
    assert.equal(
      formatIssue(i),
      'conf/dyn.yaml:12:7: http.routers.api.rule: wrong type: got 5 (expected a string)',
    );
  });

  it('marks warnings and leaves out what is unknown', () => {
    assert.equal(formatIssue(issue('warning', 'no servers', ['x'])), 'warning: x: no servers');
    assert.equal(formatIssue(issue('error', 'cannot read', [], { file: 'a.yaml' })), 'a.yaml: cannot read');
  });
});

describe('sortIssues', () => {
  it('orders by file then position, issues without a file first', () => {
    const a = issue('error', 'a', [], { file: 'b.yaml', line: 3, col: 1 });
    const b = issue('error', 'b', [], { file: 'a.yaml', line: 9, col: 1 });
    const c = issue('error', 'c', []);
    const d = issue('error', 'd', [], { file: 'b.yaml', line: 1, col: 5 });
    assert.deepEqual(
      sortIssues([a, b, c, d]).map((i) => i.message),
      ['c', 'b', 'd', 'a'],
    );
  });
});
