/**
 * Clustered ACME in one process against a real CA (Debian's pebble): three certificate managers
 * with their own challenge stores (three instances, as far as ACME goes) share one store, for each
 * kind of store but etcd (which the scale-out e2e runs with three real processes): Redis, the
 * fake Consul API, and a directory. Pebble's validator connects to one HTTP server that answers
 * from the challenge store of an instance that does NOT hold the name's lock, so a certificate
 * is issued only when the challenge reached every instance through the shared store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeConsul } from '../../../test/helpers/fake-consul.ts';
import { freePort, type Pebble, startPebble } from '../../../test/helpers/pebble.ts';
import { startRedis } from '../../../test/helpers/redis.ts';
import { ConsulKv } from '../../cluster/consul-kv.ts';
import { DirKv } from '../../cluster/dir-kv.ts';
import { RedisKv } from '../../cluster/redis-kv.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { CertificateManager } from './acme-manager.ts';
import { HTTP01_PATH_PREFIX, Http01Store } from './http01-store.ts';
import type { SharedStore } from './shared-store.ts';
import { TlsAlpn01Store } from './tls-alpn01-store.ts';

interface LogRecord {
  readonly msg: string;
  readonly [k: string]: unknown;
}

function capturingLogger(lines: LogRecord[], instance: number): Logger {
  return createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => lines.push({ ...(JSON.parse(l) as LogRecord), instance }),
  });
}

interface StoreHarness {
  open(): SharedStore;
  close(): Promise<void>;
}

const STORES: Record<string, () => Promise<StoreHarness>> = {
  redis: async () => {
    const r = await startRedis();
    return {
      open: () => new RedisKv({ endpoints: [r.endpoint], prefix: 'traffic/acme', db: 0 }),
      close: () => r.close(),
    };
  },
  consul: async () => {
    const c = await startFakeConsul();
    return {
      open: () => new ConsulKv({ endpoints: [c.endpoint], prefix: 'traffic/acme' }),
      close: () => c.close(),
    };
  },
  directory: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-acme-'));
    return { open: () => new DirKv(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

describe('clustered ACME against pebble (three managers, one shared store)', () => {
  let ca: Pebble;
  let front: Server;
  /** Where the validator's next request goes: an instance's http-01 store. */
  let answerFrom: (token: string) => Promise<string | undefined> = async () => undefined;

  before(async () => {
    const httpPort = await freePort();
    front = createServer((req, res) => {
      const path = req.url ?? '';
      const token = path.startsWith(HTTP01_PATH_PREFIX) ? path.slice(HTTP01_PATH_PREFIX.length) : '';
      answerFrom(token).then(
        (body) => (body === undefined ? res.writeHead(404).end() : res.writeHead(200).end(body)),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((r) => front.listen(httpPort, '127.0.0.1', r));
    ca = await startPebble({ httpPort: (front.address() as AddressInfo).port });
  });

  after(async () => {
    await new Promise<void>((r) => front?.close(() => r()));
    await ca?.close();
  });

  for (const [kind, start] of Object.entries(STORES)) {
    it(`orders one certificate for three instances sharing ${kind}, the challenge answered by one that did not order`, async (t) => {
      const harness = await start();
      const lines: LogRecord[] = [];
      const instances = [0, 1, 2].map((i) => {
        const stores = { http01: new Http01Store(), tlsAlpn01: new TlsAlpn01Store() };
        const store = harness.open();
        const manager = new CertificateManager(
          {
            caServer: ca.directoryUrl,
            caCertificates: ca.serverCaPem,
            email: 'ops@cluster.test',
            storageFile: '/nonexistent/ignored.json',
            shared: { store, instanceId: `test-${i}-${kind}`, pollIntervalMs: 100 },
            resolverName: 'le',
            challenge: 'http-01',
            pollIntervalMs: 50,
            logger: capturingLogger(lines, i),
          },
          stores,
        );
        return { stores, store, manager };
      });
      const reader = harness.open();
      t.after(async () => {
        for (const x of instances) x.manager.stop();
        reader.close();
        await harness.close();
      });
      const name = `${kind}.cluster.test`;
      const served: string[] = [];
      answerFrom = async (token) => {
        const lock = await reader.get(`${reader.prefix === '' ? '' : `${reader.prefix}/`}le/locks/${name}`);
        const owner = Number(/test-(\d)-/.exec(lock ?? '')?.[1] ?? -1);
        const i = (owner + 1) % 3;
        served.push(`holder ${owner} → instance ${i}`);
        return instances[i]!.stores.http01.lookup(token);
      };
      const ordersBefore = (ca.output().match(/POST \/order-plz/g) ?? []).length;
      for (const x of instances) x.manager.start();
      for (const x of instances) x.manager.ensure([name]);
      const deadline = Date.now() + 30_000;
      while (instances.some((x) => x.manager.certificateFor(name) === undefined)) {
        if (Date.now() > deadline)
          assert.fail(
            `not every instance got a certificate:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      const certs = instances.map((x) => x.manager.certificateFor(name)!.certPem);
      assert.equal(new Set(certs).size, 1, 'the same certificate on every instance');
      assert.equal((ca.output().match(/POST \/order-plz/g) ?? []).length - ordersBefore, 1, 'one order');
      const obtained = lines.filter((l) => l.msg === 'acme certificate obtained').map((l) => l.instance);
      assert.equal(obtained.length, 1, `obtained by ${obtained}`);
      const fromStore = lines
        .filter((l) => l.msg === 'acme certificate from shared storage')
        .map((l) => l.instance);
      assert.deepEqual(
        [...new Set(fromStore)].sort(),
        [0, 1, 2].filter((i) => i !== obtained[0]),
      );
      assert.equal(lines.filter((l) => l.msg === 'acme account registered').length, 1, 'one account for all');
      assert.ok(served.length > 0);
      for (const s of served)
        assert.match(s, new RegExp(`^holder ${obtained[0]} → instance (?!${obtained[0]}$)\\d$`));
      // The store: the certificate with who obtained it; no lock, challenge or failure left. An
      // instance that found the lock free may hold it a moment longer, to read the certificate.
      const base = `${reader.prefix === '' ? '' : `${reader.prefix}/`}le/`;
      // Polled on the listing itself: an instance may take the free lock again between a read
      // of the lock alone and the listing (seen on a loaded machine, with consul).
      let rel: string[] = [];
      for (let n = 0; ; n++) {
        const all = await reader.list(base);
        rel = [...all.keys()].map((k) => k.replace(/^.*?le\//, '')).sort();
        if (!rel.some((k) => k.startsWith('locks/'))) break;
        if (n > 100) assert.fail(`the lock was never released: ${rel.join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(
        rel.filter((k) => !k.startsWith('instances/')),
        ['account', `certificates/${name}`],
      );
      assert.equal(rel.filter((k) => k.startsWith('instances/')).length, 3);
    });
  }

  it('takes over a lock whose holder stopped renewing it, and waits while a live holder has it', async (t) => {
    const harness = await STORES['directory']!();
    const lines: LogRecord[] = [];
    const store = harness.open();
    const stores = { http01: new Http01Store(), tlsAlpn01: new TlsAlpn01Store() };
    const name = 'stale.cluster.test';
    // A live foreign holder first, then one that crashed (its expiry in the past).
    await store.put(`le/locks/${name}`, JSON.stringify({ owner: 'other', expiresAt: Date.now() + 60_000 }));
    const manager = new CertificateManager(
      {
        caServer: ca.directoryUrl,
        caCertificates: ca.serverCaPem,
        email: 'ops@cluster.test',
        storageFile: '/nonexistent/ignored.json',
        shared: { store, instanceId: 'test-0-stale', pollIntervalMs: 100 },
        resolverName: 'le',
        challenge: 'http-01',
        pollIntervalMs: 50,
        logger: capturingLogger(lines, 0),
      },
      stores,
    );
    t.after(async () => {
      manager.stop();
      await harness.close();
    });
    answerFrom = async (token) => stores.http01.lookup(token);
    manager.start();
    manager.ensure([name]);
    const waitFor = async (msg: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.msg === msg)) {
        if (Date.now() > deadline)
          assert.fail(`no "${msg}":\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor('acme order held by another instance; waiting for its certificate');
    assert.equal(manager.certificateFor(name), undefined);
    await store.put(`le/locks/${name}`, JSON.stringify({ owner: 'other', expiresAt: Date.now() - 1 }));
    await waitFor('acme certificate obtained');
    assert.ok(lines.some((l) => l.msg === 'acme lock expired; taking it over' && l.owner === 'other'));
    assert.notEqual(manager.certificateFor(name), undefined);
    assert.equal(await store.get(`le/locks/${name}`), undefined, 'released after the order');
  });
});
