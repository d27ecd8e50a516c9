import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toInfo } from './docker-client.ts';

describe('docker inspection → container', () => {
  it("takes a network's global IPv6 address when it has no IPv4 one, as Traefik's parseContainer", () => {
    const c = toInfo({
      Name: '/v6',
      State: { Running: true },
      NetworkSettings: {
        Networks: {
          v6only: { IPAddress: '', GlobalIPv6Address: 'fd00::5' },
          dual: { IPAddress: '172.18.0.5', GlobalIPv6Address: 'fd01::5' },
        },
      },
    });
    assert.deepEqual(c?.networks, { v6only: 'fd00::5', dual: '172.18.0.5' });
  });

  it('lists TCP and UDP ports, the lowest first (the default server port, of any protocol)', () => {
    const c = toInfo({
      Name: '/dns',
      State: { Running: true },
      Config: { ExposedPorts: { '8080/tcp': {}, '53/udp': {} } },
      NetworkSettings: { Ports: { '8080/tcp': null, '53/udp': null, '53/tcp': null } },
    });
    assert.deepEqual(c?.ports, [53, 8080]);
  });
});
