import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { lookupPort, servicesTable } from './go-lookup-port.ts';
import { parseServerAddress } from './server-address.ts';

// Go's net.LookupPort as a dial runs it (net/lookup.go, net/port.go, net/port_unix.go).
describe("Go's LookupPort", () => {
  const table = servicesTable(`# comment line
postgresql\t5432/tcp\tpostgres\t# PostgreSQL Database
http 8080/tcp www
Mixed 7000/tcp
odd 70000/tcp
zero 0/tcp
noslash 12
mqtt 1883/udp
`);

  it('reads decimal ports as parsePort does: sign, leading zeros, clamping, empty = 0', () => {
    assert.deepEqual(lookupPort('tcp', '5432', table), { port: 5432 });
    assert.deepEqual(lookupPort('tcp', '+80', table), { port: 80 });
    assert.deepEqual(lookupPort('tcp', '000080', table), { port: 80 });
    assert.deepEqual(lookupPort('tcp', '', table), { port: 0 });
    assert.deepEqual(lookupPort('tcp', '65536', table), { error: 'address 65536: invalid port' });
    assert.deepEqual(lookupPort('tcp', '-1', table), { error: 'address -1: invalid port' });
    assert.deepEqual(lookupPort('tcp', '99999999999999999999', table), {
      error: 'address 99999999999999999999: invalid port',
    });
  });

  it('looks a name up in /etc/services, which overrides Go’s built-in table, per network', () => {
    assert.deepEqual(lookupPort('tcp', 'postgresql', table), { port: 5432 });
    assert.deepEqual(lookupPort('tcp', 'postgres', table), { port: 5432 }, 'an alias');
    assert.deepEqual(lookupPort('tcp', 'POSTGRESQL', table), { port: 5432 }, 'the name lowercased');
    assert.deepEqual(lookupPort('tcp', 'http', table), { port: 8080 }, 'the file wins over the table');
    assert.deepEqual(lookupPort('tcp', 'www', table), { port: 8080 });
    assert.deepEqual(lookupPort('tcp', 'ssh', table), { port: 22 }, "Go's built-in table");
    assert.deepEqual(lookupPort('udp', 'domain', table), { port: 53 });
    assert.deepEqual(lookupPort('udp', 'mqtt', table), { port: 1883 });
    assert.deepEqual(lookupPort('tcp', 'mqtt', table), { error: 'lookup tcp/mqtt: unknown port' });
    assert.deepEqual(lookupPort('udp', 'ssh', table), { error: 'lookup udp/ssh: unknown port' });
    // Go stores names as written and lowercases the one asked for: `Mixed` is never found.
    assert.deepEqual(lookupPort('tcp', 'Mixed', table), { error: 'lookup tcp/Mixed: unknown port' });
    // A port Go's readServices takes but LookupPort refuses; lines it skips.
    assert.deepEqual(lookupPort('tcp', 'odd', table), { error: 'address odd: invalid port' });
    assert.deepEqual(lookupPort('tcp', 'zero', table), { error: 'lookup tcp/zero: unknown port' });
    assert.deepEqual(lookupPort('tcp', 'noslash', table), { error: 'lookup tcp/noslash: unknown port' });
    // Longer than Go's maxPortBufSize (25 bytes): never found.
    const long = servicesTable('a-service-name-of-26-chars 9/tcp\n');
    assert.deepEqual(lookupPort('tcp', 'a-service-name-of-26-chars', long), {
      error: 'lookup tcp/a-service-name-of-26-chars: unknown port',
    });
  });

  it("without /etc/services, Go's built-in table alone", () => {
    const builtin = servicesTable(undefined);
    assert.deepEqual(lookupPort('tcp', 'gopher', builtin), { port: 70 });
    assert.deepEqual(lookupPort('tcp', 'submissions', builtin), { port: 465 });
    assert.deepEqual(lookupPort('tcp', 'postgresql', builtin), {
      error: 'lookup tcp/postgresql: unknown port',
    });
  });

  it("reads this machine's /etc/services by default", (t) => {
    let text: string;
    try {
      text = readFileSync('/etc/services', 'utf8');
    } catch {
      t.skip('no /etc/services here');
      return;
    }
    const line = /^([a-z][\w-]*)\s+(\d+)\/tcp\b/m.exec(text);
    if (line === null) {
      t.skip('no tcp entry in /etc/services');
      return;
    }
    assert.deepEqual(lookupPort('tcp', line[1]!), { port: Number(line[2]) });
    assert.deepEqual(parseServerAddress(`db:${line[1]}`, 'tcp'), { host: 'db', port: Number(line[2]) });
  });

  it('a server address: the port is read before the host, as Go dials', () => {
    assert.deepEqual(parseServerAddress('bad host:nosuchname', 'tcp'), {
      host: 'bad host',
      port: 0,
      unusable: 'lookup tcp/nosuchname: unknown port',
    });
    assert.deepEqual(parseServerAddress('10.0.0.1:+22', 'tcp'), { host: '10.0.0.1', port: 22 });
    assert.deepEqual(parseServerAddress('10.0.0.1', 'udp'), {
      error: 'address 10.0.0.1: missing port in address',
    });
  });
});
