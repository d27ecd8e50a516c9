import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redirectPort } from './redirections.ts';

describe('redirectPort (Traefik internal.go getRedirectPort)', () => {
  const eps = {
    websecure: { address: ':8443' },
    ephemeral: { address: ':0' },
    broken: { address: 'nowhere' },
  };

  it("writes a bare `:port`'s digits", () => {
    assert.equal(redirectPort(eps, ':443'), '443');
  });

  it("writes the target entry point's port, '0' for `:0`", () => {
    assert.equal(redirectPort(eps, 'websecure'), '8443');
    assert.equal(redirectPort(eps, 'ephemeral'), '0');
  });

  it("writes '' for an address that does not parse, which the proxy reads as no port", () => {
    assert.equal(redirectPort(eps, 'broken'), '');
    assert.equal(Number(redirectPort(eps, 'broken')), 0);
  });
});
