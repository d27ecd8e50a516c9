/**
 * The rfc2136 provider against a real BIND 9 (test/helpers/named.ts) on loopback: TSIG-signed
 * DNS UPDATE as lego sends it, read back with dig. The zone is found from the SOA on that server
 * (nothing else knows the zone), the answer's signature is checked (a wrong check fails every
 * update), and BIND's refusals come back as lego words them.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Named, startNamed } from '../../../test/helpers/named.ts';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { readTsigFile } from './dns01-rfc2136.ts';
import { zoneLocator } from './test-dns01-helpers.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'rfc2136', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.rfc2136.test.';
const VALUE = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';

describe('the rfc2136 DNS provider against BIND 9', () => {
  let named: Named;
  // `follow` only: the zone must come from the nameserver's SOA, not from this locator.
  const build = (env: Record<string, string>) =>
    dnsProviderFor(CHALLENGE, env, { zones: zoneLocator('wrong.invalid.') });
  const keyEnv = (): Record<string, string> => ({
    RFC2136_NAMESERVER: named.address,
    RFC2136_TSIG_KEY: named.key.name,
    RFC2136_TSIG_SECRET: named.key.secret,
    RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
  });

  before(async () => {
    named = await startNamed([{ name: 'rfc2136.test', records: ['_acme-challenge.old IN TXT "left over"'] }]);
  });
  after(() => named?.close());

  it('adds the TXT value with a signed update, then deletes it', async () => {
    const p = build(keyEnv());
    await p.present(RECORD, VALUE);
    assert.deepEqual(await named.txt(RECORD), [VALUE]);
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(await named.txt(RECORD), []);
  });

  it('replaces a left-over value at the name, as lego does (RRset deleted, value added)', async () => {
    const name = '_acme-challenge.old.rfc2136.test.';
    assert.deepEqual(await named.txt(name), ['left over']);
    const p = build(keyEnv());
    await p.present(name, VALUE);
    assert.deepEqual(await named.txt(name), [VALUE]);
    await p.cleanup(name, VALUE);
    assert.deepEqual(await named.txt(name), []);
  });

  it("reads the key from tsig-keygen's file (RFC2136_TSIG_FILE)", async () => {
    const key = readTsigFile(readFileSync(named.keyFile, 'utf8'));
    assert.deepEqual(key, { name: named.key.name, algorithm: 'hmac-sha256', secret: named.key.secret });
    const p = build({
      RFC2136_NAMESERVER: named.address,
      RFC2136_TSIG_FILE: named.keyFile,
      RFC2136_TTL: '30',
    });
    await p.present(RECORD, VALUE);
    assert.deepEqual(await named.txt(RECORD), [VALUE]);
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(await named.txt(RECORD), []);
  });

  it("fails with BIND's TSIG error when the secret is wrong, and publishes nothing", async () => {
    const p = build({ ...keyEnv(), RFC2136_TSIG_SECRET: Buffer.alloc(32, 7).toString('base64') });
    await assert.rejects(p.present(RECORD, VALUE), (e: Error) => {
      assert.equal(
        e.message,
        'rfc2136: failed to insert: DNS update failed: server replied: NOTAUTH (TSIG error BADSIG)',
      );
      return true;
    });
    assert.deepEqual(await named.txt(RECORD), []);
  });

  it('sends unsigned updates without a key (BIND refuses them here)', async () => {
    const p = build({ RFC2136_NAMESERVER: named.address, RFC2136_TSIG_KEY: named.key.name });
    await assert.rejects(
      p.present(RECORD, VALUE),
      /^Error: rfc2136: failed to insert: DNS update failed: server replied: REFUSED$/,
    );
  });

  it("checks the answer's signature: BIND's answer with its MAC altered on the way is refused", async () => {
    // A relay between the provider and BIND that flips the last byte of the answer's MAC (the
    // TSIG record ends with the MAC, the original ID, the error and an empty other-data).
    const relay = createSocket('udp4');
    const upstream = createSocket('udp4');
    let client: { port: number; address: string } | undefined;
    relay.on('message', (msg, from) => {
      client = from;
      upstream.send(msg, named.port, '127.0.0.1');
    });
    upstream.on('message', (msg) => {
      const altered = Buffer.from(msg);
      if (((altered[2]! >> 3) & 0xf) === 5) altered[altered.length - 7] = altered[altered.length - 7]! ^ 1;
      if (client !== undefined) relay.send(altered, client.port, client.address);
    });
    await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));
    try {
      const server = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
      // The SOA questions pass unchanged; only the UPDATE's answer (opcode 5) is altered.
      const p = build({ ...keyEnv(), RFC2136_NAMESERVER: server });
      await assert.rejects(
        p.present(RECORD, VALUE),
        /the answer's TSIG signature is bad: the MAC does not match/,
      );
    } finally {
      relay.close();
      upstream.close();
    }
    // BIND did apply it: the check is on our side, as miekg's client does it.
    await build(keyEnv()).cleanup(RECORD, VALUE);
    assert.deepEqual(await named.txt(RECORD), []);
  });

  it('refuses to start without RFC2136_NAMESERVER or with an algorithm lego does not know', () => {
    assert.throws(
      () => build({}),
      (e: Error) => e instanceof Dns01ConfigError && /RFC2136_NAMESERVER/.test(e.message),
    );
    assert.throws(
      () => build({ ...keyEnv(), RFC2136_TSIG_ALGORITHM: 'hmac-md5.sig-alg.reg.int.' }),
      (e: Error) =>
        e instanceof Dns01ConfigError &&
        /unsupported TSIG algorithm "hmac-md5\.sig-alg\.reg\.int\."/.test(e.message),
    );
  });
});
