import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neverMatchingHostSni } from './validate-l4.ts';

describe('neverMatchingHostSni', () => {
  it('names ASCII HostSNI values with an upper-case letter, backquoted or double-quoted', () => {
    assert.deepEqual(neverMatchingHostSni('HostSNI(`Example.COM`) || HostSNI("b.Test")'), [
      'Example.COM',
      'b.Test',
    ]);
  });

  it('leaves lower-case names, the catch-all, non-ASCII names (Traefik lower-cases those) and other matchers', () => {
    assert.deepEqual(
      neverMatchingHostSni(
        'HostSNI(`example.com`) || HostSNI(`*`) || HostSNI(`Bücher.example`) || HostSNIRegexp(`^A.*$`) || ALPN(`H2`)',
      ),
      [],
    );
  });
});
