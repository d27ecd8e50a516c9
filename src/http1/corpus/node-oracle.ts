import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';

/** One message as node:http (llhttp) saw it, in the order it parsed them on one connection. */
export interface NodeMessage {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  /** llhttp's keep-alive decision for this message (what `res.shouldKeepAlive` starts as). */
  readonly keepAlive: boolean;
  /**
   * 'accepted': the 'request' handler ran. 'rejected': the server answered on its own (400 for a
   * missing Host, 417 for an unknown Expect) without emitting 'request'. 'connect': a CONNECT
   * tunnel request.
   */
  verdict: 'accepted' | 'rejected' | 'connect';
  status: number;
  body: Buffer[];
  /** The whole message, body included, was parsed (llhttp's on_message_complete ran). */
  complete: boolean;
}

export interface NodeOutcome {
  readonly messages: NodeMessage[];
  /**
   * The parser error that ended the connection, or null when it ended cleanly.
   * `HPE_INVALID_EOF_STATE` means llhttp was still waiting for bytes when the client closed.
   */
  error: { code: string; reason: string } | null;
  /** The connection was neither closed by node nor errored within the time limit. */
  timedOut: boolean;
}

interface Pending {
  readonly outcome: NodeOutcome;
  serverSocket: net.Socket | null;
  readonly byRequest: Map<
    http.IncomingMessage,
    { readonly m: NodeMessage; readonly res: http.ServerResponse }
  >;
}

interface StartMessage {
  readonly request: http.IncomingMessage;
  readonly response: http.ServerResponse;
  readonly server: http.Server;
}

/**
 * Runs bytes through a real node:http server (default options) and records what llhttp and the
 * server made of them. One connection at a time: the client writes the bytes, half-closes, and
 * the outcome is complete when both ends have closed.
 */
export class NodeOracle {
  readonly #server: http.Server;
  #port = 0;
  #pending: Pending | null = null;
  readonly #onStart: (message: unknown) => void;

  constructor() {
    this.#server = http.createServer();
    this.#server.on('connection', (socket: net.Socket) => {
      const p = this.#pending;
      if (p !== null && p.serverSocket === null) p.serverSocket = socket;
    });
    this.#server.on('request', (req: http.IncomingMessage) => {
      const entry = this.#pending?.byRequest.get(req);
      if (entry !== undefined) entry.m.verdict = 'accepted';
    });
    this.#server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      const p = this.#pending;
      if (p !== null && socket === p.serverSocket) {
        p.outcome.messages.push({
          method: req.method ?? '',
          url: req.url ?? '',
          httpVersion: req.httpVersion,
          rawHeaders: req.rawHeaders,
          keepAlive: false,
          verdict: 'connect',
          status: 0,
          body: [],
          complete: true,
        });
      }
      socket.destroy();
    });
    this.#server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: net.Socket) => {
      const p = this.#pending;
      if (p !== null && socket === p.serverSocket) {
        p.outcome.error = { code: err.code ?? 'unknown', reason: err.reason ?? err.message };
      }
      socket.destroy();
    });
    // 'http.server.request.start' is published for every parsed head, before the server decides
    // on Host/Expect: it is the only way to see messages that node answers by itself.
    this.#onStart = (message: unknown) => {
      const { request, response, server } = message as StartMessage;
      const p = this.#pending;
      if (server !== this.#server || p === null || request.socket !== p.serverSocket) return;
      const m: NodeMessage = {
        method: request.method ?? '',
        url: request.url ?? '',
        httpVersion: request.httpVersion,
        rawHeaders: request.rawHeaders,
        keepAlive: response.shouldKeepAlive,
        verdict: 'rejected',
        status: 0,
        body: [],
        complete: false,
      };
      p.outcome.messages.push(m);
      p.byRequest.set(request, { m, res: response });
      request.on('data', (chunk: Buffer) => m.body.push(chunk));
      request.on('error', () => {});
      response.on('error', () => {});
    };
  }

  async start(): Promise<void> {
    diagnosticsChannel.subscribe('http.server.request.start', this.#onStart);
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.#port = address.port;
  }

  async close(): Promise<void> {
    diagnosticsChannel.unsubscribe('http.server.request.start', this.#onStart);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Sends `bytes`, half-closes, and reports what node made of them. */
  run(bytes: Buffer, timeoutMs = 2000): Promise<NodeOutcome> {
    const outcome: NodeOutcome = { messages: [], error: null, timedOut: false };
    const pending: Pending = { outcome, serverSocket: null, byRequest: new Map() };
    this.#pending = pending;
    return new Promise<NodeOutcome>((resolve) => {
      let clientClosed = false;
      let serverClosed = false;
      const finish = (): void => {
        clearTimeout(timer);
        for (const [req, { m, res }] of pending.byRequest) {
          m.complete = req.complete;
          if (m.verdict === 'rejected') m.status = res.statusCode;
        }
        this.#pending = null;
        resolve(outcome);
      };
      const maybeDone = (): void => {
        if (clientClosed && serverClosed) finish();
      };
      const client = net.connect(this.#port, '127.0.0.1');
      const timer = setTimeout(() => {
        outcome.timedOut = true;
        client.destroy();
        pending.serverSocket?.destroy();
        finish();
      }, timeoutMs);
      client.on('error', () => {});
      client.on('data', () => {});
      client.on('end', () => client.destroy());
      client.on('close', () => {
        clientClosed = true;
        const s = pending.serverSocket;
        if (s === null || s.destroyed) {
          serverClosed = true;
          maybeDone();
        } else {
          s.once('close', () => {
            serverClosed = true;
            maybeDone();
          });
        }
      });
      client.end(bytes);
    });
  }
}
