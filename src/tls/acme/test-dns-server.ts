/**
 * A small authoritative DNS server over UDP for tests (RFC 1035 wire format, no compression in
 * what it writes): it answers A, NS, SOA, TXT and CNAME from a record list that the test edits,
 * with NXDOMAIN or "no data" (and the zone's SOA in the authority section) otherwise, as a real
 * server does. Several of them on 127.0.0.x with the same port play a zone's nameservers that do
 * not all have the record yet. Every question is logged.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export type TestRecordType = 'A' | 'NS' | 'SOA' | 'TXT' | 'CNAME';

export interface TestRecord {
  /** Absolute or not, any case: compared without the final dot, lower-cased. */
  readonly name: string;
  readonly type: TestRecordType;
  /** A: the address; NS, CNAME: the name; SOA: the primary nameserver; TXT: the text. */
  readonly value: string;
}

const TYPE_CODE: Readonly<Record<TestRecordType, number>> = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16 };
const CODE_TYPE = new Map<number, TestRecordType>(
  Object.entries(TYPE_CODE).map(([t, c]) => [c, t as TestRecordType]),
);

export interface TestDnsQuestion {
  readonly name: string;
  readonly type: string;
}

export class TestDnsServer {
  records: TestRecord[];
  /** Answer every question with this rcode instead (2 SERVFAIL, 4 NOTIMP, 5 REFUSED). */
  rcode: number | undefined;
  readonly questions: TestDnsQuestion[] = [];
  readonly #socket: Socket;

  private constructor(socket: Socket, records: TestRecord[]) {
    this.#socket = socket;
    this.records = records;
    socket.on('message', (msg, rinfo) => {
      const reply = this.#answer(msg);
      if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
    });
  }

  /** Listens on `host:port` (port 0: any free one). */
  static async start(records: TestRecord[], host = '127.0.0.1', port = 0): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new TestDnsServer(socket, records);
  }

  get port(): number {
    return (this.#socket.address() as AddressInfo).port;
  }

  /** `127.0.0.1:5353`, as node:dns takes it. */
  get address(): string {
    const a = this.#socket.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  setTxt(name: string, value: string): void {
    this.records = [...this.records, { name, type: 'TXT', value }];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    let off = 12;
    const labels: string[] = [];
    for (;;) {
      const len = msg[off];
      if (len === undefined) return undefined;
      off++;
      if (len === 0) break;
      labels.push(msg.toString('latin1', off, off + len));
      off += len;
    }
    const qtype = msg.readUInt16BE(off);
    const question = msg.subarray(12, off + 4);
    const qname = labels.join('.').toLowerCase();
    const type = CODE_TYPE.get(qtype);
    this.questions.push({ name: qname, type: type ?? String(qtype) });

    const answers: Buffer[] = [];
    const authority: Buffer[] = [];
    let rcode = this.rcode ?? 0;
    if (this.rcode === undefined) {
      // Follows CNAMEs inside the data, as a server authoritative for both names does.
      let name = qname;
      for (let hop = 0; hop < 8; hop++) {
        const here = this.records.filter((r) => norm(r.name) === name);
        const cname = here.find((r) => r.type === 'CNAME');
        if (cname !== undefined && type !== 'CNAME') {
          answers.push(rr(name, cname));
          name = norm(cname.value);
          continue;
        }
        const found = here.filter((r) => r.type === type);
        for (const r of found) answers.push(rr(name, r));
        if (found.length === 0) {
          const soa = this.#zoneSoa(name);
          if (soa !== undefined) authority.push(rr(norm(soa.name), soa));
          if (here.length === 0 && answers.length === 0 && !this.records.some((r) => isBelow(r.name, name)))
            rcode = 3;
        }
        break;
      }
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR, AA, the question's RD, RA; the rcode.
    header.writeUInt16BE(0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    header.writeUInt16BE(authority.length, 8);
    header.writeUInt16BE(0, 10);
    return Buffer.concat([header, question, ...answers, ...authority]);
  }

  /** The SOA of the closest enclosing zone this server has. */
  #zoneSoa(name: string): TestRecord | undefined {
    let best: TestRecord | undefined;
    for (const r of this.records) {
      if (r.type !== 'SOA' || !(name === norm(r.name) || name.endsWith(`.${norm(r.name)}`))) continue;
      if (best === undefined || norm(r.name).length > norm(best.name).length) best = r;
    }
    return best;
  }
}

function norm(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** A record exists below `name`: then `name` is an empty non-terminal, "no data" rather than NXDOMAIN. */
function isBelow(recordName: string, name: string): boolean {
  return norm(recordName).endsWith(`.${name}`);
}

function encodeName(name: string): Buffer {
  const parts = norm(name)
    .split('.')
    .filter((l) => l !== '')
    .map((l) => {
      const b = Buffer.from(l, 'latin1');
      return Buffer.concat([Buffer.from([b.length]), b]);
    });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function rr(owner: string, r: TestRecord): Buffer {
  let data: Buffer;
  switch (r.type) {
    case 'A':
      data = Buffer.from(r.value.split('.').map(Number));
      break;
    case 'NS':
    case 'CNAME':
      data = encodeName(r.value);
      break;
    case 'SOA': {
      const numbers = Buffer.alloc(20);
      // serial, refresh, retry, expire, minimum (the negative-caching TTL).
      for (const [i, n] of [1, 7200, 3600, 1209600, 300].entries()) numbers.writeUInt32BE(n, i * 4);
      data = Buffer.concat([encodeName(r.value), encodeName(`hostmaster.${norm(r.name)}`), numbers]);
      break;
    }
    case 'TXT': {
      // A long value is split in character-strings of at most 255 bytes, as servers store it.
      const text = Buffer.from(r.value);
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length || i === 0; i += 255) {
        const c = text.subarray(i, i + 255);
        chunks.push(Buffer.from([c.length]), c);
      }
      data = Buffer.concat(chunks);
      break;
    }
  }
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_CODE[r.type], 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(300, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(owner), fixed, data]);
}
