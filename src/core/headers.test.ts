import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from './headers.ts';

describe('HeaderList', () => {
  it('looks fields up case-insensitively and keeps the received case', () => {
    const h = HeaderList.from([['X-Thing', 'a']]);
    assert.equal(h.get('x-thing'), 'a');
    assert.equal(h.names[0], 'X-Thing');
  });

  it('set replaces every occurrence in place of the first', () => {
    const h = HeaderList.from([
      ['A', '1'],
      ['B', '2'],
      ['a', '3'],
    ]);
    h.set('A', 'x');
    assert.deepEqual(
      [...h.entries()],
      [
        ['A', 'x'],
        ['B', '2'],
      ],
    );
  });

  it('delete removes every occurrence and keeps the order of the rest', () => {
    const h = HeaderList.from([
      ['A', '1'],
      ['B', '2'],
      ['a', '3'],
      ['C', '4'],
    ]);
    assert.equal(h.delete('a'), 2);
    assert.deepEqual(h.names, ['B', 'C']);
    assert.deepEqual(h.lnames, ['b', 'c']);
  });

  it('getAll returns values in order', () => {
    const h = HeaderList.from([
      ['Via', '1'],
      ['X', 'y'],
      ['via', '2'],
    ]);
    assert.deepEqual(h.getAll('via'), ['1', '2']);
  });

  it('deleteWhere removes every matching field in one pass and keeps the order of the rest', () => {
    const h = HeaderList.from([
      ['X-A', '1'],
      ['B', '2'],
      ['x-a', '3'],
      ['X-C', '4'],
      ['D', '5'],
    ]);
    assert.equal(
      h.deleteWhere((n) => n.startsWith('x-')),
      3,
    );
    assert.deepEqual(h.names, ['B', 'D']);
    assert.deepEqual(h.lnames, ['b', 'd']);
    assert.deepEqual(h.values, ['2', '5']);
  });
});

describe('HeaderList.raw', () => {
  it('is cleared by every method that changes the list, and only by those', () => {
    const changes: Array<[string, (h: HeaderList) => void]> = [
      ['append', (h) => h.append('X-C', '3')],
      ['appendLowered', (h) => h.appendLowered('X-C', 'x-c', '3')],
      ['set', (h) => h.set('X-A', '9')],
      ['delete', (h) => h.delete('x-a')],
      ['deleteWhere', (h) => h.deleteWhere((n) => n === 'x-b')],
    ];
    for (const [what, change] of changes) {
      const h = HeaderList.from([
        ['X-A', '1'],
        ['X-B', '2'],
      ]);
      h.raw = 'X-A: 1\r\nX-B: 2\r\n';
      h.get('x-a');
      h.getAll('x-b');
      h.has('x-a');
      h.delete('x-none');
      h.deleteWhere(() => false);
      assert.equal(h.raw, 'X-A: 1\r\nX-B: 2\r\n', `${what}: reads and no-op removals keep it`);
      change(h);
      assert.equal(h.raw, null, what);
    }
    const h = HeaderList.from([['X-A', '1']]);
    h.raw = 'X-A: 1\r\n';
    assert.equal(h.clone().raw, null, 'a clone is a list of its own');
  });
});
