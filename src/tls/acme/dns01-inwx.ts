/**
 * lego's `inwx` DNS provider (providers/dns/inwx with nrdcg/goinwx), against INWX's DomRobot
 * XML-RPC API (https://www.inwx.com/en/help/apidoc): every call a `POST` of a `<methodCall>`
 * with one struct (its members sorted, `lang` `en` added as goinwx adds it), answered with a
 * struct whose `code` 1000–1500 is success (else `(code) msg. Reason: (reasonCode) reason`).
 * Each change is a session: `account.login` (`user`, `pass`; the session cookie it sets is sent
 * back, as kolo/xmlrpc's cookie jar does), `account.unlock` with the TOTP code of
 * INWX_SHARED_SECRET when the login answers `tfa` `GOOGLE-AUTH` (a code is never used twice: the
 * next 30-second period is awaited), then `nameserver.createRecord` (`domain` the SOA's zone,
 * `name` the record's full name, `type` TXT, `content`, `ttl`; "Object exists" is no error), or
 * at cleanup `nameserver.info` and `nameserver.deleteRecord` (`id`) of the records holding the
 * value; then `account.logout` (its failure only logged by lego).
 */
import { createHmac } from 'node:crypto';
import { type ApiClient, delay, excerpt } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';
import { parseXmlRpcResponse, type XmlRpcValue, xmlRpcCall } from './xml-rpc.ts';

export const INWX_API = 'https://api.domrobot.com/xmlrpc/';
export const INWX_SANDBOX_API = 'https://api.ote.domrobot.com/xmlrpc/';

export interface InwxOptions {
  readonly api: ApiClient;
  readonly url: URL;
  readonly username: string;
  readonly password: string;
  readonly sharedSecret: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  readonly scheduler?: Scheduler;
  /** The clock for the TOTP codes (tests). */
  readonly now?: () => number;
}

/** pquerna/otp's totp.GenerateCode: RFC 6238, HMAC-SHA1, 6 digits, 30-second periods. */
export function totpCode(secret: string, atMs: number): string {
  let s = secret.trim().toUpperCase();
  if (s.length % 8 !== 0) s += '='.repeat(8 - (s.length % 8));
  const key = base32(s);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

function base32(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of s.replace(/=+$/, '')) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error('inwx: INWX_SHARED_SECRET is not base32');
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

type Struct = Record<string, XmlRpcValue>;

export class InwxDnsProvider implements Dns01Provider {
  readonly #o: InwxOptions;
  readonly #scheduler: Scheduler;
  /** Start of the TOTP period whose code was used last (lego's previousUnlock). */
  #previousUnlock = 0;

  constructor(opts: InwxOptions) {
    this.#o = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    await this.#session(signal, async (call) => {
      try {
        await call('nameserver.createRecord', {
          content: value,
          domain: unFqdn(where.zone),
          name: unFqdn(where.fqdn),
          ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
          type: 'TXT',
        });
      } catch (e) {
        // lego: the record being there already is success.
        if (!(e instanceof InwxError && e.msg === 'Object exists')) throw e;
      }
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const where = await this.#o.zones.locate(fqdn);
    await this.#session(undefined, async (call) => {
      const info = await call('nameserver.info', {
        domain: unFqdn(where.zone),
        name: unFqdn(where.fqdn),
        type: 'TXT',
      });
      const records = Array.isArray(info['record']) ? info['record'] : [];
      // lego deletes every TXT record at the name; we delete ours only (a wildcard's and its
      // base name's share the name).
      for (const r of records) {
        if (typeof r !== 'object' || r === null || Array.isArray(r) || r['content'] !== value) continue;
        await call('nameserver.deleteRecord', { id: Number(r['id']) });
      }
    });
  }

  async #session(
    signal: AbortSignal | undefined,
    work: (call: (method: string, params: Struct) => Promise<Struct>) => Promise<void>,
  ): Promise<void> {
    let cookie = '';
    const call = async (method: string, params: Struct | undefined): Promise<Struct> => {
      // goinwx's NewRequest adds lang to the arguments (none for logout).
      const args = params === undefined ? undefined : sorted({ ...params, lang: 'en' });
      const req = {
        method: 'POST' as const,
        url: this.#o.url,
        headers: { 'content-type': 'text/xml', ...(cookie === '' ? {} : { cookie }) },
        body: xmlRpcCall(method, args),
      };
      const res = await this.#o.api.send(req);
      const setCookie = res.headers['set-cookie'];
      if (setCookie !== undefined) {
        cookie = setCookie.map((c) => c.split(';')[0] ?? '').join('; ');
      }
      if (res.status !== 200) throw this.#o.api.statusError(req, res);
      let answer: XmlRpcValue;
      try {
        answer = parseXmlRpcResponse(res.text);
      } catch (e) {
        throw this.#o.api.statusError(req, res, `${(e as Error).message}: ${excerpt(res.text)}`);
      }
      const a = typeof answer === 'object' && answer !== null && !Array.isArray(answer) ? answer : {};
      const code = Number(a['code'] ?? 0);
      if (code < 1000 || code > 1500) {
        throw new InwxError(code, String(a['msg'] ?? ''), `inwx: ${method}: ${describe(code, a)}`);
      }
      const data = a['resData'];
      return typeof data === 'object' && data !== null && !Array.isArray(data) ? data : {};
    };
    const login = await call('account.login', { pass: this.#o.password, user: this.#o.username });
    try {
      if (login['tfa'] === 'GOOGLE-AUTH') await this.#unlock(call, signal);
      await work(call);
    } finally {
      try {
        await call('account.logout', undefined);
      } catch {
        // lego only logs a failed logout.
      }
    }
  }

  /** lego's twoFactorAuth: a TOTP code, never one of a period whose code was used already. */
  async #unlock(
    call: (method: string, params: Struct) => Promise<Struct>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#o.sharedSecret === '')
      throw new Error('inwx: two-factor authentication but no shared secret is given');
    const now = this.#o.now ?? Date.now;
    const endPeriod = this.#previousUnlock + 30_000;
    if (this.#previousUnlock !== 0 && endPeriod > now())
      await delay(this.#scheduler, endPeriod - now(), signal);
    const at = now();
    const tan = totpCode(this.#o.sharedSecret, at);
    this.#previousUnlock = at - (at % 30_000);
    await call('account.unlock', { tan });
  }
}

class InwxError extends Error {
  readonly code: number;
  readonly msg: string;
  constructor(code: number, msg: string, message: string) {
    super(message);
    this.code = code;
    this.msg = msg;
  }
}

/** goinwx's ErrorResponse.Error. */
function describe(code: number, a: Struct): string {
  const reason = String(a['reason'] ?? '');
  const base = `(${code}) ${String(a['msg'] ?? '')}`;
  return reason === '' ? base : `${base}. Reason: (${String(a['reasonCode'] ?? '')}) ${reason}`;
}

function sorted(o: Struct): Struct {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * lego's INWX_USERNAME, INWX_PASSWORD, INWX_SHARED_SECRET (for two-factor accounts), INWX_SANDBOX
 * (INWX's OT&E API), INWX_TTL (300), the timeouts (360 s, 2 s); ours: INWX_API_URL (default
 * the API's or the sandbox's) and INWX_HTTP_TIMEOUT (30 s).
 */
export function inwxFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const username = vars.require('INWX_USERNAME', 'inwx');
  const password = vars.require('INWX_PASSWORD', 'inwx');
  const sharedSecret = vars.get('INWX_SHARED_SECRET');
  if (sharedSecret !== '') {
    try {
      totpCode(sharedSecret, 0);
    } catch {
      vars.problems.push(
        "INWX_SHARED_SECRET must be the base32 secret of the account's two-factor authentication",
      );
    }
  }
  const sandbox = vars.bool('INWX_SANDBOX', false);
  const ttl = vars.integer('INWX_TTL', 300);
  const s = apiSettings(vars, ctx, {
    provider: 'inwx',
    prefix: 'INWX',
    apiUrlVar: 'INWX_API_URL',
    defaultApi: sandbox ? INWX_SANDBOX_API : INWX_API,
    httpTimeoutS: 30,
    propagationS: 360,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new InwxDnsProvider({
        api: s.api,
        url: s.baseUrl,
        username,
        password,
        sharedSecret,
        ttl,
        zones: ctx.zones,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
