/**
 * A fake SPIFFE Workload API for e2e tests: a real gRPC server (@grpc/grpc-js, the messages from
 * ./spiffe-proto/workload.proto through @grpc/proto-loader) on a unix socket, serving
 * `SpiffeWorkloadAPI/FetchX509SVID` as SPIRE's agent does: the current X509SVIDResponse at once,
 * then one more at each `rotate`. Calls without the `workload.spiffe.io: true` metadata are
 * refused (InvalidArgument), as the specification requires.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Issued } from './tls-certs.ts';

/** One SVID as the fake serves it: a certificate (chain) and key issued by a TestPki. */
export interface FakeSvid {
  readonly spiffeId: string;
  readonly cert: Issued;
  /** PEM of the CA certificates of the SVID's trust domain. */
  readonly bundle: readonly string[];
}

export interface FakeWorkloadState {
  readonly svids: readonly FakeSvid[];
  /** Trust domain (`spiffe://td` or `td`) → PEM certificates. */
  readonly federated?: Readonly<Record<string, readonly string[]>>;
}

function der(pems: readonly string[]): Buffer {
  const out: Buffer[] = [];
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
      out.push(new X509Certificate(block).raw);
  }
  return Buffer.concat(out);
}

function response(state: FakeWorkloadState): object {
  return {
    svids: state.svids.map((s) => ({
      spiffe_id: s.spiffeId,
      x509_svid: der([s.cert.certPem]),
      x509_svid_key: createPrivateKey(s.cert.keyPem).export({ format: 'der', type: 'pkcs8' }),
      bundle: der(s.bundle),
    })),
    federated_bundles: Object.fromEntries(Object.entries(state.federated ?? {}).map(([k, v]) => [k, der(v)])),
  };
}

export class FakeWorkloadApi {
  readonly dir: string;
  readonly socket: string;
  /** `unix:///…`, what `spiffe.workloadAPIAddr` takes. */
  readonly addr: string;
  /** Calls answered so far, and calls refused for their metadata. */
  calls = 0;
  refused = 0;
  #state: FakeWorkloadState;
  readonly #server = new grpc.Server();
  readonly #open = new Set<grpc.ServerWritableStream<object, object>>();

  private constructor(state: FakeWorkloadState, socket: string | undefined) {
    this.dir = mkdtempSync(join(tmpdir(), 'tm-spiffe-'));
    this.socket = socket ?? join(this.dir, 'agent.sock');
    this.addr = `unix://${this.socket}`;
    this.#state = state;
  }

  /** `socket`: listen there (a path the test chose before) instead of a new folder. */
  static async start(state: FakeWorkloadState, socket?: string): Promise<FakeWorkloadApi> {
    const api = new FakeWorkloadApi(state, socket);
    const defs = loadSync('workload.proto', {
      includeDirs: [fileURLToPath(new URL('./spiffe-proto/', import.meta.url))],
      defaults: false,
      // The specification's field names (spiffe_id …), not camelCase.
      keepCase: true,
    });
    const service = defs['SpiffeWorkloadAPI'] as unknown as grpc.ServiceDefinition;
    api.#server.addService(service, {
      FetchX509SVID: (call: grpc.ServerWritableStream<object, object>) => {
        if (call.metadata.get('workload.spiffe.io')[0] !== 'true') {
          api.refused++;
          call.emit('error', {
            code: grpc.status.INVALID_ARGUMENT,
            details: 'security header missing from request',
          });
          return;
        }
        api.calls++;
        api.#open.add(call);
        call.on('cancelled', () => api.#open.delete(call));
        call.on('close', () => api.#open.delete(call));
        call.write(response(api.#state));
      },
    });
    await new Promise<void>((resolve, reject) =>
      api.#server.bindAsync(api.addr, grpc.ServerCredentials.createInsecure(), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    return api;
  }

  /** Serves `state` from now on, and sends it to every open stream (an SVID rotation). */
  rotate(state: FakeWorkloadState): void {
    this.#state = state;
    for (const call of this.#open) call.write(response(state));
  }

  async close(): Promise<void> {
    for (const call of this.#open) call.end();
    await new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
    this.#server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
