/**
 * A real gRPC server (@grpc/grpc-js) for e2e tests, over h2c or TLS, and clients for it. Messages
 * are raw bytes (identity serializers): the calls are real gRPC framing without a protobuf
 * library. The service has one method per call kind plus what the tests need around them
 * (metadata echo, an error with status details, a slow method that notes cancellation), and the
 * standard gRPC health service whose answer the test sets.
 */
import * as grpc from '@grpc/grpc-js';

const ident = (b: Buffer): Buffer => b;

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: ident,
    requestDeserialize: ident,
    responseSerialize: ident,
    responseDeserialize: ident,
  };
}

/** The test service, `test.Echo`. */
export const ECHO = {
  unary: method('/test.Echo/Unary', false, false),
  serverStream: method('/test.Echo/ServerStream', false, true),
  clientStream: method('/test.Echo/ClientStream', true, false),
  bidi: method('/test.Echo/Bidi', true, true),
  fail: method('/test.Echo/Fail', false, false),
  slow: method('/test.Echo/Slow', false, false),
} satisfies grpc.ServiceDefinition;

const HEALTH = {
  check: method('/grpc.health.v1.Health/Check', false, false),
} satisfies grpc.ServiceDefinition;

/** HealthCheckResponse { status } as protobuf bytes. */
const SERVING_BYTES: Record<string, Buffer> = {
  SERVING: Buffer.from([0x08, 0x01]),
  NOT_SERVING: Buffer.from([0x08, 0x02]),
};

export interface GrpcBackend {
  readonly port: number;
  readonly name: string;
  /** Calls by method name, counted as they arrive. */
  readonly calls: Record<string, number>;
  /** Set to NOT_SERVING to fail gRPC health checks. */
  health: 'SERVING' | 'NOT_SERVING';
  /** Resolves when a call of `slow` or `serverStream` is cancelled by its client. */
  cancelled(): Promise<string>;
  close(): Promise<void>;
}

export interface GrpcTls {
  readonly keyPem: string;
  readonly certPem: string;
}

export async function startGrpcBackend(name: string, tls?: GrpcTls): Promise<GrpcBackend> {
  const server = new grpc.Server();
  const calls: Record<string, number> = {};
  const count = (m: string): void => {
    calls[m] = (calls[m] ?? 0) + 1;
  };
  const waiting: ((m: string) => void)[] = [];
  const onCancel = (m: string): void => {
    for (const w of waiting.splice(0)) w(m);
  };
  const state = { health: 'SERVING' as 'SERVING' | 'NOT_SERVING' };
  const echoMeta = (call: {
    readonly metadata: grpc.Metadata;
    sendMetadata(md: grpc.Metadata): void;
  }): void => {
    const md = new grpc.Metadata();
    md.set('x-backend', name);
    const seen = call.metadata.get('x-req')[0];
    if (seen !== undefined) md.set('x-seen', String(seen));
    const bin = call.metadata.get('x-bin-bin')[0];
    if (bin !== undefined) md.set('x-bin-bin', bin);
    call.sendMetadata(md);
  };
  const trailer = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    md.set('x-trail', `${name}-done`);
    return md;
  };
  server.addService(ECHO, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count('unary');
      echoMeta(call);
      cb(null, Buffer.concat([Buffer.from(`${name}:`), call.request]), trailer());
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      count('serverStream');
      echoMeta(call);
      const n = Number(call.request.toString());
      call.on('cancelled', () => onCancel('serverStream'));
      if (n === 0) {
        // Endless: one message every 20 ms until cancelled (or killed).
        let i = 0;
        const t = setInterval(() => call.write(Buffer.from(`tick ${i++}`)), 20);
        call.on('cancelled', () => clearInterval(t));
        return;
      }
      for (let i = 0; i < n; i++) call.write(Buffer.from(`${name} ${i}`));
      call.end(trailer());
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count('clientStream');
      const parts: string[] = [];
      call.on('data', (b: Buffer) => parts.push(b.toString()));
      call.on('end', () => cb(null, Buffer.from(`${name}:${parts.join('+')}`), trailer()));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      count('bidi');
      echoMeta(call);
      call.on('data', (b: Buffer) => {
        // Ends the call with a status while the client is still sending.
        if (b.toString() === 'abort')
          call.emit('error', { code: grpc.status.ABORTED, details: 'aborted by the server' });
        else call.write(Buffer.from(`echo ${b.toString()}`));
      });
      call.on('end', () => call.end(trailer()));
    },
    fail: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count('fail');
      const md = new grpc.Metadata();
      md.set('grpc-status-details-bin', Buffer.from(`details of ${call.request.toString()}`));
      cb({ code: grpc.status.FAILED_PRECONDITION, details: 'precondition failed: ünïcode %', metadata: md });
    },
    slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count('slow');
      const t = setTimeout(() => cb(null, Buffer.from('late')), Number(call.request.toString()));
      call.on('cancelled', () => {
        clearTimeout(t);
        onCancel('slow');
      });
    },
  });
  server.addService(HEALTH, {
    check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count('health');
      cb(null, SERVING_BYTES[state.health]!);
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
    name,
    calls,
    get health() {
      return state.health;
    },
    set health(v) {
      state.health = v;
    },
    cancelled: () => new Promise((r) => waiting.push(r)),
    close: () =>
      new Promise<void>((r) => {
        server.forceShutdown();
        r();
      }),
  };
}

export type EchoClient = grpc.Client & Record<keyof typeof ECHO, (...args: unknown[]) => unknown>;

const EchoClientCtor = grpc.makeGenericClientConstructor(ECHO, 'Echo');

/** A client of `test.Echo` through `port`, asking for `authority`; TLS when `ca` is given. */
export function echoClient(port: number, authority: string, ca?: string): EchoClient {
  const creds =
    ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(ca));
  const options: grpc.ChannelOptions = { 'grpc.default_authority': authority };
  if (ca !== undefined) options['grpc.ssl_target_name_override'] = authority;
  return new EchoClientCtor(`127.0.0.1:${port}`, creds, options) as unknown as EchoClient;
}

/** A unary call as a promise: the reply, or the gRPC error. */
export function unary(
  client: EchoClient,
  name: 'unary' | 'fail' | 'slow',
  body: string,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<{
  reply: Buffer | null;
  error: grpc.ServiceError | null;
  headers: grpc.Metadata | null;
  status: grpc.StatusObject | null;
}> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | null = null;
    let status: grpc.StatusObject | null = null;
    let reply: Buffer | null = null;
    let error: grpc.ServiceError | null = null;
    let settled = 0;
    const done = (): void => {
      if (++settled === 2) resolve({ reply, error, headers, status });
    };
    const callOpts: grpc.CallOptions = {};
    if (opts.deadlineMs !== undefined) callOpts.deadline = Date.now() + opts.deadlineMs;
    const call = (
      client[name] as (
        req: Buffer,
        md: grpc.Metadata,
        o: grpc.CallOptions,
        cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
      ) => grpc.ClientUnaryCall
    )(Buffer.from(body), opts.metadata ?? new grpc.Metadata(), callOpts, (e, r) => {
      error = e;
      reply = r ?? null;
      done();
    });
    call.on('metadata', (m: grpc.Metadata) => {
      headers = m;
    });
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}
