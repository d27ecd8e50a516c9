import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { describeAcmeStorage, parseAcmeStorage } from './acme-storage.ts';
import { loadStaticConfig } from './load.ts';

describe('certificatesResolvers.<name>.acme.storage', () => {
  it('reads a path as Traefik does: a file', () => {
    assert.deepEqual(parseAcmeStorage('acme.json'), { kind: 'file', path: 'acme.json' });
    assert.deepEqual(parseAcmeStorage('/data/acme.json'), { kind: 'file', path: '/data/acme.json' });
  });

  it('reads dir:PATH as a shared directory', () => {
    assert.deepEqual(parseAcmeStorage('dir:/srv/acme'), { kind: 'dir', path: '/srv/acme' });
    assert.deepEqual(parseAcmeStorage('dir:///srv/acme'), { kind: 'dir', path: '/srv/acme' });
    assert.deepEqual(parseAcmeStorage('dir:shared'), { kind: 'dir', path: 'shared' });
  });

  it('reads etcd, Redis and Consul URLs: hosts with default ports, the path as key prefix, credentials', () => {
    assert.deepEqual(parseAcmeStorage('etcd://10.0.0.1,10.0.0.2:22379/prod/acme/'), {
      kind: 'etcd',
      endpoints: ['10.0.0.1:2379', '10.0.0.2:22379'],
      prefix: 'prod/acme',
      db: 0,
    });
    assert.deepEqual(parseAcmeStorage('redis://:s3cret@127.0.0.1?db=2'), {
      kind: 'redis',
      endpoints: ['127.0.0.1:6379'],
      prefix: 'traffic/acme',
      db: 2,
      password: 's3cret',
    });
    assert.deepEqual(parseAcmeStorage('consul://[::1]:8500/a?token=t0k'), {
      kind: 'consul',
      endpoints: ['[::1]:8500'],
      prefix: 'a',
      db: 0,
      token: 't0k',
    });
    assert.equal(
      describeAcmeStorage(parseAcmeStorage('etcd://u:p@127.0.0.1:2379/traffic/acme')),
      'etcd://127.0.0.1:2379/traffic/acme',
    );
  });

  it('reads TLS options: any of ca, cert+key, insecureSkipVerify or tls=true turns TLS on', () => {
    const tlsOf = (v: string): unknown => {
      const l = parseAcmeStorage(v);
      return 'tls' in l ? l.tls : undefined;
    };
    assert.deepEqual(tlsOf('etcd://u:p@127.0.0.1/a?ca=%2Fpki%2Fca.pem&cert=/pki/c.pem&key=/pki/k.pem'), {
      ca: '/pki/ca.pem',
      cert: '/pki/c.pem',
      key: '/pki/k.pem',
      insecureSkipVerify: false,
    });
    assert.deepEqual(tlsOf('redis://127.0.0.1/a?tls=true&db=1'), { insecureSkipVerify: false });
    assert.deepEqual(tlsOf('consul://127.0.0.1/a?insecureSkipVerify=1&token=t'), {
      insecureSkipVerify: true,
    });
    assert.equal(tlsOf('consul://127.0.0.1/a?tls=false'), undefined);
    assert.equal(
      describeAcmeStorage(parseAcmeStorage('redis://:pw@127.0.0.1:6380/acme?tls=true')),
      'redis://127.0.0.1:6380/acme (TLS)',
    );
  });

  it('names what is wrong', () => {
    const msg = (v: string): string => {
      try {
        parseAcmeStorage(v);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    assert.match(
      msg('s3://bucket/acme'),
      /unknown storage `s3:\/\/` \(expected a file path, dir:PATH, etcd:/,
    );
    assert.match(msg('etcd:///traffic'), /needs at least one host/);
    assert.match(msg('redis://127.0.0.1:99999/x'), /not a host with an optional port/);
    assert.match(
      msg('redis://127.0.0.1/x?ssl=1'),
      /unknown option `ssl` for redis:\/\/ \(known: db, tls, ca/,
    );
    assert.match(msg('etcd://127.0.0.1/x?tls=yes'), /`tls` must be true or false/);
    assert.match(msg('etcd://127.0.0.1/x?cert=/c.pem'), /`cert` and `key` go together/);
    assert.match(msg('etcd://127.0.0.1/x?tls=false&ca=/ca.pem'), /`tls=false` with TLS options/);
    assert.match(msg('etcd://127.0.0.1/x?ca='), /`ca` needs a file path/);
    assert.match(msg('etcd://127.0.0.1/a//b'), /empty, `\.` or `\.\.` segment/);
    assert.match(msg('consul://u:p@127.0.0.1'), /token/);
    assert.match(msg('dir:'), /needs a directory path/);
  });

  it('is checked when the static file loads, with its place', () => {
    const text = `entryPoints:
  web: { address: ":80" }
certificatesResolvers:
  le:
    acme:
      storage: "zk://127.0.0.1/acme"
      httpChallenge: { entryPoint: web }
`;
    const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv: [], env: {} });
    assert.equal(r.config, undefined);
    assert.deepEqual(r.issues.map(formatIssue), [
      'static.yaml:6:16: certificatesResolvers.le.acme.storage: unknown storage `zk://` (expected a file path, dir:PATH, etcd://HOST:PORT/PREFIX, redis://HOST:PORT/PREFIX or consul://HOST:PORT/PREFIX)',
    ]);
  });
});
