/**
 * The pdns provider against a real PowerDNS Authoritative (test/helpers/pdns.ts) on loopback,
 * through a recording relay (test-fake-dns-api.ts's frame, forwarding every call) so that the
 * requests themselves are checked as lego sends them: the API version asked once, the zone read,
 * the RRset PATCHed with lego's body, NOTIFY for a Master zone. What the server then serves is
 * read with dig.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type PowerDns, startPowerDns } from '../../../test/helpers/pdns.ts';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, type FakeCall, startFakeApi } from './test-fake-dns-api.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'pdns', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.pdns.test.';
const VALUE_A = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const VALUE_B = 'AXZfe0TN8qyy8dOF_Yj7S5pfV7D8x5Dyu8lpt1XdGWk';

/** Forwards a recorded call to PowerDNS as it came. */
function forward(target: string, call: FakeCall): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const h of ['x-api-key', 'content-type', 'accept']) {
      const v = call.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const query = call.query.size > 0 ? `?${call.query}` : '';
    const req = request(
      `${target}${call.path}${query}`,
      { method: call.method, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(call.body === '' ? undefined : call.body);
  });
}

describe('the pdns DNS provider against PowerDNS', () => {
  let pdns: PowerDns;
  let relay: FakeApi;
  const build = (env: Record<string, string>, zone = 'pdns.test.') =>
    dnsProviderFor(CHALLENGE, env, { zones: zoneLocator(zone) });
  const env = (): Record<string, string> => ({ PDNS_API_URL: relay.url, PDNS_API_KEY: pdns.apiKey });
  const calls = () => relay.calls.map((c) => `${c.method} ${c.path}`);

  before(async () => {
    pdns = await startPowerDns(['pdns.test']);
    relay = await startFakeApi(async (call) => {
      const r = await forward(pdns.apiUrl, call);
      return { status: r.status, body: r.body };
    });
  });
  after(async () => {
    await relay?.close();
    await pdns?.close();
  });

  it('asks the API version, reads the zone, PATCHes the TXT set as lego does, and deletes it', async () => {
    relay.calls.length = 0;
    const p = build(env());
    await p.present(RECORD, VALUE_A);
    assert.deepEqual(await pdns.txt(RECORD), [VALUE_A]);
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(await pdns.txt(RECORD), []);
    const zone = '/api/v1/servers/localhost/zones/pdns.test.';
    assert.deepEqual(calls(), ['GET /api', `GET ${zone}`, `PATCH ${zone}`, `GET ${zone}`, `PATCH ${zone}`]);
    for (const c of relay.calls) {
      assert.equal(c.headers['x-api-key'], pdns.apiKey);
      assert.equal(c.headers['content-type'], c.method === 'GET' ? undefined : 'application/json');
    }
    assert.deepEqual(JSON.parse(relay.calls[2]!.body), {
      rrsets: [
        {
          name: RECORD,
          type: 'TXT',
          kind: 'Master',
          changetype: 'REPLACE',
          records: [{ content: `"${VALUE_A}"`, disabled: false, name: RECORD, type: 'TXT', ttl: 120 }],
          ttl: 120,
        },
      ],
    });
    assert.deepEqual(JSON.parse(relay.calls[4]!.body), {
      rrsets: [{ name: RECORD, type: 'TXT', kind: '', changetype: 'DELETE', ttl: 120 }],
    });
  });

  it('holds two values at one name and withdraws them one by one (REPLACE, then DELETE)', async () => {
    const p = build({ ...env(), PDNS_API_VERSION: '1', PDNS_TTL: '60' });
    relay.calls.length = 0;
    await p.present(RECORD, VALUE_A);
    await p.present(RECORD, VALUE_B);
    assert.deepEqual((await pdns.txt(RECORD)).sort(), [VALUE_A, VALUE_B].sort());
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(await pdns.txt(RECORD), [VALUE_B]);
    await p.cleanup(RECORD, VALUE_B);
    assert.deepEqual(await pdns.txt(RECORD), []);
    // PDNS_API_VERSION given: the version is not asked.
    assert.ok(!calls().includes('GET /api'));
    const patches = relay.calls.filter((c) => c.method === 'PATCH').map((c) => JSON.parse(c.body).rrsets[0]);
    assert.deepEqual(
      patches.map(
        (s: { changetype: string; records?: unknown[] }) => `${s.changetype} ${s.records?.length ?? 0}`,
      ),
      ['REPLACE 1', 'REPLACE 2', 'REPLACE 1', 'DELETE 0'],
    );
  });

  it('sends NOTIFY after each change of a Master zone', async () => {
    const created = await pdns.api('POST', '/api/v1/servers/localhost/zones', {
      name: 'primary.test.',
      kind: 'Master',
      nameservers: ['ns1.primary.test.'],
    });
    assert.equal(created.status, 201);
    relay.calls.length = 0;
    const record = '_acme-challenge.primary.test.';
    const p = build(env(), 'primary.test.');
    await p.present(record, VALUE_A);
    assert.deepEqual(await pdns.txt(record), [VALUE_A]);
    await p.cleanup(record, VALUE_A);
    const zone = '/api/v1/servers/localhost/zones/primary.test.';
    assert.deepEqual(calls(), [
      'GET /api',
      `GET ${zone}`,
      `PATCH ${zone}`,
      `PUT ${zone}/notify`,
      `GET ${zone}`,
      `PATCH ${zone}`,
      `PUT ${zone}/notify`,
    ]);
  });

  it("fails with PowerDNS's answer when the key is wrong, never quoting the key", async () => {
    const p = build({ ...env(), PDNS_API_KEY: 'wrong-key', PDNS_API_VERSION: '1' });
    await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
      assert.match(e.message, /^pdns: GET .*\/api\/v1\/servers\/localhost\/zones\/pdns\.test\. answered 401/);
      assert.ok(!e.message.includes('wrong-key'));
      return true;
    });
  });

  it("fails with PowerDNS's error for a zone it does not have", async () => {
    const p = build(env(), 'other.test.');
    await assert.rejects(p.present('_acme-challenge.other.test.', VALUE_A), (e: Error) =>
      /^pdns: GET .*\/zones\/other\.test\. answered 404: Not Found$/.test(e.message),
    );
  });

  it('refuses to start without PDNS_API_KEY and PDNS_API_URL, naming them', () => {
    assert.throws(
      () => build({}),
      (e: Error) =>
        e instanceof Dns01ConfigError && /PDNS_API_KEY/.test(e.message) && /PDNS_API_URL/.test(e.message),
    );
  });
});
