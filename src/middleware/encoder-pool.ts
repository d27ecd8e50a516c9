import {
  type BrotliCompress,
  constants,
  createBrotliCompress,
  createGzip,
  createZstdCompress,
  type Gzip,
  type ZstdCompress,
} from 'node:zlib';
import type { CompressEncoding } from '../config/dynamic/body-middlewares.ts';

/** The three coders share zlib's stream interface: write, flush(kind, cb), reset. */
export type Encoder = Gzip | BrotliCompress | ZstdCompress;

/** A flush that ends a block without resetting the coder's state (the ratio survives it). */
export const FLUSH: Readonly<Record<CompressEncoding, number>> = {
  gzip: constants.Z_SYNC_FLUSH,
  br: constants.BROTLI_OPERATION_FLUSH,
  zstd: constants.ZSTD_e_flush,
};

/** The flush that ends the compressed stream (gzip trailer, brotli's last block, zstd's frame end). */
export const FINISH: Readonly<Record<CompressEncoding, number>> = {
  gzip: constants.Z_FINISH,
  br: constants.BROTLI_OPERATION_FINISH,
  zstd: constants.ZSTD_e_end,
};

function create(coding: CompressEncoding, level: number): Encoder {
  switch (coding) {
    case 'gzip':
      return createGzip({ level });
    case 'br':
      return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } });
    case 'zstd':
      return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } });
  }
}

/** Idle coders kept per (coding, level). */
const MAX_IDLE = 32;

/**
 * Coders used again from one response to the next: each holds a few hundred KB of native state
 * (deflate's window and hash chains, brotli's and zstd's tables) that V8 counts as external
 * memory. Created and freed per response, at a few hundred responses a second, that memory
 * drives V8 into a full garbage collection every few requests: measured on the compress bench,
 * GC took longer than the compression itself. A coder goes back finished (its stream ended by
 * a FINISH flush) and reset to a fresh stream, so the next response starts clean; one that
 * failed, or that was dropped mid-body, is destroyed instead.
 */
export class EncoderPool {
  readonly #idle = new Map<string, Encoder[]>();

  acquire(coding: CompressEncoding, level: number): Encoder {
    return this.#idle.get(`${coding}:${level}`)?.pop() ?? create(coding, level);
  }

  /** A coder whose last use ended with a FINISH flush that completed. */
  release(coding: CompressEncoding, level: number, z: Encoder): void {
    z.removeAllListeners('data');
    z.removeAllListeners('drain');
    z.removeAllListeners('error');
    if (z.destroyed) return;
    const key = `${coding}:${level}`;
    let idle = this.#idle.get(key);
    if (idle === undefined) {
      idle = [];
      this.#idle.set(key, idle);
    }
    if (idle.length >= MAX_IDLE) {
      z.close();
      return;
    }
    // Every zlib coder has reset() (ZlibBase); @types/node declares it only on some.
    (z as Encoder & { reset(): void }).reset();
    if (z.isPaused()) z.resume();
    idle.push(z);
  }

  /** Idle coders, for tests. */
  idleCount(coding: CompressEncoding, level: number): number {
    return this.#idle.get(`${coding}:${level}`)?.length ?? 0;
  }
}

/** The process's pool: coders do not depend on the configuration beyond (coding, level). */
export const ENCODERS = new EncoderPool();
