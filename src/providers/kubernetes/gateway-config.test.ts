import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  serviceFor,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type GatewayObjects, gatewayConfig } from './gateway-config.ts';
import type { KubeObject } from './informer.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(objs: Partial<Record<keyof GatewayObjects, unknown[]>>) {
  const b = gatewayConfig(
    {
      gatewayClasses: ko(objs.gatewayClasses),
      gateways: ko(objs.gateways),
      httpRoutes: ko(objs.httpRoutes),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
    },
    {
      allowEmptyServices: false,
      allowExternalNameServices: false,
      entryPointPorts: { web: 8000, websecure: 8443 },
    },
  );
  const u = updateFromData(b.data, 'kubernetesgateway', b.sourceOf, {}, b.issues);
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

const apps = [
  serviceFor('default', 'a'),
  serviceFor('default', 'b'),
  endpointSliceFor('default', 'a', ['10.0.0.1'], 8080),
  endpointSliceFor('default', 'b', ['10.0.0.2'], 8080),
];

describe('Gateway API → configuration', () => {
  it('routes an HTTPRoute through a listener`s entry point with Traefik`s rules, priorities and weights', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor(), gatewayClassFor('other', 'example.com/other')],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP', hostname: '*.example.com' },
        ]),
        gatewayFor('default', 'notours', [{ name: 'http', port: 8000, protocol: 'HTTP' }], 'other'),
      ],
      httpRoutes: [
        httpRouteFor('default', 'app', {
          parentRefs: [{ name: 'gw' }, { name: 'notours' }],
          hostnames: ['shop.example.com', 'shop.other.org'],
          rules: [
            {
              matches: [
                {
                  path: { type: 'PathPrefix', value: '/api/' },
                  method: 'GET',
                  headers: [{ name: 'X-V', value: '2' }],
                },
                { path: { type: 'Exact', value: '/health' } },
              ],
              backendRefs: [
                { name: 'a', port: 80, weight: 90 },
                { name: 'b', port: 80, weight: 10 },
              ],
            },
          ],
        }),
      ],
      services: apps.slice(0, 2),
      endpointSlices: apps.slice(2),
    });
    assert.deepEqual(issues, []);
    const routers = Object.entries(config.http.routers).map(([n, r]) => [
      n,
      r.rule,
      r.priority,
      r.entryPoints,
    ]);
    assert.deepEqual(routers, [
      [
        'httproute-default-app-gw-default-gw-ep-web-0-0',
        'Host(`shop.example.com`) && (Path(`/api`) || PathPrefix(`/api/`)) && Method(`GET`) && Header(`X-V`, `2`)',
        10000 + 4 * 100 + 1000 + 100,
        ['web'],
      ],
      [
        'httproute-default-app-gw-default-gw-ep-web-0-1',
        'Host(`shop.example.com`) && Path(`/health`)',
        100000,
        ['web'],
      ],
    ]);
    const w = config.http.services['httproute-default-app-gw-default-gw-ep-web-0-0-wrr'];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        ['default-a-80', 90],
        ['default-b-80', 10],
      ],
    );
  });

  it('refuses a route from another namespace unless the listener allows All, and reports a listener without entry point', () => {
    const route = httpRouteFor('team', 'r', {
      parentRefs: [{ name: 'gw', namespace: 'default' }],
      rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
    });
    const teamApp = [serviceFor('team', 'a'), endpointSliceFor('team', 'a', ['10.0.0.3'], 8080)];
    const same = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'h', port: 8000, protocol: 'HTTP' },
          { name: 'x', port: 9999, protocol: 'HTTP' },
        ]),
      ],
      httpRoutes: [route],
      services: [teamApp[0]],
      endpointSlices: [teamApp[1]],
    });
    assert.deepEqual(same.config.http.routers, {});
    assert.ok(
      same.issues.some(
        (i) => i.includes('gateway default/gw') && i.includes('no entry point listens on port 9999'),
      ),
    );
    const all = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'h', port: 8000, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        ]),
      ],
      httpRoutes: [route],
      services: [teamApp[0]],
      endpointSlices: [teamApp[1]],
    });
    assert.deepEqual(
      Object.values(all.config.http.routers).map((r) => [r.rule, r.priority]),
      [['PathPrefix(`/`)', 10000]],
    );
  });
});
