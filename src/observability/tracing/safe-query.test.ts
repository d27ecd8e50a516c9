import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeQuery, safeQueryNames } from './safe-query.ts';

describe('safeQuery (Traefik safeURL: ParseQuery, redact, Encode)', () => {
  const safe = safeQueryNames(['page', 'q', 'é']);

  it('redacts every parameter not listed, once, and sorts the keys', () => {
    assert.equal(safeQuery('token=abc&page=2&a=1&a=2', safe), 'a=REDACTED&page=2&token=REDACTED');
  });

  it('keeps every value of a listed parameter, re-encoded as QueryEscape does', () => {
    assert.equal(safeQuery('q=a%20b&q=c+d&q=x/y%7e', safe), 'q=a+b&q=c+d&q=x%2Fy~');
  });

  it('a key without "=" has the empty value; empty pairs are skipped', () => {
    assert.equal(safeQuery('flag&&page=&q', safe), 'flag=REDACTED&page=&q=');
  });

  it('skips pairs with a semicolon or a bad escape, as ParseQuery does', () => {
    assert.equal(safeQuery('a=1;b=2&page=%zz&q=%41&c%=1', safe), 'q=A');
  });

  it('compares the decoded key, UTF-8 included', () => {
    assert.equal(safeQuery('%C3%A9=%C3%A9&%C3%A8=1', safe), '%C3%A8=REDACTED&%C3%A9=%C3%A9');
    assert.equal(safeQuery('p%61ge=1', safe), 'page=1');
  });

  it('an empty query stays empty', () => {
    assert.equal(safeQuery('', safe), '');
  });
});
