import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnsChallengeDeprecations, propagationSettings } from './dns01-settings.ts';

describe('propagationSettings', () => {
  it('maps the deprecated keys onto the propagation ones', () => {
    const s = propagationSettings({
      provider: 'exec',
      delayBeforeCheck: 30_000,
      disablePropagationCheck: true,
    });
    assert.equal(s.delayBeforeChecksMs, 30_000);
    assert.equal(s.disableChecks, true);
  });

  it('prefers the propagation keys when both are set, and says the old ones are ignored', () => {
    const c = {
      provider: 'exec' as const,
      delayBeforeCheck: 30_000,
      disablePropagationCheck: true,
      propagation: { delayBeforeChecks: 0, disableChecks: false },
    };
    const s = propagationSettings(c);
    assert.equal(s.delayBeforeChecksMs, 0);
    assert.equal(s.disableChecks, false);
    assert.deepEqual(
      dnsChallengeDeprecations(c).map((d) => d.message),
      [
        '`delayBeforeCheck` is deprecated and ignored: `propagation.delayBeforeChecks` is set',
        '`disablePropagationCheck` is deprecated and ignored: `propagation.disableChecks` is set',
      ],
    );
  });

  it('reports nothing deprecated for a configuration without the old keys', () => {
    assert.deepEqual(
      dnsChallengeDeprecations({ provider: 'exec', propagation: { disableChecks: true } }),
      [],
    );
  });

  it('lets explicit keys override the challtestsrv defaults', () => {
    const managementUrl = 'http://127.0.0.1:8055';
    assert.equal(propagationSettings({ provider: 'challtestsrv', managementUrl }).disableChecks, true);
    const s = propagationSettings({
      provider: 'challtestsrv',
      managementUrl,
      propagation: { disableChecks: false, requireAllRNS: false, disableANSChecks: false },
    });
    assert.deepEqual(
      [s.disableChecks, s.requireAllRNS, s.disableANSChecks],
      [false, false, false],
      'what the user wrote wins',
    );
  });
});
