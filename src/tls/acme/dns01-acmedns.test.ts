/**
 * The acme-dns provider against its double (test-fake-acmedns.ts), with lego's account file: a
 * domain without an account is registered, saved, and the challenge fails naming the CNAME to
 * create; a domain with one gets its value through `/update` with the account's credentials.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import type { ZoneLocator } from './dns01-zone.ts';
import { type FakeAcmeDns, startFakeAcmeDns } from './test-fake-acmedns.ts';
import { MemoryBackend } from './test-fake-dns-api.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'acme-dns', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const VALUE_A = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const VALUE_B = 'AXZfe0TN8qyy8dOF_Yj7S5pfV7D8x5Dyu8lpt1XdGWk';

describe('the acme-dns DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeAcmeDns;
  let dir: string;
  let storage: string;
  /** The CNAME the user created, once there is one. */
  let cname: string | undefined;
  const zones: ZoneLocator = {
    locate: async (fqdn) => ({ fqdn, zone: 'example.com.' }),
    follow: async (fqdn) => (fqdn === RECORD && cname !== undefined ? cname : fqdn),
  };
  const build = (env: Record<string, string>) => dnsProviderFor(CHALLENGE, env, { zones });

  before(async () => {
    api = await startFakeAcmeDns({ domain: 'auth.acmedns.test', backend });
    dir = mkdtempSync(join(tmpdir(), 'acmedns-'));
    storage = join(dir, 'acme-dns.json');
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers an account for a new domain, saves it, and fails naming the CNAME to create', async () => {
    const p = build({ ACME_DNS_API_BASE: api.url, ACME_DNS_STORAGE_PATH: storage });
    let target = '';
    await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
      const m =
        /^acme-dns: new account created for "www\.example\.com"\. To complete setup for "www\.example\.com" you must provision the following CNAME in your DNS zone and re-run this provider when it is in place:\n_acme-challenge\.www\.example\.com\. CNAME (\S+)\.$/.exec(
          e.message,
        );
      assert.ok(m, e.message);
      target = m[1]!;
      return true;
    });
    const saved = JSON.parse(readFileSync(storage, 'utf8')) as Record<string, Record<string, string>>;
    const account = saved['www.example.com'];
    assert.equal(account?.['fulldomain'], target);
    assert.deepEqual(Object.keys(account ?? {}).sort(), ['fulldomain', 'password', 'subdomain', 'username']);
    assert.equal(statSync(storage).mode & 0o777, 0o600);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path} ${c.body}`),
      ['POST /register '],
    );
    cname = `${target}.`;
  });

  it("updates the account's TXT with its credentials once the CNAME is there; cleanup sends nothing", async () => {
    api.calls.length = 0;
    const p = build({ ACME_DNS_API_BASE: api.url, ACME_DNS_STORAGE_PATH: storage });
    await p.present(RECORD, VALUE_A);
    await p.present(RECORD, VALUE_B);
    assert.deepEqual(backend.values(cname!), [VALUE_A, VALUE_B]);
    await p.cleanup(RECORD, VALUE_A);
    const account = JSON.parse(readFileSync(storage, 'utf8'))['www.example.com'];
    assert.equal(api.calls.length, 2);
    for (const [i, c] of api.calls.entries()) {
      assert.equal(`${c.method} ${c.path}`, 'POST /update');
      assert.equal(c.headers['x-api-user'], account.username);
      assert.equal(c.headers['x-api-key'], account.password);
      assert.equal(c.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(c.body), { SubDomain: account.subdomain, Txt: [VALUE_A, VALUE_B][i] });
    }
  });

  it("fails with acme-dns's answer when the account's credentials are refused", async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        'www.example.com': {
          fulldomain: 'x.auth.acmedns.test',
          subdomain: 'x',
          username: 'u',
          password: 'p',
        },
      }),
    );
    const p = build({ ACME_DNS_API_BASE: api.url, ACME_DNS_STORAGE_PATH: file });
    await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
      assert.equal(
        e.message,
        'acme-dns: failed to update txt record : status code 401 response: {"error":"forbidden"}',
      );
      return true;
    });
  });

  it('refuses to start without ACME_DNS_API_BASE and ACME_DNS_STORAGE_PATH', () => {
    assert.throws(
      () => build({}),
      (e: Error) =>
        e instanceof Dns01ConfigError &&
        /ACME_DNS_API_BASE/.test(e.message) &&
        /ACME_DNS_STORAGE_PATH/.test(e.message),
    );
  });
});
