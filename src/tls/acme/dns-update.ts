/**
 * DNS UPDATE (RFC 2136) messages signed with TSIG (RFC 8945), sent over UDP with node:dgram: what
 * lego's `rfc2136` provider sends through miekg/dns. One message per change: the zone section
 * names the zone (class IN, type SOA), no prerequisites, the update section holds the changes,
 * the additional section the TSIG record. The answer's rcode decides; a signed answer is checked
 * (its MAC covers the request's MAC), as miekg's client does when the answer carries a TSIG.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { encodeName, readName } from '../../core/dns-name.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

const TYPE_TXT = 16;
const TYPE_SOA = 6;
const TYPE_TSIG = 250;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
/** RFC 8945 §5.2.3: seconds of clock difference accepted (miekg's and lego's 300). */
const FUDGE_S = 300;

/** The TSIG algorithms lego accepts (miekg's names) and their HMAC hashes. */
export const TSIG_ALGORITHMS: Readonly<Record<string, string>> = {
  'hmac-sha1.': 'sha1',
  'hmac-sha224.': 'sha224',
  'hmac-sha256.': 'sha256',
  'hmac-sha384.': 'sha384',
  'hmac-sha512.': 'sha512',
};

export interface TsigKey {
  /** Absolute, lower case (canonical, RFC 4034 §6.2). */
  readonly name: string;
  /** One of TSIG_ALGORITHMS' names. */
  readonly algorithm: string;
  /** The shared secret, base64 as in BIND's key files. */
  readonly secret: string;
}

/** One change of the update section, as miekg's Msg.Insert / RemoveRRset / Remove write it. */
export type UpdateChange =
  | { readonly op: 'add'; readonly name: string; readonly ttl: number; readonly text: string }
  | { readonly op: 'delete-rrset'; readonly name: string }
  | { readonly op: 'delete'; readonly name: string; readonly text: string };

const RCODES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
};

export function rcodeName(code: number): string {
  return RCODES[code] ?? String(code);
}

/** TXT rdata: the text in character-strings of at most 255 bytes. */
function txtData(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const c = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([c.length]), c);
  }
  return Buffer.concat(parts);
}

function rr(name: string, type: number, klass: number, ttl: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(name), fixed, data]);
}

function changeRecord(c: UpdateChange): Buffer {
  switch (c.op) {
    // RFC 2136 §2.5.1: add to an RRset, the zone's class.
    case 'add':
      return rr(c.name, TYPE_TXT, CLASS_IN, c.ttl, txtData(c.text));
    // §2.5.2: delete an RRset, class ANY, no data.
    case 'delete-rrset':
      return rr(c.name, TYPE_TXT, CLASS_ANY, 0, Buffer.alloc(0));
    // §2.5.4: delete one RR, class NONE, its data.
    case 'delete':
      return rr(c.name, TYPE_TXT, CLASS_NONE, 0, txtData(c.text));
  }
}

/** The unsigned UPDATE message for `zone` (ARCOUNT 0). */
export function updateMessage(id: number, zone: string, changes: readonly UpdateChange[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4); // ZOCOUNT
  header.writeUInt16BE(0, 6); // PRCOUNT
  header.writeUInt16BE(changes.length, 8); // UPCOUNT
  header.writeUInt16BE(0, 10); // ARCOUNT
  const zoneSection = Buffer.concat([encodeName(zone), u16(TYPE_SOA), u16(CLASS_IN)]);
  return Buffer.concat([header, zoneSection, ...changes.map(changeRecord)]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function time48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

/** RFC 8945 §4.3.3: the TSIG variables that follow the message in what the MAC covers. */
function tsigVariables(key: TsigKey, timeSigned: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    encodeName(key.name, true),
    u16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    encodeName(key.algorithm, true),
    time48(timeSigned),
    u16(FUDGE_S),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm] ?? 'sha1', Buffer.from(key.secret, 'base64'));
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `message` (ARCOUNT 0…n) with a TSIG record appended and ARCOUNT counted; returns its MAC too. */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  timeSigned: number,
): { signed: Buffer; mac: Buffer } {
  const mac = hmac(key, message, tsigVariables(key, timeSigned, 0, Buffer.alloc(0)));
  const data = Buffer.concat([
    encodeName(key.algorithm, true),
    time48(timeSigned),
    u16(FUDGE_S),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(0), // error
    u16(0), // other len
  ]);
  const signed = Buffer.concat([message, rr(key.name.toLowerCase(), TYPE_TSIG, CLASS_ANY, 0, data)]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

/** A name as TSIG compares it: with its final dot. */
function readFqdn(msg: Buffer, start: number): { name: string; end: number } {
  const r = readName(msg, start);
  return { name: `${r.name}.`, end: r.end };
}

export interface UpdateAnswer {
  readonly rcode: number;
  /** The TSIG record's error (BADSIG, BADKEY, BADTIME), when the answer has one. */
  readonly tsigError?: number;
  /** Why the answer's signature does not hold, when it is signed and does not. */
  readonly badSignature?: string;
}

/**
 * The answer's rcode and, when `key` signed the request and the answer carries a TSIG, whether
 * its MAC (over the request's MAC, the answer without its TSIG, the TSIG variables) holds.
 */
export function readAnswer(
  msg: Buffer,
  key: TsigKey | undefined,
  requestMac: Buffer | undefined,
  now: number,
): UpdateAnswer {
  if (msg.length < 12) throw new Error('answer shorter than a DNS header');
  const flags = msg.readUInt16BE(2);
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  let rcode = flags & 0x0f;
  let off = 12;
  for (let i = 0; i < counts[0]!; i++) off = readName(msg, off).end + 4;
  const records = counts[1]! + counts[2]! + counts[3]!;
  let tsig: { start: number; name: string; dataStart: number; dataEnd: number } | undefined;
  for (let i = 0; i < records; i++) {
    const start = off;
    const owner = readFqdn(msg, off);
    off = owner.end;
    if (off + 10 > msg.length) throw new Error('truncated record');
    const type = msg.readUInt16BE(off);
    const rdlength = msg.readUInt16BE(off + 8);
    const dataStart = off + 10;
    off = dataStart + rdlength;
    if (off > msg.length) throw new Error('truncated record');
    if (type === TYPE_TSIG && i === records - 1 && counts[3]! > 0)
      tsig = { start, name: owner.name, dataStart, dataEnd: off };
    // An OPT record carries the upper bits of an extended rcode.
    if (type === 41) rcode |= msg[owner.end + 4]! << 4;
  }
  if (tsig === undefined || key === undefined || requestMac === undefined) return { rcode };
  const alg = readFqdn(msg, tsig.dataStart);
  let p = alg.end;
  const timeSigned = msg.readUIntBE(p, 6);
  const fudge = msg.readUInt16BE(p + 6);
  const macLen = msg.readUInt16BE(p + 8);
  const mac = msg.subarray(p + 10, p + 10 + macLen);
  p += 10 + macLen;
  const error = msg.readUInt16BE(p + 2);
  const otherLen = msg.readUInt16BE(p + 4);
  const other = msg.subarray(p + 6, p + 6 + otherLen);
  if (error !== 0) return { rcode, tsigError: error };
  if (tsig.name.toLowerCase() !== key.name || alg.name.toLowerCase() !== key.algorithm) {
    return { rcode, badSignature: `signed with another key (${tsig.name} ${alg.name})` };
  }
  const unsigned = Buffer.from(msg.subarray(0, tsig.start));
  unsigned.writeUInt16BE(counts[3]! - 1, 10);
  const variables = Buffer.concat([
    encodeName(key.name, true),
    u16(CLASS_ANY),
    Buffer.alloc(4),
    encodeName(key.algorithm, true),
    time48(timeSigned),
    u16(fudge),
    u16(error),
    u16(otherLen),
    other,
  ]);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    return { rcode, badSignature: 'the MAC does not match (another secret?)' };
  }
  if (Math.abs(now - timeSigned) > fudge) {
    return { rcode, badSignature: `signed at ${timeSigned}, more than ${fudge} s from our clock` };
  }
  return { rcode };
}

export interface SendUpdateOptions {
  /** `ip:port`, `[ip6]:port` or `host:port`. */
  readonly server: string;
  readonly zone: string;
  readonly changes: readonly UpdateChange[];
  readonly key?: TsigKey;
  readonly timeoutMs: number;
  readonly scheduler?: Scheduler;
  /** Seconds since the epoch (tests). */
  readonly now?: () => number;
}

/** `host:port` → its parts (lego's net.SplitHostPort). */
export function splitHostPort(server: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server);
  if (m === null) throw new Error(`${server} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Sends the update and waits for the answer with its ID; resolves with the answer read. */
export async function sendUpdate(opts: SendUpdateOptions): Promise<UpdateAnswer> {
  const { host, port } = splitHostPort(opts.server);
  const address =
    isIP(host) !== 0 ? host : (await process.getBuiltinModule('node:dns').promises.lookup(host)).address;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const id = randomInt(0, 0x10000);
  const unsigned = updateMessage(id, opts.zone, opts.changes);
  const { signed, mac } =
    opts.key === undefined ? { signed: unsigned, mac: undefined } : signMessage(unsigned, opts.key, now());
  const scheduler = opts.scheduler ?? systemScheduler;
  const dgram = process.getBuiltinModule('node:dgram');
  const socket: Socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  return new Promise<UpdateAnswer>((resolve, reject) => {
    let finished = false;
    const done = (err: Error | undefined, answer?: UpdateAnswer): void => {
      if (finished) return;
      finished = true;
      scheduler.clearTimeout(timer);
      socket.close();
      if (err === undefined) resolve(answer!);
      else reject(err);
    };
    const timer = scheduler.setTimeout(
      () => done(new Error(`no answer from ${opts.server} within ${opts.timeoutMs / 1000} s`)),
      opts.timeoutMs,
    );
    socket.on('error', (e) => done(e));
    socket.on('message', (msg) => {
      // Not ours (another ID, or not an answer): keep waiting, as miekg's client does.
      if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2]! & 0x80) === 0) return;
      try {
        done(undefined, readAnswer(msg, opts.key, mac, now()));
      } catch (e) {
        done(new Error(`unreadable answer from ${opts.server}: ${(e as Error).message}`));
      }
    });
    socket.connect(port, address, () => {
      socket.send(signed, (e) => {
        if (e) done(e);
      });
    });
  });
}
