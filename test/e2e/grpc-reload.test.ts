/**
 * gRPC streams and reloads (issue 10): bidirectional calls on a route a reload leaves in place
 * keep exchanging messages through any number of reloads (their HTTP/2 session to the backend
 * survives too); once a reload removes their route, they are ended after the entry point's
 * graceTimeOut as failed calls (UNAVAILABLE), never as successes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type EchoClient, echoClient, type GrpcBackend, startGrpcBackend } from '../helpers/grpc-backend.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { currentGeneration, waitApplied } from '../helpers/wait.ts';

function dynamic(port: number, extra: number, keep: boolean): string {
  const kept = keep ? '    grpc: { rule: "Host(`grpc.test`)", service: grpc }\n' : '';
  return `http:
  routers:
${kept}    other${extra}: { rule: "Host(\`other${extra}.test\`)", service: grpc }
  services:
    grpc: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port}" }] } }
`;
}

/** One bidirectional call: send a message, await its echo. */
class Stream {
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  status: grpc.StatusObject | null = null;
  readonly ended: Promise<grpc.StatusObject>;

  constructor(client: EchoClient) {
    this.call = (client.bidi as () => grpc.ClientDuplexStream<Buffer, Buffer>)();
    this.call.on('error', () => {});
    this.ended = new Promise((r) =>
      this.call.on('status', (s: grpc.StatusObject) => {
        this.status = s;
        r(s);
      }),
    );
  }

  echo(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.call.once('data', (b: Buffer) => resolve(b.toString()));
      void this.ended.then((s) =>
        reject(new Error(`call ended (${s.code} ${s.details}) before echoing ${text}`)),
      );
      this.call.write(Buffer.from(text));
    });
  }
}

for (const engine of H2_ENGINES) {
  describe(`gRPC streams across reloads [${engine} engine]`, () => {
    let backend: GrpcBackend;
    let proxy: ProxyProcess;
    let client: EchoClient;

    before(async () => {
      backend = await startGrpcBackend('live');
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport: { lifeCycle: { graceTimeOut: 1s } }
log: { level: INFO }
providers:
  file: { filename: dyn.yaml }
`,
        files: { 'dyn.yaml': dynamic(backend.port, 0, true) },
      });
      client = echoClient(proxy.port, 'grpc.test');
    });

    after(async () => {
      client?.close();
      await proxy?.stop();
      await backend?.close();
    });

    it('keeps 10 bidirectional calls exchanging through 20 reloads, then ends them as UNAVAILABLE once their route is removed', async () => {
      const streams = Array.from({ length: 10 }, () => new Stream(client));
      const first = await Promise.all(streams.map((s, i) => s.echo(`hello ${i}`)));
      assert.deepEqual(
        first,
        streams.map((_, i) => `echo hello ${i}`),
      );
      let generation = currentGeneration(proxy);
      for (let reload = 1; reload <= 20; reload++) {
        proxy.writeFile('dyn.yaml', dynamic(backend.port, reload, true));
        await waitApplied(proxy, ++generation);
        const echoes = await Promise.all(streams.map((s, i) => s.echo(`r${reload}-${i}`)));
        for (const [i, e] of echoes.entries()) assert.equal(e, `echo r${reload}-${i}`);
      }
      assert.ok(
        streams.every((s) => s.status === null),
        'no call ended during the reloads',
      );
      assert.equal(backend.calls.bidi, 10, 'the same 10 calls throughout');

      // The route goes: the calls live on for the grace period (1 s), then fail.
      proxy.writeFile('dyn.yaml', dynamic(backend.port, 99, false));
      await waitApplied(proxy, ++generation);
      assert.equal(await streams[0]!.echo('still here'), 'echo still here', 'alive during the grace period');
      const ends = await Promise.all(streams.map((s) => s.ended));
      for (const s of ends) assert.equal(s.code, grpc.status.UNAVAILABLE, s.details);
    });
  });
}
