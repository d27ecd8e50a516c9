import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coversName, normalizeDomains } from './domain-names.ts';

describe('normalizeDomains', () => {
  it('lowercases, drops trailing dots, empties and duplicates, and keeps the subject first', () => {
    assert.deepEqual(normalizeDomains(['WWW.Example.com.', 'example.com', ' ', 'www.example.com']), [
      'www.example.com',
      'example.com',
    ]);
  });
});

describe('coversName', () => {
  it('matches exact names and one label under a wildcard', () => {
    const names = ['example.com', '*.example.com'];
    assert.ok(coversName(names, 'example.com'));
    assert.ok(coversName(names, 'api.example.com'));
    assert.ok(!coversName(names, 'a.b.example.com'));
    assert.ok(!coversName(names, 'example.org'));
  });
});
