import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkIpOrCidr, parseAddress } from './address.ts';

describe('parseAddress', () => {
  it('reads host:port, :port (all interfaces) and [v6]:port', () => {
    assert.deepEqual(parseAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseAddress('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseAddress('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseAddress(':0'), { host: undefined, port: 0 });
    assert.deepEqual(parseAddress(':443/tcp'), { host: undefined, port: 443 });
  });

  // Traefik's buildListener (pkg/server/server_entrypoint_tcp.go) listens with Go's net.Listen,
  // which reads an empty address or port as port 0: a port the system chooses.
  it('reads an empty address or port as port 0, as Go’s net.Listen', () => {
    assert.deepEqual(parseAddress(''), { host: undefined, port: 0 });
    assert.deepEqual(parseAddress(':'), { host: undefined, port: 0 });
    assert.deepEqual(parseAddress('127.0.0.1:'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseAddress('/udp'), { host: undefined, port: 0, udp: true });
  });

  // Go's net.Listen looks a service name up (LookupPort), from its own table when the system has
  // no /etc/services: `:https` is 443 in Traefik.
  it('reads the service names Go knows as their port, any case', () => {
    assert.deepEqual(parseAddress(':https'), { host: undefined, port: 443 });
    assert.deepEqual(parseAddress('127.0.0.1:HTTP'), { host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseAddress(':domain/udp'), { host: undefined, port: 53, udp: true });
    assert.match(
      (parseAddress(':no-such-service') as { error: string }).error,
      /unknown port "no-such-service"/,
    );
  });

  it('rejects missing ports, bad ports, bad hosts and unknown protocols', () => {
    for (const bad of ['8080', '127.0.0.1', ':65536', '[::1:80', '::1:80', 'bad host:80', ':80/sctp']) {
      assert.ok('error' in parseAddress(bad), bad);
    }
  });

  it('marks UDP entry points (`/udp`, any case)', () => {
    assert.deepEqual(parseAddress(':53/udp'), { host: undefined, port: 53, udp: true });
    assert.deepEqual(parseAddress('[::1]:53/UDP'), { host: '::1', port: 53, udp: true });
  });
});

describe('checkIpOrCidr', () => {
  it('accepts addresses and CIDR blocks of both families', () => {
    // An IPv6 zone on an address: Traefik's checker (netip.ParseAddr) takes it and ignores it.
    for (const ok of ['10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.7', '0.0.0.0/0', 'fe80::1%eth0'])
      assert.equal(checkIpOrCidr(ok), undefined, ok);
  });

  it('rejects names and out-of-range prefixes', () => {
    const zoned = ['fe80::1%eth0/64', 'fe80::1%', '10.0.0.1%eth0'];
    for (const bad of ['example.com', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', ...zoned])
      assert.ok(checkIpOrCidr(bad), bad);
  });
});
