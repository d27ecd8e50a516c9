/**
 * Backends and clients for the ports of Traefik's integration/grpc_test.go and
 * integration/websocket_test.go: the helloworld `Greeter` service of Traefik's
 * integration/helloworld/helloworld.proto (SayHello, and the server stream StreamExample) served
 * by @grpc/grpc-js over h2c or TLS, and a WebSocket echo server that behaves as gorilla/websocket's
 * default `Upgrader` (a cross-origin handshake refused with 403) over plain HTTP or TLS.
 */
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import type { KeyAndCert } from '../../helpers/tls-certs.ts';

// ---- helloworld.proto: every message is at most one string field, number 1 -------------------

/** A message whose only field is `string <name> = 1` (HelloRequest, HelloReply, StreamExampleReply). */
export function encodeString1(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length === 0) return Buffer.alloc(0); // proto3 leaves a default value out
  const len: number[] = [];
  let n = body.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), body]);
}

/** Reads field 1 (length-delimited) of such a message; anything else is an error. */
export function decodeString1(b: Buffer): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    if (b[i] !== 0x0a) throw new Error(`unexpected protobuf tag ${b[i]}`);
    i++;
    let len = 0;
    let shift = 0;
    for (;;) {
      const c = b[i++];
      if (c === undefined) throw new Error('truncated varint');
      len += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if ((c & 0x80) === 0) break;
    }
    if (i + len > b.length) throw new Error('truncated field');
    out = b.subarray(i, i + len).toString('utf8');
    i += len;
  }
  return out;
}

const EMPTY = (): Buffer => Buffer.alloc(0);
const noFields = (b: Buffer): Record<string, never> => {
  if (b.length !== 0) throw new Error('StreamExampleRequest has no field');
  return {};
};

export const GREETER = {
  sayHello: {
    path: '/helloworld.Greeter/SayHello',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { name: string }) => encodeString1(r.name),
    requestDeserialize: (b: Buffer) => ({ name: decodeString1(b) }),
    responseSerialize: (r: { message: string }) => encodeString1(r.message),
    responseDeserialize: (b: Buffer) => ({ message: decodeString1(b) }),
  },
  streamExample: {
    path: '/helloworld.Greeter/StreamExample',
    requestStream: false,
    responseStream: true,
    requestSerialize: EMPTY,
    requestDeserialize: noFields,
    responseSerialize: (r: { data: string }) => encodeString1(r.data),
    responseDeserialize: (b: Buffer) => ({ data: decodeString1(b) }),
  },
} satisfies grpc.ServiceDefinition;

const RAND_CHARSET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890';

export interface GreeterServer {
  readonly port: number;
  /** SayHello calls served. */
  readonly hellos: number;
  /** Ends the StreamExample calls still open (Traefik's `stopStreamExample`). */
  stopStreams(): void;
  close(): Promise<void>;
}

/**
 * Traefik's `myserver`: SayHello answers "Hello <name>"; StreamExample sends one reply of 512
 * random characters, then keeps the stream open until `stopStreams()`. TLS when `tls` is given
 * (startGRPCServer), h2c otherwise (starth2cGRPCServer).
 */
export async function startGreeter(tls?: KeyAndCert): Promise<GreeterServer> {
  const server = new grpc.Server();
  const state = { hellos: 0 };
  const open = new Set<grpc.ServerWritableStream<unknown, { data: string }>>();
  server.addService(GREETER, {
    sayHello: (
      call: grpc.ServerUnaryCall<{ name: string }, { message: string }>,
      cb: grpc.sendUnaryData<{ message: string }>,
    ) => {
      state.hellos++;
      cb(null, { message: `Hello ${call.request.name}` });
    },
    streamExample: (call: grpc.ServerWritableStream<unknown, { data: string }>) => {
      let data = '';
      for (let i = 0; i < 512; i++) data += RAND_CHARSET[randomInt(RAND_CHARSET.length)];
      call.write({ data });
      open.add(call);
      call.on('cancelled', () => open.delete(call));
    },
  });
  const creds =
    tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          null,
          [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }],
          false,
        );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err === null ? resolve(p) : reject(err))),
  );
  return {
    port,
    get hellos() {
      return state.hellos;
    },
    stopStreams: () => {
      for (const c of open) c.end();
      open.clear();
    },
    close: async () => {
      server.forceShutdown();
    },
  };
}

export type GreeterClient = grpc.Client & {
  sayHello(
    req: { name: string },
    cb: (err: grpc.ServiceError | null, reply?: { message: string }) => void,
  ): grpc.ClientUnaryCall;
  streamExample(req: Record<string, never>): grpc.ClientReadableStream<{ data: string }>;
};

const GreeterCtor = grpc.makeGenericClientConstructor(GREETER, 'Greeter');

/**
 * A Greeter client of 127.0.0.1:`port` (getHelloClientGRPC: TLS trusting `ca`, whose names must
 * cover 127.0.0.1; getHelloClientGRPCh2c without it).
 */
export function greeterClient(port: number, ca?: string): GreeterClient {
  const creds =
    ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(ca));
  return new GreeterCtor(`127.0.0.1:${port}`, creds) as unknown as GreeterClient;
}

/** callHelloClientGRPC: one SayHello through a fresh client, closed after. */
export async function sayHello(port: number, name: string, ca?: string): Promise<string> {
  const client = greeterClient(port, ca);
  try {
    return await new Promise<string>((resolve, reject) =>
      client.sayHello({ name }, (err, reply) => (err === null ? resolve(reply!.message) : reject(err))),
    );
  } finally {
    client.close();
  }
}

// ---- WebSocket ------------------------------------------------------------------------------

export interface GorillaEcho {
  readonly url: string;
  readonly port: number;
  /** Handshake requests as they arrived (before the origin check). */
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

/**
 * gorilla/websocket's default `Upgrader` echoing every message back with its type. The default
 * CheckOrigin refuses (403) a handshake whose `Origin` host is not its `Host` (checkSameOrigin;
 * `checkOrigin: false` is TestWrongOriginIgnoredByServer's `CheckOrigin` that returns true). TLS
 * when `tls` is given, offering `h2` and `http/1.1` by ALPN as TestSSLhttp2's httptest server
 * does. A request that is no handshake (an HTTP/2 one included) is a 400, as gorilla's Upgrade
 * answers it.
 */
export async function startGorillaEcho(
  opts: {
    readonly checkOrigin?: boolean;
    readonly tls?: KeyAndCert;
    /** The Upgrader's `Subprotocols` (the first the client offers is chosen). */
    readonly subprotocols?: readonly string[];
    /** `Upgrade`'s responseHeader: fields added to the 101. */
    readonly responseHeader?: readonly string[];
  } = {},
): Promise<GorillaEcho> {
  const requests: IncomingMessage[] = [];
  const plain = (_req: unknown, res: { writeHead(s: number): void; end(t: string): void }): void => {
    res.writeHead(400);
    res.end('Bad Request\n');
  };
  const server: Server | Http2SecureServer =
    opts.tls === undefined
      ? createServer(plain)
      : createSecureServer({ key: opts.tls.keyPem, cert: opts.tls.certPem, allowHTTP1: true }, plain);
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => {
      for (const p of offered) if (opts.subprotocols?.includes(p)) return p;
      return false;
    },
  });
  wss.on('headers', (headers) => headers.push(...(opts.responseHeader ?? [])));
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    requests.push(req);
    const origin = req.headers.origin;
    if ((opts.checkOrigin ?? true) && origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host === undefined || host.toLowerCase() !== (req.headers.host ?? '').toLowerCase()) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
