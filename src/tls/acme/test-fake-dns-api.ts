/**
 * The frame of our test doubles of DNS hosts' APIs (Cloudflare, OVH, Route 53, DigitalOcean,
 * Hetzner, Gandi): a node:http server on loopback that records every call, and a DNS back end
 * that receives the records the double accepts. Each double checks its API's authentication and
 * request shapes as the real API documents them (test-fake-*.ts) and answers in its format; a
 * request it does not know is a 400 naming what was wrong, so that a provider that drifts from
 * the API fails its tests instead of passing against a lenient double.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a double publishes the records it accepts (a DNS server the test reads, or a list). */
export interface DnsBackend {
  add(fqdn: string, value: string): Promise<void>;
  remove(fqdn: string, value: string): Promise<void>;
}

/** Records kept in memory: what the double holds, for assertions. */
export class MemoryBackend implements DnsBackend {
  readonly records = new Map<string, string[]>();

  async add(fqdn: string, value: string): Promise<void> {
    const key = absolute(fqdn);
    this.records.set(key, [...(this.records.get(key) ?? []), value]);
  }

  async remove(fqdn: string, value: string): Promise<void> {
    const key = absolute(fqdn);
    const left = (this.records.get(key) ?? []).filter((v) => v !== value);
    if (left.length === 0) this.records.delete(key);
    else this.records.set(key, left);
  }

  values(fqdn: string): string[] {
    return this.records.get(absolute(fqdn)) ?? [];
  }
}

export interface FakeCall {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeAnswer {
  readonly status: number;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  readonly contentType?: string;
  /** More response headers (a session cookie). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeApi {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly calls: FakeCall[];
  /** Make the next `n` calls fail with this answer (a DNS host that is down). */
  failNext(n: number, answer: FakeAnswer): void;
  close(): Promise<void>;
}

/** Serves `handle` on loopback; a handler that throws answers 500 with the message. */
export async function startFakeApi(
  handle: (call: FakeCall) => Promise<FakeAnswer> | FakeAnswer,
): Promise<FakeApi> {
  const calls: FakeCall[] = [];
  let failures: { n: number; answer: FakeAnswer } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const call: FakeCall = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      calls.push(call);
      const send = (a: FakeAnswer): void => {
        const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        const headers: Record<string, string> = { ...a.headers };
        if (text !== '') headers['content-type'] = a.contentType ?? 'application/json';
        res.writeHead(a.status, headers).end(text);
      };
      if (failures !== undefined && failures.n > 0) {
        failures.n--;
        send(failures.answer);
        return;
      }
      Promise.resolve()
        .then(() => handle(call))
        .then(send, (e: unknown) => send({ status: 500, body: { message: (e as Error).message } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failNext: (n, answer) => {
      failures = { n, answer };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The JSON body as an object, or a string saying why it is not one. */
export function jsonBody(call: FakeCall): Record<string, unknown> | string {
  if (!String(call.headers['content-type'] ?? '').startsWith('application/json')) {
    return `content-type must be application/json, got ${String(call.headers['content-type'])}`;
  }
  try {
    const v = JSON.parse(call.body) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the body must be a JSON object';
    return v as Record<string, unknown>;
  } catch {
    return 'the body is not JSON';
  }
}

/** Names of `body` that `allowed` does not list, or that `required` lists and are missing. */
export function shapeProblems(
  body: Record<string, unknown>,
  required: Readonly<Record<string, 'string' | 'number' | 'array'>>,
  optional: Readonly<Record<string, 'string' | 'number' | 'array'>> = {},
): string | undefined {
  for (const [k, t] of Object.entries(required)) {
    if (!(k in body)) return `missing field ${k}`;
    if (!hasType(body[k], t)) return `field ${k} must be a ${t}`;
  }
  for (const k of Object.keys(body)) {
    const t = required[k] ?? optional[k];
    if (t === undefined) return `unknown field ${k}`;
    if (!hasType(body[k], t)) return `field ${k} must be a ${t}`;
  }
  return undefined;
}

function hasType(v: unknown, t: 'string' | 'number' | 'array'): boolean {
  return t === 'array' ? Array.isArray(v) : typeof v === t;
}

export function absolute(name: string): string {
  return (name.endsWith('.') ? name : `${name}.`).toLowerCase();
}

/** The zone of `zones` that `fqdn` is in (the longest), or undefined. */
export function zoneOf(fqdn: string, zones: Iterable<string>): string | undefined {
  const name = absolute(fqdn);
  let best: string | undefined;
  for (const z of zones) {
    const zone = absolute(z);
    if ((name === zone || name.endsWith(`.${zone}`)) && (best === undefined || zone.length > best.length))
      best = zone;
  }
  return best;
}
