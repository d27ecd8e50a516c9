/**
 * The one contract every shared store keeps (tls/acme/shared-store.ts), run against real etcd
 * and Redis, a real directory, and the fake Consul API (no Consul package exists): what is put
 * is read back and listed by prefix; compare-and-swap creates only an absent key and replaces
 * only the value expected, so that of several instances racing for a lock exactly one wins; a
 * store that is down fails with an error instead of hanging. The engines run again with TLS
 * (client certificates required, from a CA made for the test) and authentication: a wrong CA,
 * a missing client certificate or a wrong password is a StoreError that names the cause.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEtcd } from '../../test/helpers/etcd.ts';
import { startFakeConsul } from '../../test/helpers/fake-consul.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import type { AcmeStoreTls } from '../config/index.ts';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { TestPki } from '../upstream/test-pki.ts';
import { ConsulKv } from './consul-kv.ts';
import { DirKv } from './dir-kv.ts';
import { EtcdKv } from './etcd-kv.ts';
import { RedisKv } from './redis-kv.ts';
import { StoreError } from './store-error.ts';

interface Harness {
  /** A fresh client of the one store (as another instance would have). */
  open(): SharedStore;
  /** Takes the store away (its port refuses), or undefined when it cannot go away. */
  down?(): Promise<void>;
  /** Clients with a wrong credential, and what their error must say. */
  refused?(): readonly Refusal[];
  close(): Promise<void>;
}

function contract(kind: string, start: () => Promise<Harness>, canGoDown = true): void {
  describe(`${kind} as a shared store`, () => {
    let h: Harness;
    let s: SharedStore;
    before(async () => {
      h = await start();
      s = h.open();
    });
    after(async () => {
      s?.close();
      await h?.close();
    });

    it('reads back what was put, lists a prefix with full keys, forgets what was deleted', async () => {
      await s.put('t/le/certificates/a.example.com', '{"a":1}');
      await s.put('t/le/certificates/*.example.com,example.com', 'wild');
      await s.put('t/le/account', 'acct');
      await s.put('t/other/account', 'not listed');
      assert.equal(await s.get('t/le/account'), 'acct');
      assert.equal(await s.get('t/le/missing'), undefined);
      const listed = await s.list('t/le/');
      assert.deepEqual(
        [...listed].sort(),
        [
          ['t/le/account', 'acct'],
          ['t/le/certificates/*.example.com,example.com', 'wild'],
          ['t/le/certificates/a.example.com', '{"a":1}'],
        ].sort(),
      );
      await s.delete('t/le/account');
      assert.equal(await s.get('t/le/account'), undefined);
      assert.deepEqual(await s.list('t/nothing/'), new Map());
    });

    it('creates with compare-and-swap only when absent, and replaces or deletes only the value expected', async () => {
      assert.equal(await s.compareAndSwap('t/locks/x', undefined, 'one'), true);
      assert.equal(await s.compareAndSwap('t/locks/x', undefined, 'two'), false);
      assert.equal(await s.compareAndSwap('t/locks/x', 'other', 'two'), false);
      assert.equal(await s.get('t/locks/x'), 'one');
      assert.equal(await s.compareAndSwap('t/locks/x', 'one', 'two'), true);
      assert.equal(await s.get('t/locks/x'), 'two');
      assert.equal(await s.compareAndDelete('t/locks/x', 'one'), false);
      assert.equal(await s.get('t/locks/x'), 'two');
      assert.equal(await s.compareAndDelete('t/locks/x', 'two'), true);
      assert.equal(await s.get('t/locks/x'), undefined);
      assert.equal(await s.compareAndDelete('t/locks/x', 'two'), false);
    });

    it('lets exactly one of several clients racing for an absent key, then for its expired value, win', async () => {
      const clients = Array.from({ length: 6 }, () => h.open());
      try {
        const first = await Promise.all(
          clients.map((c, i) => c.compareAndSwap('t/locks/race', undefined, `c${i}`)),
        );
        assert.equal(first.filter(Boolean).length, 1, `winners: ${first}`);
        const held = await s.get('t/locks/race');
        assert.equal(held, `c${first.indexOf(true)}`);
        const second = await Promise.all(
          clients.map((c, i) => c.compareAndSwap('t/locks/race', held, `d${i}`)),
        );
        assert.equal(second.filter(Boolean).length, 1, `winners: ${second}`);
        assert.equal(await s.get('t/locks/race'), `d${second.indexOf(true)}`);
      } finally {
        for (const c of clients) c.close();
      }
    });

    it('refuses a wrong CA, a missing client certificate or a wrong password with a StoreError naming it', async (t) => {
      if (h.refused === undefined) return t.skip('no TLS or authentication on this store');
      for (const { what, store, error } of h.refused()) {
        try {
          await assert.rejects(store.get('t/le/account'), (e: Error) => {
            assert.ok(e instanceof StoreError, `${what}: ${e}`);
            assert.match(e.message, error, what);
            return true;
          });
        } finally {
          store.close();
        }
      }
    });

    // A directory cannot go away (a vanished mount is an EIO: the same StoreError path).
    if (canGoDown)
      it('fails with a StoreError, not a hang, when the store is down', async () => {
        await h.down?.();
        const c = h.open();
        try {
          await assert.rejects(c.get('t/le/account'), StoreError);
          await assert.rejects(c.compareAndSwap('t/locks/y', undefined, 'v'), StoreError);
        } finally {
          c.close();
        }
      });
  });
}

contract('etcd', async () => {
  const etcd = await startEtcd();
  return {
    open: () => new EtcdKv({ endpoints: [etcd.endpoint], prefix: 't', timeoutMs: 2_000 }),
    down: () => etcd.stop(),
    close: () => etcd.close(),
  };
});

contract('redis', async () => {
  const redis = await startRedis();
  return {
    open: () => new RedisKv({ endpoints: [redis.endpoint], prefix: 't', db: 0, timeoutMs: 2_000 }),
    down: () => redis.stop(),
    close: () => redis.close(),
  };
});

contract('consul', async () => {
  const consul = await startFakeConsul();
  return {
    open: () => new ConsulKv({ endpoints: [consul.endpoint], prefix: 't', timeoutMs: 2_000 }),
    down: () => consul.stop(),
    close: () => consul.close(),
  };
});

/** A CA, a server certificate for 127.0.0.1, a client certificate (no CN: etcd's gateway wants none). */
// TLS stores get 10 s per operation: etcd checks a password with bcrypt, six clients racing on a
// loaded machine can take seconds (the refusals asserted below come at once, not by timeout).
function testPki(): {
  pki: TestPki;
  other: TestPki;
  tls: { ca: TestPki['ca']; server: TestPki['ca']; client: TestPki['ca'] };
  good: AcmeStoreTls;
  wrongCa: AcmeStoreTls;
  noClientCert: AcmeStoreTls;
  remove(): void;
} {
  const pki = new TestPki('Store CA');
  const other = new TestPki('Other CA');
  const server = pki.issue('store', ['127.0.0.1', 'localhost']);
  const client = pki.issue('traffic', [], { noCommonName: true });
  const good = { ca: pki.ca.certFile, cert: client.certFile, key: client.keyFile, insecureSkipVerify: false };
  return {
    pki,
    other,
    tls: { ca: pki.ca, server, client },
    good,
    wrongCa: { ...good, ca: other.ca.certFile },
    noClientCert: { ca: pki.ca.certFile, insecureSkipVerify: false },
    remove: () => {
      pki.remove();
      other.remove();
    },
  };
}

type Refusal = { readonly what: string; readonly store: SharedStore; readonly error: RegExp };
type TestStorePki = ReturnType<typeof testPki>;

/**
 * The harness of a store over TLS with a credential: clients from `kv` (TLS options, and the
 * credential, the right one when left out), `server` taken down and closed, the PKI removed. Every
 * such store refuses a wrong CA, a missing client certificate and a wrong credential (`wrong`:
 * what the test calls it, what the error must say); `first` are its refusals of its own.
 */
function tlsHarness(
  p: TestStorePki,
  server: { stop(): Promise<void>; close(): Promise<void> },
  kv: (tls: AcmeStoreTls, credential?: string) => SharedStore,
  wrong: { what: string; error: RegExp },
  first: () => Refusal[] = () => [],
): Harness {
  return {
    open: () => kv(p.good),
    down: () => server.stop(),
    refused: () => [
      ...first(),
      {
        what: 'wrong CA',
        store: kv(p.wrongCa),
        error: /unable to verify|self-signed certificate in certificate chain/,
      },
      {
        what: 'no client certificate',
        store: kv(p.noClientCert),
        error: /certificate required|bad certificate/i,
      },
      { what: wrong.what, store: kv(p.good, 'nope'), error: wrong.error },
    ],
    close: async () => {
      await server.close();
      p.remove();
    },
  };
}

contract('etcd over TLS with a client certificate and a user', async () => {
  const p = testPki();
  const etcd = await startEtcd({ tls: p.tls, user: { name: 'traffic', password: 'pw' } });
  const named = p.pki.issue('traffic', []);
  const kv = (tls: AcmeStoreTls, password = 'pw'): EtcdKv =>
    new EtcdKv({
      endpoints: [etcd.endpoint],
      prefix: 't',
      username: 'traffic',
      password,
      tls,
      timeoutMs: 10_000,
    });
  return tlsHarness(
    p,
    etcd,
    kv,
    { what: 'wrong password', error: /authentication as traffic failed.*invalid user ID or password/ },
    () => [
      {
        what: 'a client certificate with a Common Name',
        store: kv({ ...p.good, cert: named.certFile, key: named.keyFile }),
        error: /only client certificates without a Common Name/,
      },
    ],
  );
});

contract('redis over TLS with a client certificate and a password', async () => {
  const p = testPki();
  const redis = await startRedis([], { tls: p.tls, password: 'pw' });
  const kv = (tls: AcmeStoreTls, password = 'pw'): RedisKv =>
    new RedisKv({ endpoints: [redis.endpoint], prefix: 't', db: 0, password, tls, timeoutMs: 10_000 });
  return tlsHarness(p, redis, kv, { what: 'wrong password', error: /AUTH: WRONGPASS/ });
});

contract('consul over HTTPS with a client certificate and an ACL token', async () => {
  const p = testPki();
  const consul = await startFakeConsul({ tls: p.tls, token: 's3cret' });
  const kv = (tls: AcmeStoreTls, token = 's3cret'): ConsulKv =>
    new ConsulKv({ endpoints: [consul.endpoint], prefix: 't', token, tls, timeoutMs: 10_000 });
  return tlsHarness(p, consul, kv, { what: 'wrong token', error: /status 403: ACL not found/ });
});

contract(
  'directory',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dir-kv-'));
    return {
      open: () => new DirKv(dir),
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  false,
);

describe('DirKv', () => {
  it('keeps values in files of mode 0600 and leaves no temporary or set-aside file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dir-kv-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const s = new DirKv(dir);
    await s.put('le/certificates/a.example.com', 'x');
    await s.compareAndSwap('le/locks/a.example.com', undefined, 'l1');
    await s.compareAndSwap('le/locks/a.example.com', 'nope', 'l2');
    await s.compareAndSwap('le/locks/a.example.com', 'l1', 'l2');
    assert.equal(statSync(join(dir, 'le', 'certificates', 'a.example.com')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'le')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(dir, 'le', 'locks')), ['a.example.com']);
    assert.deepEqual(readdirSync(join(dir, 'le', 'certificates')), ['a.example.com']);
  });

  it('refuses a key that would leave the directory', async () => {
    const s = new DirKv(tmpdir());
    await assert.rejects(s.get('le/../../etc/passwd'), StoreError);
  });
});
