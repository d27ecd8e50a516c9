import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadStaticConfig } from './load.ts';

const EP = ['--entryPoints.web.address=:8080'];

describe('static workers', () => {
  it('reads a number or auto from a flag or the environment', () => {
    assert.equal(loadStaticConfig({ argv: [...EP, '--workers=4'], env: {} }).config?.workers, 4);
    assert.equal(loadStaticConfig({ argv: [...EP, '--workers=auto'], env: {} }).config?.workers, 'auto');
    assert.equal(loadStaticConfig({ argv: EP, env: { TRAFFIC_WORKERS: '2' } }).config?.workers, 2);
    assert.equal(loadStaticConfig({ argv: EP, env: {} }).config?.workers, undefined);
  });

  it('refuses 0, a word and a fraction with the key named', () => {
    for (const v of ['0', 'many', '1.5']) {
      const r = loadStaticConfig({ argv: [...EP, `--workers=${v}`], env: {} });
      const errors = r.issues.filter((i) => i.severity === 'error');
      assert.equal(errors.length, 1, v);
      assert.deepEqual(errors[0]!.path, ['workers']);
    }
  });

  it('accepts workers with an ACME resolver (the control plane runs it for all workers)', () => {
    const r = loadStaticConfig({
      argv: [
        ...EP,
        '--workers=2',
        '--certificatesResolvers.le.acme.email=a@example.com',
        '--certificatesResolvers.le.acme.storage=/tmp/acme.json',
        '--certificatesResolvers.le.acme.httpChallenge.entryPoint=web',
      ],
      env: {},
    });
    assert.deepEqual(
      r.issues.filter((i) => i.severity === 'error'),
      [],
    );
  });
});
