import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { parseDynamic } from './parse.ts';

function transport(body: string): { config: unknown; lines: string[] } {
  const r = parseDynamic(`http:\n  serversTransports:\n    t:\n${body}`, 'dyn.yaml');
  return { config: r.config?.http.serversTransports['t'], lines: r.issues.map(formatIssue) };
}

function serverUrl(url: string): string[] {
  return parseDynamic(
    `http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{ url: "${url}" }]\n`,
    'dyn.yaml',
  ).issues.map(formatIssue);
}

describe('serversTransports: TLS keys', () => {
  it("reads Traefik's TLS keys and our minVersion/maxVersion", () => {
    const r = transport(`      serverName: api.internal
      rootCAs: [/certs/ca.pem]
      certificates: [{ certFile: /certs/c.pem, keyFile: /certs/c.key }]
      insecureSkipVerify: false
      minVersion: VersionTLS12
      maxVersion: VersionTLS13
`);
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config, {
      maxIdleConnsPerHost: 200,
      maxConnsPerHost: 0,
      forwardingTimeouts: {
        dialTimeout: 30_000,
        responseHeaderTimeout: 0,
        idleConnTimeout: 90_000,
        tunnelIdleTimeout: 3_600_000,
      },
      serverName: 'api.internal',
      rootCAs: ['/certs/ca.pem'],
      certificates: [{ certFile: '/certs/c.pem', keyFile: '/certs/c.key' }],
      insecureSkipVerify: false,
      minVersion: 'VersionTLS12',
      maxVersion: 'VersionTLS13',
    });
  });

  it('adds no TLS field to a transport that sets none', () => {
    assert.deepEqual(Object.keys(transport('      maxConnsPerHost: 1\n').config as object).sort(), [
      'forwardingTimeouts',
      'maxConnsPerHost',
      'maxIdleConnsPerHost',
    ]);
  });

  it("refuses a version name that is not Traefik's", () => {
    const r = transport('      minVersion: TLSv1.2\n');
    assert.equal(r.config, undefined);
    assert.match(r.lines[0]!, /^dyn\.yaml:4:19: http\.serversTransports\.t\.minVersion: .*VersionTLS12/);
  });

  it('refuses a maxVersion below minVersion', () => {
    const r = transport('      minVersion: VersionTLS13\n      maxVersion: VersionTLS12\n');
    assert.deepEqual(r.lines, [
      'dyn.yaml:5:19: http.serversTransports.t.maxVersion: maxVersion is below minVersion',
    ]);
  });

  it('needs both certFile and keyFile in a client certificate', () => {
    const r = transport('      certificates: [{ certFile: /c.pem }]\n');
    assert.equal(r.config, undefined);
    assert.match(r.lines.join('\n'), /certificates\[0\]\.keyFile: required key `keyFile` is missing/);
  });

  it('reads disableHTTP2 and the HTTP/2 keepalive timeouts', () => {
    const r = transport(
      '      disableHTTP2: true\n      forwardingTimeouts: { readIdleTimeout: 10s, pingTimeout: 2s }\n',
    );
    assert.deepEqual(r.lines, []);
    const t = r.config as { disableHTTP2: boolean; forwardingTimeouts: Record<string, number> };
    assert.equal(t.disableHTTP2, true);
    assert.equal(t.forwardingTimeouts['readIdleTimeout'], 10_000);
    assert.equal(t.forwardingTimeouts['pingTimeout'], 2_000);
  });

  it("reads Traefik v3.8's forwardingTimeouts readTimeout and writeTimeout (#12716)", () => {
    const r = transport('      forwardingTimeouts:\n        readTimeout: 30s\n        writeTimeout: 2m\n');
    assert.deepEqual(r.lines, []);
    const t = r.config as { forwardingTimeouts: Record<string, number> };
    assert.equal(t.forwardingTimeouts['readTimeout'], 30_000);
    assert.equal(t.forwardingTimeouts['writeTimeout'], 120_000);
    const none = transport('      forwardingTimeouts: { dialTimeout: 1s }\n');
    const n = none.config as { forwardingTimeouts: Record<string, number | undefined> };
    assert.equal(n.forwardingTimeouts['readTimeout'], undefined);
    assert.equal(n.forwardingTimeouts['writeTimeout'], undefined);
  });

  it('reads peerCertURI, and refuses one that is not an absolute URI', () => {
    const ok = transport('      peerCertURI: spiffe://td.consul/ns/default/dc/dc1/svc/web\n');
    assert.deepEqual(ok.lines, []);
    assert.equal(
      (ok.config as { peerCertURI: string }).peerCertURI,
      'spiffe://td.consul/ns/default/dc/dc1/svc/web',
    );
    const bad = transport('      peerCertURI: svc/web\n');
    assert.equal(bad.config, undefined);
    assert.match(
      bad.lines[0]!,
      /^dyn\.yaml:4:20: http\.serversTransports\.t\.peerCertURI: must be an absolute URI/,
    );
  });

  it('reads spiffe (ids, trustDomain; empty = any SPIFFE ID)', () => {
    const r = transport('      spiffe: { ids: ["spiffe://a/b"], trustDomain: a }\n');
    assert.deepEqual(r.lines, []);
    assert.deepEqual((r.config as { spiffe: unknown }).spiffe, { ids: ['spiffe://a/b'], trustDomain: 'a' });
    // An allowEmpty section, as paerser reads it: `true` = present with nothing set.
    assert.deepEqual((transport('      spiffe: true\n').config as { spiffe: unknown }).spiffe, {});
  });
});

describe('server URLs', () => {
  it('accepts https servers, with or without a port', () => {
    assert.deepEqual(serverUrl('https://10.0.0.1:8443'), []);
    assert.deepEqual(serverUrl('https://backend.test'), []);
    assert.deepEqual(serverUrl('https://[::1]:8443/'), []);
  });

  it('accepts h2c servers, and other schemes as Traefik loads them (their server answers 500)', () => {
    assert.deepEqual(serverUrl('h2c://a:80'), []);
    assert.deepEqual(serverUrl('h2c://[::1]:50051'), []);
    assert.deepEqual(serverUrl('wss://a'), []);
  });
});
