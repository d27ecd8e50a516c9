import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Provider, ProviderUpdate } from '../providers/provider.ts';
import { refreshingPlugins } from './provider.ts';

describe('refreshingPlugins', () => {
  it('refreshes the plugins before each update goes on, and keeps the provider as it is', async () => {
    const events: string[] = [];
    const update = (n: number): ProviderUpdate => ({
      config: undefined,
      issues: [{ severity: 'error', message: String(n), path: [] }],
    });
    const inner: Provider = {
      name: 'api',
      wholeUpdates: true,
      async *watch() {
        events.push('yield 1');
        yield update(1);
        events.push('yield 2');
        yield update(2);
      },
    };
    let refreshes = 0;
    const p = refreshingPlugins(inner, {
      refresh: async () => {
        refreshes++;
        events.push(`refresh ${refreshes}`);
      },
    });
    assert.equal(p.name, 'api');
    assert.equal(p.wholeUpdates, true);
    for await (const u of p.watch(new AbortController().signal)) events.push(`got ${u.issues[0]!.message}`);
    assert.deepEqual(events, ['yield 1', 'refresh 1', 'got 1', 'yield 2', 'refresh 2', 'got 2']);
    assert.equal(
      'wholeUpdates' in refreshingPlugins({ name: 'file', watch: inner.watch }, { refresh: async () => {} }),
      false,
    );
  });
});
