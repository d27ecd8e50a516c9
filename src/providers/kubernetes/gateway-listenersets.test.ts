import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  listenerSetFor,
  serviceFor,
  tcpRouteFor,
} from '../../../test/helpers/kube-objects.ts';
import { type GatewayObjects, gatewayConfig } from './gateway-config.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';

const ko = (xs: unknown[] | undefined): KubeObject[] => (xs ?? []) as KubeObject[];

function build(objs: Partial<Record<keyof GatewayObjects, unknown[]>>) {
  return gatewayConfig(
    {
      gatewayClasses: ko([gatewayClassFor()]),
      gateways: ko(objs.gateways),
      httpRoutes: ko(objs.httpRoutes),
      tcpRoutes: ko(objs.tcpRoutes),
      listenerSets: ko(objs.listenerSets),
      services: ko([serviceFor('team', 'app'), serviceFor('team', 'db', 5432)]),
      endpointSlices: ko([
        endpointSliceFor('team', 'app', ['10.0.0.1'], 8080),
        endpointSliceFor('team', 'db', ['10.0.0.2'], 5432),
      ]),
      secrets: [],
      namespaces: ko(objs.namespaces),
    },
    { allowEmptyServices: false, allowExternalNameServices: false, entryPointPorts: { web: 8000, db: 5432 } },
  );
}

const conds = (c: unknown): string[] =>
  ((c ?? []) as { type: string; status: string; reason: string }[]).map(
    (x) => `${x.type}=${x.status}/${x.reason}`,
  );
const statusOf = (statuses: readonly StatusUpdate[], kind: string, name: string): StatusUpdate => {
  const s = statuses.find((u) => u.kind === kind && u.object.metadata.name === name);
  assert.ok(s, `${kind} ${name} has a status`);
  return s;
};

/** A Gateway `gw` in `infra` whose allowedListeners admit `from` (absent: the default, none). */
function gateway(from?: string, selector?: unknown): unknown {
  const gw = gatewayFor('infra', 'gw', [
    { name: 'main', port: 8000, protocol: 'HTTP', hostname: 'gw.example' },
  ]);
  if (from !== undefined)
    (gw['spec'] as Record<string, unknown>)['allowedListeners'] = {
      namespaces: { from, ...(selector === undefined ? {} : { selector }) },
    };
  return gw;
}

const set = (name: string, listeners: unknown[], ns = 'team') =>
  listenerSetFor(ns, name, { name: 'gw', namespace: 'infra' }, listeners);
const http = (name: string, hostname: string) => ({ name, port: 8000, protocol: 'HTTP', hostname });
const viaSet = (name: string, setName: string) =>
  httpRouteFor('team', name, {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: setName }],
    rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
  });

describe('Gateway API ListenerSet (v1) as Traefik v3.8', () => {
  it('routes a route attached to an allowed ListenerSet under a router named after the ListenerSet', () => {
    const b = build({
      gateways: [gateway('All')],
      listenerSets: [set('extra', [http('l1', 'team.example')])],
      httpRoutes: [viaSet('r', 'extra')],
    });
    const routers = b.data['http'] as { routers: Record<string, { rule: string; parentRefs?: string[] }> };
    const label = 'httproute-team-r-ls-team-extra-ep-web-0';
    const rule = 'Host(`team.example`) && PathPrefix(`/`)';
    const h = createHash('sha256');
    for (const c of ['team', 'r', 'ListenerSet', 'team', 'extra', 'web', '0']) h.update(`${c.length}:${c}`);
    const name = `${label}-${h.update(rule).digest('hex').slice(0, 20)}`;
    assert.equal(routers.routers[name]?.rule, rule, Object.keys(routers.routers).join());
    assert.equal(routers.routers[name]?.parentRefs?.length, 1);
    const s = statusOf(b.statuses, 'ListenerSet', 'extra');
    assert.equal(s.path, '/apis/gateway.networking.k8s.io/v1/namespaces/team/listenersets/extra');
    assert.deepEqual(conds(s.status['conditions']), ['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    const gw = statusOf(b.statuses, 'Gateway', 'gw').status;
    assert.equal(gw['attachedListenerSets'], 1);
    assert.deepEqual(
      (gw['listeners'] as { name: string }[]).map((l) => l.name),
      ['main'],
    );
  });

  it('allows ListenerSets as Traefik`s isListenerSetAllowed: none by default, None, Same, All, Selector', () => {
    const cases: [unknown, string][] = [
      [gateway(), 'NotAllowed'],
      [gateway('None'), 'NotAllowed'],
      [gateway('Same'), 'NotAllowed'],
      [gateway('All'), 'Accepted'],
      [gateway('Selector', { matchLabels: { team: 'yes' } }), 'Accepted'],
      [gateway('Selector', { matchLabels: { team: 'no' } }), 'NotAllowed'],
      [gateway('Selector'), 'NotAllowed'],
    ];
    const namespaces = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { team: 'yes' } } },
    ];
    for (const [gw, reason] of cases) {
      const b = build({
        gateways: [gw],
        listenerSets: [set('extra', [http('l1', 'team.example')])],
        httpRoutes: [viaSet('r', 'extra')],
        namespaces,
      });
      const s = statusOf(b.statuses, 'ListenerSet', 'extra');
      assert.equal(
        conds(s.status['conditions'])[0],
        reason === 'Accepted' ? 'Accepted=True/Accepted' : 'Accepted=False/NotAllowed',
        JSON.stringify(gw),
      );
      const routers = Object.keys((b.data['http'] as { routers?: object } | undefined)?.routers ?? {});
      assert.equal(
        routers.some((n) => n.startsWith('httproute-team-r-')),
        reason === 'Accepted',
      );
      // A route naming a ListenerSet of ours gets a status either way.
      // Traefik v3.8's loadHTTPRoutes: a ListenerSet it does not allow has no listeners, so
      // nothing is loaded for it and its parent status has no ResolvedRefs.
      const route = statusOf(b.statuses, 'HTTPRoute', 'r');
      assert.deepEqual(
        conds((route.status['parents'] as { conditions: unknown }[])[0]!.conditions),
        reason === 'Accepted'
          ? ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']
          : ['Accepted=False/NoMatchingParent'],
      );
    }
    // `Same`: a ListenerSet of the Gateway's namespace.
    const same = build({
      gateways: [gateway('Same')],
      listenerSets: [set('own', [http('l1', 'x.example')], 'infra')],
    });
    assert.deepEqual(conds(statusOf(same.statuses, 'ListenerSet', 'own').status['conditions']), [
      'Accepted=True/Accepted',
      'Programmed=True/Programmed',
    ]);
  });

  it('claims listeners after the Gateway`s, oldest ListenerSet first, and reports them as makeListenerSetStatus', () => {
    const older = set('older', [http('dup', 'team.example'), http('ok', 'ok.example')]);
    (older['metadata'] as Record<string, unknown>)['creationTimestamp'] = '2026-01-01T00:00:00Z';
    const newer = set('newer', [http('dup', 'team.example'), http('gw', 'gw.example')]);
    (newer['metadata'] as Record<string, unknown>)['creationTimestamp'] = '2026-02-01T00:00:00Z';
    const b = build({ gateways: [gateway('All')], listenerSets: [newer, older] });
    const o = statusOf(b.statuses, 'ListenerSet', 'older').status;
    assert.deepEqual(conds(o['conditions']), ['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    // Both of the newer one's listeners conflict: with the older ListenerSet's, with the Gateway's.
    const n = statusOf(b.statuses, 'ListenerSet', 'newer').status;
    assert.deepEqual(conds(n['conditions']), [
      'Accepted=False/ListenersNotValid',
      'Programmed=False/ListenersNotValid',
    ]);
    assert.deepEqual(
      (n['listeners'] as { name: string; conditions: unknown }[]).map((l) => [
        l.name,
        conds(l.conditions)[0],
      ]),
      [
        ['dup', 'Accepted=False/HostnameConflict'],
        ['gw', 'Accepted=False/HostnameConflict'],
      ],
    );
    assert.equal(statusOf(b.statuses, 'Gateway', 'gw').status['attachedListenerSets'], 1);
    // Some valid, some not: accepted, ListenersNotValid.
    const some = build({
      gateways: [gateway('All')],
      listenerSets: [set('some', [http('ok', 'ok.example'), { name: 'bad', port: 9999, protocol: 'HTTP' }])],
    });
    assert.deepEqual(conds(statusOf(some.statuses, 'ListenerSet', 'some').status['conditions']), [
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
  });

  it('accepts a Gateway whose own listeners are invalid when a ListenerSet`s is valid; else ParentNotAccepted', () => {
    const gw = gatewayFor('infra', 'gw', [{ name: 'bad', port: 9999, protocol: 'HTTP' }]);
    (gw['spec'] as Record<string, unknown>)['allowedListeners'] = { namespaces: { from: 'All' } };
    const ok = build({ gateways: [gw], listenerSets: [set('extra', [http('l1', 'team.example')])] });
    assert.deepEqual(conds(statusOf(ok.statuses, 'Gateway', 'gw').status['conditions']), [
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
    const none = build({
      gateways: [gw],
      listenerSets: [set('extra', [{ name: 'x', port: 9999, protocol: 'HTTP' }])],
    });
    assert.deepEqual(conds(statusOf(none.statuses, 'Gateway', 'gw').status['conditions']), [
      'Accepted=False/ListenersNotValid',
      'Programmed=False/Invalid',
    ]);
    assert.deepEqual(conds(statusOf(none.statuses, 'ListenerSet', 'extra').status['conditions']), [
      'Accepted=False/ParentNotAccepted',
      'Programmed=False/ParentNotProgrammed',
    ]);
  });

  it('routes a TCPRoute attached to a ListenerSet`s TCP listener', () => {
    const b = build({
      gateways: [gateway('All')],
      listenerSets: [set('extra', [{ name: 'pg', port: 5432, protocol: 'TCP' }])],
      tcpRoutes: [
        tcpRouteFor('team', 'pg', {
          parentRefs: [
            { group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'extra', sectionName: 'pg' },
          ],
          rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }],
        }),
      ],
    });
    const routers = Object.keys((b.data['tcp'] as { routers: object }).routers);
    assert.equal(routers.length, 1);
    assert.match(routers[0]!, /^tcproute-team-pg-ls-team-extra-ep-db-0-[0-9a-f]{20}$/);
  });
});
