import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { TestPki } from '../../upstream/test-pki.ts';
import { selfSignedCertificate } from './certificate.ts';
import { missingIssuer, TrustedRoots } from './chain.ts';

/** Root → intermediate → leaf, made by the openssl command line. */
const root = new TestPki('Chain Root');
const intermediate = new TestPki('Chain Intermediate', root);
const leaf = intermediate.issue('leaf.test', ['leaf.test']);
const direct = root.issue('direct.test', ['direct.test']);
/** Another CA with the intermediate's very name, but its own key. */
const impostor = new TestPki('Chain Intermediate');

after(() => {
  for (const p of [root, intermediate, impostor]) p.remove();
});

const trusting = (...pems: string[]): TrustedRoots => new TrustedRoots(() => pems);

describe('missingIssuer', () => {
  it('names the intermediate a leaf-only file lacks', () => {
    assert.equal(missingIssuer(leaf.certPem, trusting(root.ca.certPem)), 'CN=Chain Intermediate');
  });

  it('accepts leaf + intermediate when the root is trusted, in either order', () => {
    const roots = trusting(root.ca.certPem);
    assert.equal(missingIssuer(leaf.certPem + intermediate.ca.certPem, roots), undefined);
    // The leaf first, the rest in any order: the walk looks for each issuer in the whole file.
    assert.equal(missingIssuer(leaf.certPem + direct.certPem + intermediate.ca.certPem, roots), undefined);
  });

  it('names the root when the chain ends at one nobody trusts, accepts it when the file carries it', () => {
    const none = trusting();
    assert.equal(missingIssuer(leaf.certPem + intermediate.ca.certPem, none), 'CN=Chain Root');
    assert.equal(missingIssuer(leaf.certPem + intermediate.ca.certPem + root.ca.certPem, none), undefined);
  });

  it('accepts a leaf a trusted root signed directly, and a self-signed certificate', () => {
    assert.equal(missingIssuer(direct.certPem, trusting(root.ca.certPem)), undefined);
    const self = selfSignedCertificate(['self.test'], { commonName: 'self.test', days: 2 });
    assert.equal(missingIssuer(self.certPem, trusting()), undefined);
  });

  it('does not take an intermediate of the same name but another key for the issuer', () => {
    const roots = trusting(root.ca.certPem, impostor.ca.certPem);
    assert.equal(missingIssuer(leaf.certPem + impostor.ca.certPem, roots), 'CN=Chain Intermediate');
  });

  it("knows node's trusted roots by default", () => {
    const system = new TrustedRoots();
    // Any root of node's bundle issued itself: found by subject, verified by key.
    const some = new X509Certificate(selfSignedRootFromBundle());
    assert.ok(system.issuerOf(some) !== undefined);
    assert.equal(missingIssuer(leaf.certPem, system), 'CN=Chain Intermediate');
  });
});

function selfSignedRootFromBundle(): string {
  const tls = process.getBuiltinModule('node:tls');
  const pem = tls.rootCertificates[0];
  assert.ok(pem !== undefined, 'node has a bundled root list');
  return pem;
}
