import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalRawPath, escapePath, isCleanPath, rawIndexAfter, unescapePath } from './path.ts';

describe('path helpers', () => {
  it('percent-decodes to bytes and refuses broken escapes', () => {
    assert.equal(unescapePath('/a%20b%2F'), '/a b/');
    assert.equal(unescapePath('/a%2'), undefined);
    assert.equal(unescapePath('/a%zz'), undefined);
  });

  it('maps a decoded byte count back to the raw index', () => {
    assert.equal(rawIndexAfter('/%61pi/x', 4), 6);
  });

  it('escapes like Go for paths', () => {
    assert.equal(escapePath('/a b/ü?#%'), '/a%20b/%C3%BC%3F%23%25');
    assert.equal(escapePath('/$&+,:;=@-._~'), '/$&+,:;=@-._~');
  });

  it('keeps a valid encoded path and re-encodes an invalid one', () => {
    assert.equal(canonicalRawPath('/a%2Fb!'), '/a%2Fb!');
    assert.equal(canonicalRawPath('/a b'), '/a%20b');
    assert.equal(canonicalRawPath('/%zz'), undefined);
  });

  it('knows clean paths from paths with dot segments or empty segments', () => {
    for (const p of ['/', '/a', '/a/', '/a/b.c', '/..a', '']) assert.equal(isCleanPath(p), true, p);
    for (const p of ['//', '/a//b', '/a/./b', '/a/..', '/../x', '/a/%2e%2E/b', '/.'])
      assert.equal(isCleanPath(p), false, p);
  });
});
