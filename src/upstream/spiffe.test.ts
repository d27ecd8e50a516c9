import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeX509SvidResponse,
  parseWorkloadAddr,
  spiffeIdProblem,
  splitDer,
  trustDomainOf,
} from './spiffe.ts';
import { TestPki } from './test-pki.ts';

/** Protobuf by hand: a length-delimited field. */
function field(n: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  const len: number[] = [];
  let l = v.length;
  do {
    len.push((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
    l >>>= 7;
  } while (l > 0);
  return Buffer.concat([Buffer.from([(n << 3) | 2, ...len]), v]);
}

describe('SPIFFE IDs and trust domains (go-spiffe spiffeid rules)', () => {
  it('accepts IDs and refuses the malformed ones with its reasons', () => {
    assert.equal(spiffeIdProblem('spiffe://example.org/ns/default/sa/web'), undefined);
    assert.equal(spiffeIdProblem('spiffe://example.org'), undefined);
    assert.equal(spiffeIdProblem('https://example.org/x'), 'scheme is missing or invalid');
    assert.match(spiffeIdProblem('spiffe://Example.org/x')!, /trust domain characters/);
    assert.equal(spiffeIdProblem('spiffe://example.org/a//b'), 'path cannot contain empty segments');
    assert.equal(spiffeIdProblem('spiffe://example.org/a/'), 'path cannot contain empty segments');
    assert.equal(spiffeIdProblem('spiffe://example.org/a/../b'), 'path cannot contain dot segments');
    assert.equal(spiffeIdProblem('spiffe:///x'), 'trust domain is missing');
  });

  it('reads a trust domain with or without its scheme', () => {
    assert.deepEqual(trustDomainOf('example.org'), { td: 'example.org' });
    assert.deepEqual(trustDomainOf('spiffe://example.org'), { td: 'example.org' });
    assert.ok('problem' in trustDomainOf('Example.org'));
  });
});

describe('Workload API addresses (go-spiffe workloadapi)', () => {
  it('takes unix and tcp addresses, and refuses others', () => {
    assert.deepEqual(parseWorkloadAddr('unix:///run/spire/agent.sock'), { path: '/run/spire/agent.sock' });
    assert.deepEqual(parseWorkloadAddr('unix:/run/spire/agent.sock'), { path: '/run/spire/agent.sock' });
    assert.deepEqual(parseWorkloadAddr('tcp://127.0.0.1:8081'), { host: '127.0.0.1', port: 8081 });
    assert.throws(() => parseWorkloadAddr('tcp://localhost:8081'), /must be an IP:port/);
    assert.throws(() => parseWorkloadAddr('/run/agent.sock'), /"tcp" or "unix" scheme/);
  });
});

describe('X509SVIDResponse decoding', () => {
  it('reads the SVIDs and the federated bundles, and splits DER chains', () => {
    const pki = new TestPki('example.org CA');
    try {
      const leaf = pki.issue('w', ['spiffe://example.org/w']);
      const chain = Buffer.concat([
        new (process.getBuiltinModule('node:crypto').X509Certificate)(leaf.certPem).raw,
        new (process.getBuiltinModule('node:crypto').X509Certificate)(pki.ca.certPem).raw,
      ]);
      const svid = Buffer.concat([
        field(1, 'spiffe://example.org/w'),
        field(2, chain),
        field(3, Buffer.from([1, 2, 3])),
        field(4, chain.subarray(0, 0)),
        field(5, 'hint'),
      ]);
      const msg = Buffer.concat([
        field(1, svid),
        field(2, Buffer.from('crl')),
        field(3, Buffer.concat([field(1, 'spiffe://other.org'), field(2, Buffer.from([9]))])),
      ]);
      const r = decodeX509SvidResponse(msg);
      assert.equal(r.svids.length, 1);
      assert.equal(r.svids[0]!.spiffeId, 'spiffe://example.org/w');
      assert.deepEqual([...r.svids[0]!.key], [1, 2, 3]);
      assert.deepEqual([...(r.federatedBundles.get('spiffe://other.org') ?? [])], [9]);
      const certs = splitDer(r.svids[0]!.certificates);
      assert.equal(certs.length, 2);
      assert.match(certs[0]!.subjectAltName ?? '', /URI:spiffe:\/\/example.org\/w/);
      assert.throws(() => splitDer(Buffer.from([0x30, 0x05, 0])), /truncated/);
    } finally {
      pki.remove();
    }
  });
});
