import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKind, md5Crypt, verifyCheap } from './htpasswd.ts';

/*
 * Hashes made by the real tools: `openssl passwd -apr1 -salt abcdefgh secret`,
 * `openssl passwd -1 -salt abc secret`, `htpasswd -nbm alice 'p4ss word'`, `htpasswd -nbs bob secret`,
 * `htpasswd -nbB -C 4 carol secret`.
 */
const APR1 = '$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/';
const MD5 = '$1$abc$iCQ2D3nhptRYi27fDYv2s1';
const HTPASSWD_MD5 = '$apr1$RFww92E/$ZqDXbYR70GX6.uTlG.dbM0';
const SHA = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';
const BCRYPT = '$2y$04$vRJyFMnejKB5MZmALHlyV.LnKtHXooA67qfgPsDbEdOuv35wSfvCO';

describe('htpasswd hashes', () => {
  it('tells the kinds apart, and plain text from hashes', () => {
    assert.equal(hashKind(BCRYPT), 'bcrypt');
    assert.equal(hashKind(BCRYPT.replace('$2y$', '$2a$')), 'bcrypt');
    assert.equal(hashKind(APR1), 'md5crypt');
    assert.equal(hashKind(MD5), 'md5crypt');
    assert.equal(hashKind(SHA), 'sha1');
    assert.equal(hashKind('secret'), 'unsupported');
    assert.equal(hashKind('$5$rounds=5000$x$y'), 'unsupported');
  });

  it('computes MD5-crypt as openssl and htpasswd do', () => {
    assert.equal(md5Crypt(Buffer.from('secret'), Buffer.from('abcdefgh'), '$apr1$'), APR1);
    assert.equal(md5Crypt(Buffer.from('secret'), Buffer.from('abc'), '$1$'), MD5);
    assert.equal(md5Crypt(Buffer.from('p4ss word'), Buffer.from('RFww92E/'), '$apr1$'), HTPASSWD_MD5);
  });

  it('accepts the right password and refuses others', () => {
    assert.equal(verifyCheap('secret', APR1), true);
    assert.equal(verifyCheap('Secret', APR1), false);
    assert.equal(verifyCheap('secret', MD5), true);
    assert.equal(verifyCheap('p4ss word', HTPASSWD_MD5), true);
    assert.equal(verifyCheap('secret', SHA), true);
    assert.equal(verifyCheap('secret!', SHA), false);
    assert.equal(verifyCheap('secret', '{SHA}short'), false);
  });
});
