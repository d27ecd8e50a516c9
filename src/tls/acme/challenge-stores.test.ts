import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dns01RecordName } from './dns01-provider.ts';
import { Http01Store } from './http01-store.ts';
import { TlsAlpn01Store } from './tls-alpn01-store.ts';

describe('Http01Store', () => {
  it('answers a challenge path with the key authorization of its token until deleted', () => {
    const s = new Http01Store();
    s.set('tok', 'tok.thumb');
    assert.equal(s.lookup('tok'), 'tok.thumb');
    assert.equal(s.lookupPath('/.well-known/acme-challenge/tok'), 'tok.thumb');
    assert.equal(s.lookupPath('/.well-known/acme-challenge/other'), undefined);
    assert.equal(s.lookupPath('/tok'), undefined);
    s.delete('tok');
    assert.equal(s.lookupPath('/.well-known/acme-challenge/tok'), undefined);
  });
});

describe('TlsAlpn01Store', () => {
  it('finds a challenge certificate by server name, case-insensitively', () => {
    const s = new TlsAlpn01Store();
    const cert = { keyPem: 'k', certPem: 'c' };
    s.set('Example.COM', cert);
    assert.equal(s.lookup('example.com'), cert);
    s.delete('EXAMPLE.com');
    assert.equal(s.lookup('example.com'), undefined);
  });
});

describe('dns01RecordName', () => {
  it('is _acme-challenge under the base domain, absolute, also for wildcards', () => {
    assert.equal(dns01RecordName('example.com'), '_acme-challenge.example.com.');
    assert.equal(dns01RecordName('*.example.com'), '_acme-challenge.example.com.');
    assert.equal(dns01RecordName('example.com.'), '_acme-challenge.example.com.');
  });
});
