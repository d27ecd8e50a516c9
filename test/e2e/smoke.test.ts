import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleConfig, startBackend } from '../helpers/backends.ts';
import { startProxy } from '../helpers/proxy-process.ts';

describe('proxy process', () => {
  it('forwards a request to the backend and alternates between two servers', async (t) => {
    const a = await startBackend((_req, res) => res.end('a'));
    const b = await startBackend((_req, res) => res.end('b'));
    t.after(() => Promise.all([a.close(), b.close()]));
    const proxy = await startProxy({ config: simpleConfig([a.url, b.url]) });
    t.after(() => proxy.stop());
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${proxy.port}/hello`);
      assert.equal(res.status, 200);
      bodies.push(await res.text());
    }
    assert.deepEqual(bodies.sort(), ['a', 'a', 'b', 'b']);
    assert.equal(a.seen[0]?.url, '/hello');
  });

  it('exits 0 on SIGTERM', async () => {
    const be = await startBackend();
    const proxy = await startProxy({ config: simpleConfig([be.url]) });
    assert.equal(await proxy.stop('SIGTERM'), 0);
    await be.close();
  });
});
