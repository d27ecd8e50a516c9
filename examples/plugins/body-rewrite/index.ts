import type {
  BodyFilter,
  BodyOutput,
  Middleware,
  Plugin,
  PluginRequest,
  PluginResponse,
} from 'traffic-management/plugin';
import { z } from 'zod';

/*
 * body-rewrite: replaces literal strings in response bodies as they stream through (nginx's
 * sub_filter), using the body phase. A match split across two chunks is still found: the filter
 * holds back the last (longest `from` − 1) bytes of each chunk until the next one arrives.
 *
 *   http:
 *     middlewares:
 *       rebrand:
 *         plugin:
 *           bodyRewrite:
 *             rules:
 *               - { from: 'http://internal.example', to: 'https://www.example.com' }
 *
 * Only bodies of the listed media types are touched, and only when they are not encoded
 * (a compressed body is left alone: put this middleware after `compress` in the router's list,
 * so that it sees the body before the compressor does). A rewritten response gets a weak ETag and
 * loses Accept-Ranges (byte offsets no longer hold); partial responses (206) are left alone.
 */

export const schema = z.strictObject({
  rules: z
    .array(z.strictObject({ from: z.string().min(1, 'must not be empty'), to: z.string() }))
    .min(1, 'at least one rule'),
  /** Media types whose bodies are rewritten. */
  types: z
    .array(z.string().toLowerCase())
    .default(['text/html', 'text/plain', 'text/css', 'application/json']),
});

export type BodyRewriteOptions = z.output<typeof schema>;

interface Rule {
  readonly from: Buffer;
  readonly to: Buffer;
}

class BodyRewrite implements Middleware {
  readonly #rules: readonly Rule[];
  readonly #types: ReadonlySet<string>;
  /** Bytes a match may still need from the next chunk: the longest `from`, less one. */
  readonly #hold: number;

  constructor(o: BodyRewriteOptions) {
    this.#rules = o.rules.map((r) => ({ from: Buffer.from(r.from), to: Buffer.from(r.to) }));
    this.#types = new Set(o.types);
    this.#hold = Math.max(...this.#rules.map((r) => r.from.length)) - 1;
  }

  readonly onResponseBody = (_req: PluginRequest, res: PluginResponse): BodyFilter | null => {
    const h = res.headers;
    if (res.status === 206) return null;
    const type = (h.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!this.#types.has(type)) return null;
    const coding = h.get('content-encoding');
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') return null;
    const etag = h.get('etag');
    if (etag !== undefined && !etag.startsWith('W/')) h.set('ETag', `W/${etag}`);
    h.delete('accept-ranges');
    return new RewriteFilter(this.#rules, this.#hold);
  };
}

/**
 * One body's rewriting: writes what can no longer be part of a match, holds the rest. Its output
 * follows its input, so backpressure goes straight through: when the next stage is full, `write`
 * says so (the upstream pauses), and `resume` lets the input flow again.
 */
export class RewriteFilter implements BodyFilter {
  readonly #rules: readonly Rule[];
  readonly #hold: number;
  #out: BodyOutput | null = null;
  #held: Buffer = Buffer.alloc(0);
  /** The next stage was full at the last write: the input waits for `resume`. */
  #full = false;

  constructor(rules: readonly Rule[], hold: number) {
    this.#rules = rules;
    this.#hold = hold;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    this.#held = this.#rewrite(data, data.length - this.#hold);
    return !this.#full;
  }

  resume(): void {
    if (!this.#full) return;
    this.#full = false;
    this.#out?.drained();
  }

  end(): void {
    this.#rewrite(this.#held, this.#held.length);
    this.#held = Buffer.alloc(0);
    this.#out?.end();
  }

  destroy(): void {
    this.#out = null;
    this.#held = Buffer.alloc(0);
  }

  /**
   * Pushes `data` with its matches replaced, for matches that start before `until`; returns what
   * is left from there on (a match may begin in it and end in the next chunk).
   */
  #rewrite(data: Buffer, until: number): Buffer {
    let pos = 0;
    for (;;) {
      let at = -1;
      let rule: Rule | undefined;
      // The earliest match wins; at the same place, the rule listed first.
      for (const r of this.#rules) {
        const i = data.indexOf(r.from, pos);
        if (i !== -1 && i < until && (at === -1 || i < at)) {
          at = i;
          rule = r;
        }
      }
      if (rule === undefined) break;
      if (at > pos) this.#push(data.subarray(pos, at));
      if (rule.to.length > 0) this.#push(rule.to);
      pos = at + rule.from.length;
    }
    const keep = Math.max(pos, until);
    if (keep > pos) this.#push(data.subarray(pos, keep));
    return Buffer.from(data.subarray(keep));
  }

  #push(bytes: Buffer): void {
    if (this.#out?.push(bytes) === false) this.#full = true;
  }
}

export const plugin: Plugin<BodyRewriteOptions> = {
  schema,
  create: (options) => new BodyRewrite(options),
};
