/**
 * The soak's mixed traffic, in loops that each keep one kind of client busy until stopped:
 * HTTP/1.1 keep-alive, a new connection per request, HTTP/2 streams over h2c (prior knowledge)
 * on sessions that are replaced now and then, WebSockets that exchange messages and reconnect,
 * and requests to a route whose second server keeps dying. Outcomes are counted, never thrown:
 * the report shows them beside the memory figures.
 */
import { Agent, request } from 'node:http';
import { type ClientHttp2Session, constants, connect as h2connect } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

export interface TrafficOptions {
  /** The proxy's entry point, `http://127.0.0.1:PORT`. */
  readonly base: string;
  readonly keepAliveClients: number;
  readonly newConnectionClients: number;
  readonly h2Streams: number;
  readonly webSockets: number;
  readonly flapClients: number;
  /** Pause after each request or message in a loop (keeps the load moderate on shared machines). */
  readonly pauseMs: number;
  /** An HTTP/2 session is replaced after this long. */
  readonly h2SessionMs: number;
  /** A WebSocket closes and reconnects after this long. */
  readonly wsLifeMs: number;
}

export interface KindStats {
  ok: number;
  /** Responses with another status, by status. */
  readonly statuses: Record<string, number>;
  /** Socket-level failures (reset, refused, a body cut short, a WebSocket that broke). */
  errors: number;
  readonly errorSamples: string[];
}

export type TrafficKind = 'keepAlive' | 'newConnection' | 'h2' | 'webSocket' | 'flap';

export type TrafficStats = Record<TrafficKind, KindStats>;

function kindStats(): KindStats {
  return { ok: 0, statuses: {}, errors: 0, errorSamples: [] };
}

function fail(s: KindStats, e: unknown): void {
  s.errors++;
  if (s.errorSamples.length < 10) s.errorSamples.push(e instanceof Error ? e.message : String(e));
}

function status(s: KindStats, code: number): void {
  if (code >= 200 && code < 300) s.ok++;
  else s.statuses[code] = (s.statuses[code] ?? 0) + 1;
}

function get(url: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: 15_000 }, (res) => {
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class MixedTraffic {
  readonly stats: TrafficStats = {
    keepAlive: kindStats(),
    newConnection: kindStats(),
    h2: kindStats(),
    webSocket: kindStats(),
    flap: kindStats(),
  };
  readonly #o: TrafficOptions;
  #running = false;
  readonly #loops: Promise<void>[] = [];
  readonly #agent: Agent;
  readonly #sessions = new Set<ClientHttp2Session>();
  readonly #sockets = new Set<WebSocket>();

  constructor(o: TrafficOptions) {
    this.#o = o;
    this.#agent = new Agent({ keepAlive: true, maxSockets: o.keepAliveClients + o.flapClients });
  }

  start(): void {
    this.#running = true;
    const o = this.#o;
    for (let i = 0; i < o.keepAliveClients; i++)
      this.#loops.push(this.#httpLoop('keepAlive', `/ka/${i}`, this.#agent));
    for (let i = 0; i < o.newConnectionClients; i++)
      this.#loops.push(this.#httpLoop('newConnection', `/nc/${i}`, false));
    for (let i = 0; i < o.flapClients; i++)
      this.#loops.push(this.#httpLoop('flap', `/flap/${i}`, this.#agent));
    if (o.h2Streams > 0) this.#loops.push(this.#h2Loop());
    for (let i = 0; i < o.webSockets; i++) this.#loops.push(this.#wsLoop(i));
  }

  /** Stops every loop after its current step and closes every client connection. */
  async stop(): Promise<TrafficStats> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#agent.destroy();
    for (const s of this.#sessions) s.destroy();
    for (const w of this.#sockets) w.terminate();
    return this.stats;
  }

  async #httpLoop(kind: TrafficKind, path: string, agent: Agent | false): Promise<void> {
    const s = this.stats[kind];
    let n = 0;
    while (this.#running) {
      try {
        status(s, await get(`${this.#o.base}${path}?n=${n++}`, agent));
      } catch (e) {
        fail(s, e);
      }
      await sleep(this.#o.pauseMs);
    }
  }

  /** `h2Streams` concurrent stream loops on one session, replaced every `h2SessionMs`. */
  async #h2Loop(): Promise<void> {
    const s = this.stats.h2;
    while (this.#running) {
      const session = h2connect(this.#o.base);
      this.#sessions.add(session);
      session.on('error', (e) => fail(s, e));
      const until = performance.now() + this.#o.h2SessionMs;
      const streams = Array.from({ length: this.#o.h2Streams }, async (_, i) => {
        let n = 0;
        while (this.#running && performance.now() < until && !session.destroyed) {
          try {
            status(s, await h2get(session, `/h2/${i}?n=${n++}`));
          } catch (e) {
            fail(s, e);
          }
          await sleep(this.#o.pauseMs);
        }
      });
      await Promise.all(streams);
      await new Promise<void>((resolve) => session.close(resolve));
      this.#sessions.delete(session);
    }
  }

  /** One WebSocket at a time: message, echo, pause; closes cleanly and reconnects every `wsLifeMs`. */
  async #wsLoop(i: number): Promise<void> {
    const s = this.stats.webSocket;
    const url = `${this.#o.base.replace(/^http/, 'ws')}/ws/${i}`;
    while (this.#running) {
      try {
        await this.#wsSession(url, s);
      } catch (e) {
        fail(s, e);
        await sleep(100);
      }
    }
  }

  async #wsSession(url: string, s: KindStats): Promise<void> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.#sockets.add(ws);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const until = performance.now() + this.#o.wsLifeMs;
      let n = 0;
      while (this.#running && performance.now() < until) {
        const text = `m${n++}`;
        const echo = await new Promise<string>((resolve, reject) => {
          const onClose = (): void => reject(new Error('websocket closed while waiting for an echo'));
          ws.once('message', (data: Buffer) => {
            ws.off('close', onClose);
            resolve(data.toString());
          });
          ws.once('close', onClose);
          ws.send(text);
        });
        if (echo === text) s.ok++;
        else fail(s, new Error(`echo ${echo} for ${text}`));
        await sleep(this.#o.pauseMs * 4);
      }
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'soak');
      });
    } finally {
      this.#sockets.delete(ws);
      ws.terminate();
    }
  }
}

function h2get(session: ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ [constants.HTTP2_HEADER_PATH]: path });
    let code = 0;
    stream.setTimeout(15_000, () => stream.close(constants.NGHTTP2_CANCEL));
    stream.on('response', (h) => {
      code = Number(h[constants.HTTP2_HEADER_STATUS]);
    });
    stream.on('error', reject);
    stream.resume();
    stream.on('close', () => {
      if (code === 0 || stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
        reject(new Error(`h2 stream closed (rst ${stream.rstCode}, status ${code})`));
      } else resolve(code);
    });
  });
}
