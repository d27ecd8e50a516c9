import { connect, type Socket } from 'node:net';
import { EngineError } from '../engine-client.ts';
import { JuteReader, JuteWriter } from './jute.ts';

/** Operation codes (org.apache.zookeeper.ZooDefs.OpCode). */
const OP = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren: 8,
  ping: 11,
  auth: 100,
  closeSession: -11,
} as const;
/** Error codes the client handles (KeeperException.Code). */
export const ZK_NONODE = -101;
export const ZK_NODEEXISTS = -110;
export const ZK_NOAUTH = -102;
export const ZK_AUTHFAILED = -115;

const WATCH_XID = -1;
const PING_XID = -2;
const AUTH_XID = -4;

/** An error answer of the server (`err` of the reply header). */
export class ZkError extends EngineError {
  readonly code: number;
  constructor(op: string, path: string, code: number) {
    super(
      `zookeeper ${op} ${path}: ${code === ZK_NOAUTH ? 'not authorized (NOAUTH: wrong or missing username/password)' : `error ${code}`}`,
    );
    this.code = code;
  }
}

interface Pending {
  readonly op: string;
  readonly path: string;
  resolve(r: JuteReader): void;
  reject(e: Error): void;
}

/**
 * One ZooKeeper session over one TCP connection (the protocol of ClientCnxn): the connect
 * handshake, requests answered in order, pings every third of the session timeout, and watch
 * notifications (one-shot; `onWatch` is called for each). The session ends with the socket:
 * every pending request fails and `closed` settles; the caller starts over (a new session sees
 * the whole tree again, so nothing is missed).
 */
export class ZkConnection {
  readonly #socket: Socket;
  readonly #queue: Pending[] = [];
  #xid = 1;
  #rest: Buffer = Buffer.alloc(0);
  #connected: ((r: JuteReader) => void) | undefined;
  #ping: NodeJS.Timeout | undefined;
  #failure: Error | undefined;
  onWatch: (path: string) => void = () => {};
  readonly closed: Promise<Error>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    let settle: (e: Error) => void = () => {};
    this.closed = new Promise((r) => {
      settle = r;
    });
    socket.on('data', (d: Buffer) => this.#data(d));
    socket.on('error', (e) => {
      this.#failure ??= new EngineError(`zookeeper: ${e.message}`);
    });
    socket.on('close', () => {
      clearInterval(this.#ping);
      const e = this.#failure ?? new EngineError('zookeeper: the connection closed');
      this.#failure = e;
      for (const p of this.#queue.splice(0)) p.reject(e);
      settle(e);
    });
  }

  static async open(
    host: string,
    port: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ZkConnection> {
    const socket = connect({ host, port });
    const c = new ZkConnection(socket);
    // No answer within the session timeout (connecting, or later: pings go every third of it)
    // means the server is gone: the session ends.
    socket.setTimeout(timeoutMs, () => {
      c.#failure ??= new EngineError(`zookeeper ${host}:${port}: no answer for ${timeoutMs} ms`);
      socket.destroy();
    });
    const abort = (): void => {
      socket.destroy();
    };
    signal.addEventListener('abort', abort, { once: true });
    c.closed.then(() => signal.removeEventListener('abort', abort)).catch(() => {});
    const reply = await new Promise<JuteReader>((resolve, reject) => {
      c.#connected = resolve;
      c.closed.then(reject).catch(() => {});
      socket.once('connect', () => {
        socket.write(
          new JuteWriter()
            .int(0) // protocolVersion
            .long(0n) // lastZxidSeen
            .int(timeoutMs)
            .long(0n) // sessionId: a new session
            .buffer(Buffer.alloc(16))
            .bool(false) // readOnly
            .packet(),
        );
      });
    });
    reply.int(); // protocolVersion
    const negotiated = reply.int();
    if (negotiated <= 0) {
      socket.destroy();
      throw new EngineError('zookeeper: the session was refused (expired)');
    }
    socket.setTimeout(negotiated, () => {
      c.#failure ??= new EngineError(`zookeeper ${host}:${port}: no answer for ${negotiated} ms`);
      socket.destroy();
    });
    c.#ping = setInterval(
      () => {
        socket.write(new JuteWriter().int(PING_XID).int(OP.ping).packet());
      },
      Math.max(100, Math.floor(negotiated / 3)),
    );
    c.#ping.unref();
    return c;
  }

  #data(d: Buffer): void {
    this.#rest = this.#rest.length === 0 ? d : Buffer.concat([this.#rest, d]);
    while (this.#rest.length >= 4) {
      const len = this.#rest.readInt32BE(0);
      if (this.#rest.length < 4 + len) return;
      const frame = this.#rest.subarray(4, 4 + len);
      this.#rest = this.#rest.subarray(4 + len);
      this.#frame(new JuteReader(frame));
    }
  }

  #frame(r: JuteReader): void {
    const connected = this.#connected;
    if (connected !== undefined) {
      this.#connected = undefined;
      connected(r);
      return;
    }
    const xid = r.int();
    r.long(); // zxid
    const err = r.int();
    if (xid === PING_XID) return;
    if (xid === WATCH_XID) {
      r.int(); // type
      r.int(); // state
      this.onWatch(r.string());
      return;
    }
    const p = this.#queue.shift();
    if (p === undefined) return;
    if (xid === AUTH_XID && err !== 0) {
      // The server closes the session after a refused authentication.
      this.#failure ??= new EngineError(`zookeeper: ${p.path} authentication failed (error ${err})`);
      p.reject(this.#failure);
    } else if (err !== 0) p.reject(new ZkError(p.op, p.path, err));
    else p.resolve(r);
  }

  /**
   * Adds credentials to the session (ClientCnxn's AuthPacket: `addauth digest user:password`);
   * resolves once the server accepted them, rejects (and the session ends) when it refused.
   */
  async addAuth(scheme: string, auth: string): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const w = new JuteWriter().int(AUTH_XID).int(OP.auth).int(0).string(scheme).buffer(Buffer.from(auth));
    await new Promise<JuteReader>((resolve, reject) => {
      this.#queue.push({ op: 'auth', path: scheme, resolve, reject });
      this.#socket.write(w.packet());
    });
  }

  #call(op: keyof typeof OP, path: string, body: (w: JuteWriter) => void): Promise<JuteReader> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const w = new JuteWriter().int(this.#xid++).int(OP[op]);
    body(w);
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, path, resolve, reject });
      this.#socket.write(w.packet());
    });
  }

  async children(path: string, watch: boolean): Promise<string[]> {
    const r = await this.#call('getChildren', path, (w) => w.string(path).bool(watch));
    const n = r.int();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(r.string());
    return out.sort();
  }

  async data(path: string, watch: boolean): Promise<Buffer> {
    const r = await this.#call('getData', path, (w) => w.string(path).bool(watch));
    return Buffer.from(r.buffer() ?? Buffer.alloc(0));
  }

  /** Whether `path` exists; with `watch`, its creation (or change) notifies. */
  async exists(path: string, watch: boolean): Promise<boolean> {
    try {
      await this.#call('exists', path, (w) => w.string(path).bool(watch));
      return true;
    } catch (e) {
      if (e instanceof ZkError && e.code === ZK_NONODE) return false;
      throw e;
    }
  }

  /**
   * A persistent node open to everyone (world:anyone, all permissions), or with `creatorOnly`
   * to the session's authenticated identities only (the `auth` scheme).
   */
  async create(path: string, data: Buffer, creatorOnly = false): Promise<void> {
    const [scheme, id] = creatorOnly ? ['auth', ''] : ['world', 'anyone'];
    await this.#call('create', path, (w) => {
      w.string(path).buffer(data).int(1).int(31).string(scheme).string(id).int(0);
    });
  }

  async setData(path: string, data: Buffer): Promise<void> {
    await this.#call('setData', path, (w) => w.string(path).buffer(data).int(-1));
  }

  async delete(path: string): Promise<void> {
    await this.#call('delete', path, (w) => w.string(path).int(-1));
  }

  close(): void {
    if (this.#failure === undefined && !this.#socket.destroyed) {
      this.#socket.write(
        new JuteWriter()
          .int(this.#xid++)
          .int(OP.closeSession)
          .packet(),
      );
    }
    this.#failure ??= new EngineError('zookeeper: closed');
    this.#socket.end();
    this.#socket.destroy();
  }
}
