/**
 * lego's `rfc2136` DNS provider (providers/dns/rfc2136/rfc2136.go): DNS UPDATE (RFC 2136) to the
 * server named by RFC2136_NAMESERVER, signed with TSIG when a key is given. `present` sends, in
 * one message, the deletion of the TXT RRset at the record name (a left-over challenge) and the
 * addition of the value; `cleanup` deletes that one value. The zone is the closest name with an
 * SOA on that same server (lego's FindZoneByFqdnCustom with the nameserver), after the CNAME at
 * the record name is followed through the usual resolvers (lego's GetChallengeInfo).
 */
import { isIP } from 'node:net';
import { rcodeName, sendUpdate, TSIG_ALGORITHMS, type TsigKey, type UpdateChange } from './dns-update.ts';
import type { ApiProviderContext, ApiProviderSetup } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import { serverAddress } from './dns01-lookup.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { DnsZoneLocator, type ZoneLocator } from './dns01-zone.ts';
import type { Scheduler } from './scheduler.ts';

export interface Rfc2136Options {
  /** `host:port` / `[ip6]:port`. */
  readonly nameserver: string;
  readonly key?: TsigKey;
  readonly ttl: number;
  readonly dnsTimeoutMs: number;
  /** Follows the CNAME at the record name (the resolver's usual servers). */
  readonly zones: ZoneLocator;
  readonly scheduler?: Scheduler;
}

export class Rfc2136DnsProvider implements Dns01Provider {
  readonly #o: Rfc2136Options;

  constructor(opts: Rfc2136Options) {
    this.#o = opts;
  }

  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.#change(
      'insert',
      fqdn,
      (name) => [
        // "Always remove old challenge left over from who knows what", as lego does.
        { op: 'delete-rrset', name },
        { op: 'add', name, ttl: this.#o.ttl, text: value },
      ],
      signal,
    );
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.#change('remove', fqdn, (name) => [{ op: 'delete', name, text: value }]);
  }

  async #change(
    what: string,
    fqdn: string,
    changes: (name: string) => UpdateChange[],
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      const name = await this.#o.zones.follow(fqdn, signal);
      const server = await resolved(this.#o.nameserver);
      const { zone } = await new DnsZoneLocator({ resolvers: [server], followCname: false }).locate(
        name,
        signal,
      );
      const answer = await sendUpdate({
        server,
        zone,
        changes: changes(name),
        ...(this.#o.key === undefined ? {} : { key: this.#o.key }),
        timeoutMs: this.#o.dnsTimeoutMs,
        ...(this.#o.scheduler === undefined ? {} : { scheduler: this.#o.scheduler }),
      });
      if (answer.tsigError !== undefined) {
        throw new Error(
          `DNS update failed: server replied: ${rcodeName(answer.rcode)} (TSIG error ${rcodeName(answer.tsigError)})`,
        );
      }
      if (answer.badSignature !== undefined) {
        throw new Error(`DNS update failed: the answer's TSIG signature is bad: ${answer.badSignature}`);
      }
      if (answer.rcode !== 0)
        throw new Error(`DNS update failed: server replied: ${rcodeName(answer.rcode)}`);
    } catch (e) {
      throw new Error(`rfc2136: failed to ${what}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** `host:port` with the host as an address (node:dns asks addresses only). */
async function resolved(nameserver: string): Promise<string> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(nameserver) ?? /^([^:]+):(\d+)$/.exec(nameserver);
  if (m === null || isIP(m[1]!) !== 0) return nameserver;
  const { address } = await process.getBuiltinModule('node:dns').promises.lookup(m[1]!);
  return serverAddress(address, Number(m[2]));
}

/**
 * lego's RFC2136_TSIG_FILE reader (internal/tsigkey.go): the `key "<name>" { algorithm …; secret
 * "…"; };` block that BIND's tsig-keygen writes.
 */
export function readTsigFile(text: string): { name: string; algorithm: string; secret: string } {
  const key = { name: '', algorithm: '', secret: '' };
  let inKey = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;$/, '').trim().replace(/;$/, '').trim();
    if (line === '') continue;
    if (inKey && line === '}') break;
    const fields = line.split(/\s+/);
    if (fields[0] === 'key') {
      inKey = true;
      if (fields.length !== 3) throw new Error(`invalid key line: ${line}`);
      key.name = unquote(fields[1]!);
    } else if (inKey && fields.length === 2) {
      const v = unquote(fields[1]!);
      const k = unquote(fields[0]!);
      if (k === 'algorithm') key.algorithm = v;
      else if (k === 'secret') key.secret = v;
    }
  }
  return key;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** The name with its final dot (Go's dns.Fqdn). */
function fqdnOf(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/**
 * lego's variables: RFC2136_NAMESERVER (required; port 53 when none), RFC2136_TSIG_KEY,
 * RFC2136_TSIG_SECRET, RFC2136_TSIG_ALGORITHM (hmac-sha1.), or RFC2136_TSIG_FILE instead of the
 * three; RFC2136_TTL (120), RFC2136_PROPAGATION_TIMEOUT (else RFC2136_TIMEOUT, else 60 s),
 * RFC2136_POLLING_INTERVAL (2 s), RFC2136_DNS_TIMEOUT (10 s). Without both a key name and a
 * secret the updates go unsigned, as in lego.
 */
export function rfc2136FromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  let nameserver = vars.require('RFC2136_NAMESERVER', 'rfc2136');
  let algorithm = vars.get('RFC2136_TSIG_ALGORITHM');
  let keyName = vars.get('RFC2136_TSIG_KEY');
  let secret = vars.get('RFC2136_TSIG_SECRET');
  const ttl = vars.integer('RFC2136_TTL', 120);
  const legacyTimeoutMs = vars.seconds('RFC2136_TIMEOUT', 60);
  const timeouts = {
    timeoutMs: vars.seconds('RFC2136_PROPAGATION_TIMEOUT', legacyTimeoutMs / 1000),
    intervalMs: vars.seconds('RFC2136_POLLING_INTERVAL', 2),
  };
  const dnsTimeoutMs = vars.seconds('RFC2136_DNS_TIMEOUT', 10);
  const tsigFile = vars.get('RFC2136_TSIG_FILE');
  if (tsigFile !== '') {
    try {
      const k = readTsigFile(vars.readFile(tsigFile));
      algorithm = k.algorithm;
      keyName = k.name;
      secret = k.secret;
    } catch (e) {
      const reason = (e as { code?: string }).code ?? (e as Error).message;
      vars.problems.push(`cannot read RFC2136_TSIG_FILE (${tsigFile}): ${reason}`);
    }
  }
  if (nameserver !== '') {
    // lego's net.SplitHostPort: "missing port" gets :53, anything else is an error.
    if (!/^\[[^\]]+\]:\d+$/.test(nameserver) && !/^[^:[\]]+:\d+$/.test(nameserver)) {
      if (/^[^:[\]]+$/.test(nameserver)) nameserver = `${nameserver}:53`;
      else if (/^\[[^\]]+\]$/.test(nameserver)) nameserver = `${nameserver}:53`;
      else vars.problems.push(`RFC2136_NAMESERVER=${JSON.stringify(nameserver)} is not host or host:port`);
    }
  }
  const signed = keyName !== '' && secret !== '';
  const alg = algorithm === '' ? 'hmac-sha1.' : fqdnOf(algorithm);
  if (TSIG_ALGORITHMS[alg] === undefined) {
    vars.problems.push(
      `unsupported TSIG algorithm ${JSON.stringify(alg)} (RFC2136_TSIG_ALGORITHM: ${Object.keys(TSIG_ALGORITHMS).join(', ')})`,
    );
  }
  if (signed && Buffer.from(secret, 'base64').length === 0) {
    vars.problems.push('the TSIG secret is not base64');
  }
  return {
    timeouts,
    provider: () =>
      new Rfc2136DnsProvider({
        nameserver,
        ...(signed ? { key: { name: fqdnOf(keyName).toLowerCase(), algorithm: alg, secret } } : {}),
        ttl,
        dnsTimeoutMs,
        zones: ctx.zones,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
