import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lowerFieldName } from './field-names.ts';

describe('lowerFieldName', () => {
  it('gives the lower-case form of common names in any case, and of unknown names', () => {
    assert.equal(lowerFieldName('Content-Length'), 'content-length');
    assert.equal(lowerFieldName('content-length'), 'content-length');
    assert.equal(lowerFieldName('CONTENT-LENGTH'), 'content-length');
    assert.equal(lowerFieldName('Host'), 'host');
    assert.equal(lowerFieldName('X-Custom-Thing'), 'x-custom-thing');
    assert.equal(lowerFieldName('x-already-lower'), 'x-already-lower');
    // Same length as a common name, different content: not mistaken for it.
    assert.equal(lowerFieldName('Hxst'), 'hxst');
    assert.equal(lowerFieldName('Content-Lengtx'), 'content-lengtx');
    assert.equal(lowerFieldName(''), '');
  });
});
