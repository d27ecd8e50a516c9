import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, ProxyError, upstreamError } from './errors.ts';

describe('ProxyError', () => {
  it('takes status, source and retryability from the code table', () => {
    const e = new ProxyError('UPSTREAM_CONNECT_TIMEOUT');
    assert.equal(e.status, 504);
    assert.equal(e.source, 'upstream');
    assert.equal(e.retryable, true);
  });

  it('documents every code in docs/errors.md with its status', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = doc
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) => l.split('|').map((c) => c.trim()));
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const row = rows.find((cells) => cells[1] === `\`${code}\``);
      assert.ok(row, `docs/errors.md has no row for ${code}`);
      assert.equal(row[2], String(spec.status), `${code} row shows another status`);
    }
  });
});

describe('upstreamError', () => {
  it('classifies a refused connection as a retryable 502', () => {
    const e = upstreamError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'connect');
    assert.equal(e.code, 'UPSTREAM_REFUSED');
    assert.equal(e.status, 502);
    assert.equal(e.retryable, true);
  });

  it('classifies a reset after the request was sent as a non-retryable 502', () => {
    const e = upstreamError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'request');
    assert.equal(e.code, 'UPSTREAM_RESET');
    assert.equal(e.retryable, false);
  });

  it('classifies DNS failures and timeouts', () => {
    assert.equal(
      upstreamError(Object.assign(new Error(), { code: 'ENOTFOUND' }), 'connect').code,
      'UPSTREAM_DNS',
    );
    assert.equal(
      upstreamError(Object.assign(new Error(), { code: 'ETIMEDOUT' }), 'connect').code,
      'UPSTREAM_CONNECT_TIMEOUT',
    );
    assert.equal(
      upstreamError(Object.assign(new Error(), { code: 'ETIMEDOUT' }), 'response').code,
      'UPSTREAM_RESPONSE_TIMEOUT',
    );
  });
});
