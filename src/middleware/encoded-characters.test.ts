import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, makeRequest } from './test-request.ts';

const ESCAPES = ['%2F', '%5C', '%00', '%3B', '%25', '%3F', '%23'];
const KEYS = [
  'allowEncodedSlash',
  'allowEncodedBackSlash',
  'allowEncodedNullCharacter',
  'allowEncodedSemicolon',
  'allowEncodedPercent',
  'allowEncodedQuestionMark',
  'allowEncodedHash',
];

describe('encodedCharacters', () => {
  it('refuses each of the seven escapes by default with a bare 400', () => {
    const m = build('encodedCharacters', {});
    for (const e of ESCAPES)
      assert.deepEqual(m.onRequest?.(makeRequest(`http://a.test/x${e}y`)), { status: 400 }, e);
    assert.equal(m.onRequest?.(makeRequest('http://a.test/a%20b/%C3%A9')), undefined);
    assert.equal(m.onRequest?.(makeRequest('http://a.test/plain?q=%2F')), undefined);
  });

  it('lets each escape through when its key allows it, and only that one', () => {
    KEYS.forEach((key, i) => {
      const m = build('encodedCharacters', { [key]: true });
      ESCAPES.forEach((e, j) => {
        const r = m.onRequest?.(makeRequest(`http://a.test/x${e}`));
        assert.equal(r === undefined, i === j, `${key} with ${e}`);
      });
    });
  });

  it('refuses a malformed escape that reached it', () => {
    const m = build('encodedCharacters', {});
    assert.deepEqual(m.onRequest?.(makeRequest('http://a.test/x%2')), { status: 400 });
    assert.deepEqual(m.onRequest?.(makeRequest('http://a.test/x%g1')), { status: 400 });
  });
});
