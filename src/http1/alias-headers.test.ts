import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { aliasHeadersPolicy, applyAliasHeaders } from './alias-headers.ts';

const fields = (): HeaderList =>
  HeaderList.from([
    ['Host', 'a'],
    ['X-Auth-User', 'ok'],
    ['X_Auth_User', 'u'],
    ['X.Auth.User', 'd'],
    ["X!#$%&'*+^`|~", 't'],
    ['Accept-Encoding2', 'k'],
  ]);

describe('aliasHeadersStrategy (Traefik v3.7.12)', () => {
  it('is null for keep and unset; aliasHeadersStrategy wins over the deprecated underscore one', () => {
    assert.equal(aliasHeadersPolicy(undefined, undefined), null);
    assert.equal(aliasHeadersPolicy('keep', 'reject'), null);
    assert.deepEqual(aliasHeadersPolicy('delete', 'reject'), { reject: false, underscoreOnly: false });
    assert.deepEqual(aliasHeadersPolicy(undefined, 'reject'), { reject: true, underscoreOnly: true });
  });

  it('deletes the names with a character other than a letter, a digit or a dash', () => {
    const h = fields();
    assert.equal(applyAliasHeaders(h, { reject: false, underscoreOnly: false }), true);
    assert.deepEqual([...h.lnames], ['host', 'x-auth-user', 'accept-encoding2']);
  });

  it('with underscoreOnly, only names with `_`', () => {
    const h = fields();
    assert.equal(applyAliasHeaders(h, { reject: false, underscoreOnly: true }), true);
    assert.equal(h.has('x_auth_user'), false);
    assert.equal(h.get('x.auth.user'), 'd');
  });

  it('rejects a request carrying one, and lets a clean one through untouched', () => {
    assert.equal(applyAliasHeaders(fields(), { reject: true, underscoreOnly: false }), false);
    const clean = HeaderList.from([['X-A', '1']]);
    assert.equal(applyAliasHeaders(clean, { reject: true, underscoreOnly: false }), true);
    assert.equal(clean.get('x-a'), '1');
  });
});
