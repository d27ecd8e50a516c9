import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeKube, startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { httpRouteFor } from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { objectPath, routeParents, type StatusUpdate, StatusWriter } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { KubeClient } from './kube-client.ts';

/* The status writer against the fake API server's status subresource, over HTTP. */

describe('Gateway API status writer', () => {
  let kube: FakeKube;
  let client: KubeClient;
  const ctl = new AbortController();
  let clock = new Date('2026-01-01T10:00:00Z');

  before(async () => {
    kube = await startFakeKube();
    client = new KubeClient({ endpoint: kube.url }, {});
  });
  after(async () => {
    ctl.abort();
    await kube.close();
  });

  const get = (): Promise<
    KubeObject & { status?: { parents: { conditions: Record<string, unknown>[] }[] } }
  > => client.getJson(objectPath({ metadata: { name: 'r', namespace: 'shop' } }, 'httproutes'), ctl.signal);
  const update = (o: KubeObject, resolved: boolean): StatusUpdate => ({
    kind: 'HTTPRoute',
    object: o,
    path: objectPath(o, 'httproutes'),
    status: {
      parents: [
        {
          parentRef: { name: 'gw' },
          controllerName: 'traefik.io/gateway-controller',
          conditions: [
            { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
            {
              type: 'ResolvedRefs',
              status: resolved ? 'True' : 'False',
              reason: resolved ? 'ResolvedRefs' : 'RefNotPermitted',
              message: '',
            },
          ],
        },
      ],
    },
  });

  it('writes a changed status once, keeps the time of a condition that did not transition, and reports a conflict', async () => {
    kube.apply(httpRouteFor('shop', 'r', { parentRefs: [{ name: 'gw' }] }));
    const w = new StatusWriter(client, ctl.signal, () => clock);
    w.submit([update(await get(), false)]);
    await w.idle();
    let stored = await get();
    assert.equal(w.writes, 1);
    const times = (o: typeof stored) =>
      o.status?.parents[0]?.conditions.map((c) => `${c['type']}=${c['status']}@${c['lastTransitionTime']}`);
    assert.deepEqual(times(stored), [
      'Accepted=True@2026-01-01T10:00:00Z',
      'ResolvedRefs=False@2026-01-01T10:00:00Z',
    ]);

    // The same status again (as the informer now has it): nothing written.
    w.submit([update(stored, false)]);
    await w.idle();
    assert.equal(w.writes, 1);

    clock = new Date('2026-01-01T11:00:00Z');
    w.submit([update(stored, true)]);
    await w.idle();
    stored = await get();
    assert.equal(w.writes, 2);
    assert.deepEqual(times(stored), [
      'Accepted=True@2026-01-01T10:00:00Z',
      'ResolvedRefs=True@2026-01-01T11:00:00Z',
    ]);
    assert.deepEqual(w.takeFailures(), []);

    // A write from an older version of the object is refused (409), and reported.
    const stale = { ...stored, metadata: { ...stored.metadata, resourceVersion: '1' } };
    w.submit([update(stale, false)]);
    await w.idle();
    const failures = w.takeFailures().map(formatIssue);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^httproute shop\/r: warning: status not written: PUT .*\/status: status 409/);
    assert.deepEqual(times(await get()), times(stored));
  });
  it('writes our parents first, then the ones other controllers wrote, and takes a reordered list for no change (Traefik`s client.go)', async () => {
    const path = objectPath({ metadata: { name: 'r2', namespace: 'shop' } }, 'httproutes');
    kube.apply(httpRouteFor('shop', 'r2', { parentRefs: [{ name: 'gw' }, { name: 'theirs' }] }));
    const cond = (type: string, ok: boolean, reason: string, at: string) => ({
      type,
      status: ok ? 'True' : 'False',
      reason,
      message: '',
      lastTransitionTime: at,
    });
    const theirs = {
      parentRef: { name: 'theirs' },
      controllerName: 'example.com/other',
      conditions: [cond('Accepted', true, 'Accepted', '2025-06-01T00:00:00Z')],
    };
    const ours = (resolved: boolean) => ({
      parentRef: { name: 'gw' },
      controllerName: 'traefik.io/gateway-controller',
      conditions: [
        cond('Accepted', true, 'Accepted', '2025-06-01T00:00:00Z'),
        cond('ResolvedRefs', resolved, resolved ? 'ResolvedRefs' : 'BackendNotFound', '2025-06-01T00:00:00Z'),
      ],
    });
    // As written before: the other controller's parent first.
    const seeded = await client.getJson<KubeObject>(path, ctl.signal);
    await client.putJson(
      `${path}/status`,
      { ...seeded, status: { parents: [theirs, ours(true)] } },
      ctl.signal,
    );
    type Stored = KubeObject & { status: { parents: ReturnType<typeof ours>[] } };
    const read = (): Promise<Stored> => client.getJson<Stored>(path, ctl.signal);
    const routeUpdate = (o: KubeObject, resolved: boolean): StatusUpdate => {
      const { conditions, ...rest } = ours(resolved);
      return {
        kind: 'HTTPRoute',
        object: o,
        path,
        status: {
          parents: routeParents(o, [
            { ...rest, conditions: conditions.map(({ lastTransitionTime: _, ...c }) => c) },
          ]),
        },
      };
    };
    const w = new StatusWriter(client, ctl.signal, () => new Date('2026-02-01T00:00:00Z'));
    // Ours then theirs: the same parents, reordered, is no change (routeParentStatusesEqual).
    const before = await read();
    assert.deepEqual(
      (routeUpdate(before, true).status['parents'] as { controllerName: string }[]).map(
        (p) => p.controllerName,
      ),
      ['traefik.io/gateway-controller', 'example.com/other'],
    );
    w.submit([routeUpdate(before, true)]);
    await w.idle();
    assert.equal(w.writes, 0);
    // A change: written ours first, theirs kept as they wrote it, our unchanged condition`s time kept.
    w.submit([routeUpdate(before, false)]);
    await w.idle();
    assert.equal(w.writes, 1);
    const after = (await read()).status.parents;
    assert.deepEqual(
      after.map((p) => [
        p.controllerName,
        ...p.conditions.map((c) => `${c.type}=${c.status}@${c.lastTransitionTime}`),
      ]),
      [
        [
          'traefik.io/gateway-controller',
          'Accepted=True@2025-06-01T00:00:00Z',
          'ResolvedRefs=False@2026-02-01T00:00:00Z',
        ],
        ['example.com/other', 'Accepted=True@2025-06-01T00:00:00Z'],
      ],
    );
  });
});
