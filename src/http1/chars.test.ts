import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOP_BY_HOP, isHopByHop, isResponseHop } from './chars.ts';

/** Names of every length around the hop-by-hop ones, some a letter off them. */
const OTHERS = [
  '',
  't',
  'tf',
  'ted',
  'hosts',
  'hast',
  'trailers',
  'trailor',
  'upgrades',
  'connectiom',
  'keep-alivf',
  'content-type',
  'content-lengtg',
  'http2-settingz',
  'accept-charset',
  'proxy-connectiom',
  'transfer-encodinf',
  'proxy-authenticatf',
  'proxy-authorizatiom',
  'x-forwarded-for',
  'authorization',
  'set-cookie',
  'date',
  'server',
];

describe('hop-by-hop field names', () => {
  it('isHopByHop agrees with HOP_BY_HOP on its names and on others', () => {
    for (const n of HOP_BY_HOP) assert.equal(isHopByHop(n), true, n);
    for (const n of OTHERS) assert.equal(isHopByHop(n), HOP_BY_HOP.has(n), n);
    // A name built at run time (not an internalized constant) compares by content.
    assert.equal(isHopByHop(['keep', 'alive'].join('-')), true);
  });

  it('isResponseHop is HOP_BY_HOP less host, content-length, proxy-authorization and http2-settings', () => {
    const response = new Set(HOP_BY_HOP);
    for (const n of ['host', 'content-length', 'proxy-authorization', 'http2-settings']) response.delete(n);
    assert.equal(response.size, 8);
    for (const n of [...HOP_BY_HOP, ...OTHERS]) assert.equal(isResponseHop(n), response.has(n), n);
  });
});
