import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../core/logger.ts';
import type { Ticker, Timed } from '../../core/ticker.ts';
import type { UpstreamTls } from '../../upstream/transport-tls.ts';
import { encodeCommand, RedisError, type RedisReply, ReplyParser } from './resp.ts';

/** Told the reply of one command, or why there is none (connection, timeout). */
export interface ReplyHandler {
  onReply(reply: RedisReply): void;
  onFailure(reason: string): void;
}

export interface RedisClientOptions {
  /** `host:port` each; tried in order, the next one when a connection fails. */
  readonly endpoints: readonly string[];
  readonly tls: UpstreamTls | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly dialTimeoutMs: number;
  /** A command without a reply for this long fails, and the connection with it. */
  readonly readTimeoutMs: number;
}

interface Pending {
  readonly handler: ReplyHandler;
  readonly deadline: number;
}

/** Commands of the connection set-up, answered before any user command: failures end it. */
const SETUP: ReplyHandler = { onReply() {}, onFailure() {} };

/** Waits after a failed connection before trying again; commands fail at once meanwhile. */
const BACKOFF_MS = 500;

/**
 * A small Redis client of our own over node:net (node:tls for `tls`): one connection, commands
 * pipelined on it (Redis answers in order), a deadline per command on the shared ticker. Enough
 * for one EVALSHA per request; no dependency. While Redis cannot be reached, commands fail at once
 * (no queue builds up) and a new connection is tried after a short pause, the next endpoint first.
 */
export class RedisClient implements Timed {
  deadline = 0;
  tickerSlot = -1;
  readonly #o: RedisClientOptions;
  readonly #ticker: Ticker;
  readonly #logger: Logger;
  #socket: Socket | null = null;
  #ready = false;
  #parser = new ReplyParser();
  #pending: Pending[] = [];
  #head = 0;
  /** Commands written before the connection was up (sent on connect). */
  #queued: Buffer[] = [];
  #endpoint = 0;
  #retryAt = 0;
  #closed = false;
  #lastError = '';

  constructor(o: RedisClientOptions, ticker: Ticker, logger: Logger) {
    this.#o = o;
    this.#ticker = ticker;
    this.#logger = logger;
    ticker.add(this);
  }

  /** Sends a command; the handler hears exactly once (reply or failure). */
  send(args: readonly (string | number)[], handler: ReplyHandler): void {
    if (this.#closed) {
      handler.onFailure('client closed');
      return;
    }
    if (this.#socket === null) {
      if (this.#ticker.now < this.#retryAt) {
        handler.onFailure(`redis unavailable: ${this.#lastError}`);
        return;
      }
      this.#connect();
    }
    this.#push(handler, encodeCommand(args));
  }

  #push(handler: ReplyHandler, bytes: Buffer): void {
    const deadline =
      this.#ticker.now +
      (this.#ready ? this.#o.readTimeoutMs : this.#o.dialTimeoutMs + this.#o.readTimeoutMs);
    this.#pending.push({ handler, deadline });
    if (this.deadline === 0) this.deadline = deadline;
    if (this.#ready) this.#socket!.write(bytes);
    else this.#queued.push(bytes);
  }

  #connect(): void {
    const ep = this.#o.endpoints[this.#endpoint % this.#o.endpoints.length]!;
    const colon = ep.lastIndexOf(':');
    const host = ep.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(ep.slice(colon + 1));
    const tls = this.#o.tls;
    const socket =
      tls === undefined
        ? connect({ host, port, noDelay: true })
        : process.getBuiltinModule('node:tls').connect({
            host,
            port,
            secureContext: tls.secureContext,
            rejectUnauthorized: !tls.insecureSkipVerify,
            ...(tls.serverName !== undefined ? { servername: tls.serverName } : {}),
          });
    this.#socket = socket;
    this.#ready = false;
    this.#parser = new ReplyParser();
    const o = this.#o;
    const setup: Buffer[] = [];
    if (o.password !== undefined) {
      setup.push(
        encodeCommand(o.username === undefined ? ['AUTH', o.password] : ['AUTH', o.username, o.password]),
      );
    }
    if (o.db !== 0) setup.push(encodeCommand(['SELECT', o.db]));
    // Set-up replies come first; their handlers go ahead of the commands already waiting.
    const now = this.#ticker.now;
    this.#pending.splice(
      this.#head,
      0,
      ...setup.map(() => ({ handler: SETUP, deadline: now + o.dialTimeoutMs + o.readTimeoutMs })),
    );
    this.#queued.unshift(...setup);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      if (this.#socket !== socket) return;
      this.#ready = true;
      socket.cork();
      for (const b of this.#queued) socket.write(b);
      this.#queued = [];
      socket.uncork();
    });
    socket.on('data', (d: Buffer) => {
      if (this.#socket === socket) this.#onData(d);
    });
    socket.on('error', (e) => this.#fail(socket, e.message));
    socket.on('close', () => this.#fail(socket, 'connection closed'));
  }

  #onData(d: Buffer): void {
    let replies: RedisReply[];
    try {
      replies = this.#parser.feed(d);
    } catch (e) {
      this.#fail(this.#socket!, String(e));
      return;
    }
    for (const r of replies) {
      const p = this.#pending[this.#head];
      if (p === undefined) {
        this.#fail(this.#socket!, 'reply without a command');
        return;
      }
      this.#pending[this.#head++] = undefined as unknown as Pending;
      if (p.handler === SETUP && r instanceof RedisError) {
        this.#fail(this.#socket!, `set-up refused: ${r.message}`);
        return;
      }
      p.handler.onReply(r);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    const next = this.#pending[this.#head];
    this.deadline = next === undefined ? 0 : next.deadline;
  }

  /** The connection is unusable: every command on it fails; the next endpoint after a pause. */
  #fail(socket: Socket, reason: string): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#ready = false;
    socket.destroy();
    this.#lastError = reason;
    this.#retryAt = this.#ticker.now + BACKOFF_MS;
    this.#endpoint++;
    const pending = this.#pending.slice(this.#head);
    this.#pending = [];
    this.#head = 0;
    this.#queued = [];
    this.deadline = 0;
    this.#logger.warn('redis connection failed', { reason, endpoint: this.#o.endpoints.join(',') });
    for (const p of pending) if (p !== undefined) p.handler.onFailure(reason);
  }

  onDeadline(now: number): void {
    const p = this.#pending[this.#head];
    if (p !== undefined && p.deadline <= now && this.#socket !== null) this.#fail(this.#socket, 'timeout');
    else this.deadline = p === undefined ? 0 : p.deadline;
  }

  close(): void {
    this.#closed = true;
    this.#ticker.delete(this);
    if (this.#socket !== null) this.#fail(this.#socket, 'client closed');
  }
}

/** EVALSHA with the script's SHA-1, falling back to EVAL when the server does not know it yet. */
export class Script {
  readonly source: string;
  readonly sha: string;
  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

export class ScriptCall implements ReplyHandler {
  readonly #client: RedisClient;
  readonly #script: Script;
  readonly #keys: readonly string[];
  readonly #args: readonly (string | number)[];
  readonly #handler: ReplyHandler;
  #loaded = false;

  constructor(
    client: RedisClient,
    script: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
    handler: ReplyHandler,
  ) {
    this.#client = client;
    this.#script = script;
    this.#keys = keys;
    this.#args = args;
    this.#handler = handler;
  }

  run(): void {
    this.#client.send(['EVALSHA', this.#script.sha, this.#keys.length, ...this.#keys, ...this.#args], this);
  }

  onReply(reply: RedisReply): void {
    if (!this.#loaded && reply instanceof RedisError && reply.message.startsWith('NOSCRIPT')) {
      this.#loaded = true;
      this.#client.send(['EVAL', this.#script.source, this.#keys.length, ...this.#keys, ...this.#args], this);
      return;
    }
    this.#handler.onReply(reply);
  }

  onFailure(reason: string): void {
    this.#handler.onFailure(reason);
  }
}
