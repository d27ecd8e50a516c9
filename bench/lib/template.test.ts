import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate } from './template.ts';

describe('renderTemplate', () => {
  it('replaces every occurrence of each placeholder', () => {
    assert.equal(
      renderTemplate(`tls \${CERT} \${KEY}; again \${CERT}`, { CERT: '/t/c.pem', KEY: '/t/k.pem' }),
      'tls /t/c.pem /t/k.pem; again /t/c.pem',
    );
  });

  it('leaves Caddy’s {$ENV} and lower-case text alone', () => {
    assert.equal(renderTemplate(`{$HOME} \${lower} $X`, {}), `{$HOME} \${lower} $X`);
  });

  it('refuses a placeholder without a value', () => {
    assert.throws(
      () => renderTemplate(`ssl_certificate \${BENCH_TLS_CRT};`, {}),
      /\$\{BENCH_TLS_CRT\} has no value/,
    );
  });
});
