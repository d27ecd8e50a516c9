/**
 * The messages between the control plane (the primary process) and its data-plane workers,
 * over the cluster IPC channel with `advanced` serialization (structured clone: a configuration
 * travels as it is, Maps, `undefined` and all).
 */
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { Staple } from '../tls/ocsp/ocsp-stapler.ts';
import type { AcmeState, ChallengeChange } from './acme-mirror.ts';

/** Active health of one service's servers: the ServerHealth key and the servers that are down. */
export type HealthTable = readonly (readonly [key: string, down: readonly number[]])[];

export interface BridgeAddress {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

export type ToWorker =
  /** Entry point → port to bind (`:0` resolved by the first worker), and the admin bridge. */
  | {
      readonly t: 'init';
      readonly ports: Readonly<Record<string, number>>;
      readonly bridge: BridgeAddress | null;
      /**
       * The secret TLS session-ticket keys derive from (base64): one for all workers, so that a
       * session resumes on whichever worker the kernel hands the client's next connection to.
       */
      readonly ticketSecret: string;
    }
  /** Build this generation and hold it: phase one of a reload. */
  | {
      readonly t: 'prepare';
      readonly generation: number;
      readonly config: DynamicConfig;
      readonly health: HealthTable;
      /** The certificates ACME obtained and the challenges pending; null without resolvers. */
      readonly acme: AcmeState | null;
      /** The OCSP responses the control plane holds; null without static `ocsp`. */
      readonly ocsp: readonly Staple[] | null;
    }
  /** Another worker's passive health check ejected server `index` of `key` for `ms`. */
  | { readonly t: 'eject'; readonly key: string; readonly index: number; readonly ms: number }
  /** An OCSP response the control plane fetched. */
  | { readonly t: 'ocsp'; readonly staple: Staple }
  /** An ACME challenge presented or withdrawn: answered with `challenged` once in place. */
  | { readonly t: 'challenge'; readonly id: number; readonly change: ChallengeChange }
  /** Swap to the held generation: phase two, sent once every worker has prepared it. */
  | { readonly t: 'commit'; readonly generation: number }
  /** An active health check changed its verdict on one server. */
  | { readonly t: 'health'; readonly key: string; readonly index: number; readonly healthy: boolean }
  | { readonly t: 'metrics'; readonly id: number }
  /** SIGUSR1 reached the control plane: reopen the access log (log rotation). */
  | { readonly t: 'reopen' }
  | { readonly t: 'shutdown'; readonly signal: string };

export type FromWorker =
  | { readonly t: 'listening'; readonly ports: Readonly<Record<string, number>> }
  | { readonly t: 'prepared'; readonly generation: number; readonly error: string | null }
  | { readonly t: 'committed'; readonly generation: number }
  | { readonly t: 'metrics'; readonly id: number; readonly text: string }
  | { readonly t: 'challenged'; readonly id: number }
  /** This worker's passive health check ejected server `index` of `key` for `ms`. */
  | { readonly t: 'ejected'; readonly key: string; readonly index: number; readonly ms: number };

/** The environment variable that makes a process a data-plane worker; its value is the slot. */
export const WORKER_SLOT_ENV = 'TM_WORKER_SLOT';
