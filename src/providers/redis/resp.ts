import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { EngineError } from '../engine-client.ts';

/** A RESP2 reply: simple string, integer, bulk string (null when absent), array, or an error. */
export type RespValue = string | number | null | RespError | readonly RespValue[];

export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

const INCOMPLETE = Symbol('incomplete');

/**
 * A minimal Redis client (RESP2) for the Redis provider: one connection, commands answered in
 * order, and pub/sub pushes handed to `onPush` once the connection subscribed. Small on purpose:
 * the provider needs AUTH, SELECT, CONFIG SET, SCAN, MGET and PSUBSCRIBE, nothing else.
 */
export class RespConnection {
  readonly #socket: Socket;
  readonly #pending: { resolve: (v: RespValue) => void; reject: (e: Error) => void }[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #closed: Error | undefined;
  #subscribed = false;
  onPush: ((msg: readonly RespValue[]) => void) | undefined;
  readonly closed: Promise<Error>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    let closedWith: (e: Error) => void = () => {};
    this.closed = new Promise((r) => {
      closedWith = r;
    });
    socket.on('data', (d: Buffer) => this.#data(d));
    const end = (e?: Error): void => {
      if (this.#closed !== undefined) return;
      this.#closed = new EngineError(`redis: ${e?.message ?? 'the connection closed'}`);
      for (const p of this.#pending.splice(0)) p.reject(this.#closed);
      closedWith(this.#closed);
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  static open(
    host: string,
    port: number,
    tls: ConnectionOptions | undefined,
    signal: AbortSignal,
  ): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        tls === undefined
          ? netConnect({ host, port })
          : // No SNI for an IP address (RFC 6066); the certificate is still checked against it.
            tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...tls });
      const fail = (e: Error): void => {
        socket.destroy();
        reject(new EngineError(`redis ${host}:${port}: ${e.message}`));
      };
      const onAbort = (): void => fail(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        socket.off('error', fail);
        signal.removeEventListener('abort', onAbort);
        const conn = new RespConnection(socket);
        signal.addEventListener('abort', () => conn.close(), { once: true });
        resolve(conn);
      });
    });
  }

  /** Sends one command; resolves with its reply (a Redis error rejects). */
  command(...args: readonly string[]): Promise<RespValue> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    let out = `*${args.length}\r\n`;
    for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    this.#socket.write(out);
    return new Promise((resolve, reject) => {
      this.#pending.push({
        resolve: (v) =>
          v instanceof RespError ? reject(new EngineError(`redis ${args[0]}: ${v.message}`)) : resolve(v),
        reject,
      });
    });
  }

  /** PSUBSCRIBE: from its confirmation on, pushes go to `onPush`. */
  async psubscribe(pattern: string): Promise<void> {
    this.#subscribed = true;
    await this.command('PSUBSCRIBE', pattern);
  }

  close(): void {
    this.#socket.destroy();
  }

  #data(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      const r = parse(this.#buf, 0);
      if (r === INCOMPLETE) return;
      this.#buf = this.#buf.subarray(r.next);
      const v = r.value;
      // In pub/sub mode a `pmessage` array is a push; anything else answers a command.
      if (this.#subscribed && Array.isArray(v) && v[0] === 'pmessage') {
        this.onPush?.(v);
        continue;
      }
      this.#pending.shift()?.resolve(v);
    }
  }
}

function parse(buf: Buffer, at: number): { value: RespValue; next: number } | typeof INCOMPLETE {
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return INCOMPLETE;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RespError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return INCOMPLETE;
      return { value: buf.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, pos);
        if (r === INCOMPLETE) return INCOMPLETE;
        items.push(r.value);
        pos = r.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new EngineError(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}
