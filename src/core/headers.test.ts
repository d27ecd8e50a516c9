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
