import type { StreamSource } from './stream.ts';

/** A pool of connections that serve one client connection only (`ConnectionOwner.dedicatedPool`). */
export interface DedicatedSource extends StreamSource {
  close(): void;
}

/**
 * The upstream connections of one client connection, for servers that authenticate the
 * connection rather than the request (NTLM, Negotiate/Kerberos): Traefik's kerberosRoundTripper
 * (pkg/server/service/transport.go). Once such a server answered this client with a
 * `WWW-Authenticate: NTLM` or `Negotiate` challenge, the client's later requests to it go
 * through a pool of its own (`stick`), whose connections no other client ever gets; they close
 * with the client connection (`close`). Made on the first challenge only: a client connection
 * that never meets such a server has none (`ClientSink.affinity` stays null).
 */
export class UpstreamAffinity {
  /** Keyed by the server's shared pool (what the exchange acquires from). */
  readonly #pools = new Map<StreamSource, DedicatedSource>();
  #closed = false;

  /** The dedicated pool standing in for `shared`, if this client stuck to it. */
  get(shared: StreamSource): StreamSource | undefined {
    return this.#pools.get(shared);
  }

  /** From now on this client's requests to `shared`'s server use a pool of their own. */
  stick(shared: StreamSource, make: () => DedicatedSource): void {
    if (this.#closed || this.#pools.has(shared)) return;
    this.#pools.set(shared, make());
  }

  /** The client connection closed: its dedicated connections close too (busy ones when done). */
  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}
