import type { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import type { BodyTransform } from './middleware.ts';

/*
 * The bodies of one gRPC-Web call (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md),
 * as Traefik's grpcWeb middleware (improbable-eng's wrapper) turns them into gRPC and back:
 * - request: `application/grpc-web[+proto]` frames are gRPC frames already; `-text` bodies are
 *   base64 of them, decoded on the way (padded parts are allowed anywhere);
 * - response: the content type goes back to `application/grpc-web…`, every field is exposed to
 *   scripts (Access-Control-Expose-Headers, plus grpc-status and grpc-message), and the trailer
 *   fields become a last frame (flag 0x80, `name: value\r\n` lines, lowercase names); for
 *   `-text`, every chunk goes out as base64 with its own padding, so that a streamed message is
 *   never held back waiting for the next one.
 */

export const GRPC_WEB = 'application/grpc-web';
export const GRPC_WEB_TEXT = 'application/grpc-web-text';
const GRPC = 'application/grpc';
const EMPTY = Buffer.alloc(0);

/** Go's http.CanonicalHeaderKey, for the names Go would expose. */
function canonical(name: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

export class GrpcWebTransform implements BodyTransform {
  readonly #text: boolean;
  /** Base64 characters of a request not decoded yet (fewer than 4, or a group to come). */
  #carry = '';

  constructor(text: boolean) {
    this.#text = text;
  }

  requestHead(headers: HeaderList): void {
    this.#carry = '';
    const ct = headers.get('content-type') ?? '';
    const from = this.#text ? GRPC_WEB_TEXT : GRPC_WEB;
    headers.set('content-type', ct.replace(from, GRPC));
    // The length was of the gRPC-Web body; the gRPC body is framed by HTTP/2 DATA frames.
    headers.delete('content-length');
  }

  requestData(chunk: Buffer): Buffer {
    if (!this.#text) return chunk;
    return this.#decode(this.#carry + chunk.toString('latin1'));
  }

  requestEnd(): Buffer | null {
    if (!this.#text || this.#carry === '') return null;
    // Unpadded trailing characters: decode what they hold, as lenient decoders do.
    const rest = Buffer.from(this.#carry, 'base64');
    this.#carry = '';
    return rest.length > 0 ? rest : null;
  }

  /** Decodes whole 4-character groups; a group holding `=` ends a padded part. */
  #decode(s: string): Buffer {
    const whole = s.length - (s.length % 4);
    this.#carry = s.slice(whole);
    if (whole === 0) return EMPTY;
    const text = s.slice(0, whole);
    const pad = text.indexOf('=');
    if (pad === -1 || pad >= whole - 2) return Buffer.from(text, 'base64');
    // Several padded parts: each ends at the group holding its padding.
    const parts: Buffer[] = [];
    let start = 0;
    for (let g = 0; g < whole; g += 4) {
      if (text.charCodeAt(g + 3) === 0x3d /* = */ || g + 4 === whole) {
        parts.push(Buffer.from(text.slice(start, g + 4), 'base64'));
        start = g + 4;
      }
    }
    return Buffer.concat(parts);
  }

  responseHead(res: ResponseHead): void {
    const h = res.headers;
    const to = this.#text ? GRPC_WEB_TEXT : GRPC_WEB;
    const ct = h.get('content-type');
    if (ct?.startsWith(GRPC) && !ct.startsWith(GRPC_WEB)) {
      h.set('content-type', to + ct.slice(GRPC.length));
    }
    h.delete('trailer');
    const names: string[] = [];
    for (const n of h.lnames) {
      const c = canonical(n);
      if (!names.includes(c)) names.push(c);
    }
    names.push('Grpc-Status', 'Grpc-Message');
    h.set('Access-Control-Expose-Headers', names.join(', '));
  }

  responseData(chunk: Buffer): Buffer {
    return this.#text ? Buffer.from(chunk.toString('base64'), 'latin1') : chunk;
  }

  /**
   * The trailers frame, always (an empty one when the server sent none: a trailers-only answer),
   * its lines sorted by name: improbable-eng's copyTrailersToPayload writes the lower-cased
   * trailers with Go's Header.Write after any answer, which sorts them.
   */
  responseEnd(trailers: HeaderList | null): Buffer | null {
    let lines = '';
    if (trailers !== null && trailers.size > 0) {
      const { lnames, values } = trailers;
      const order = lnames.map((_, i) => i);
      // Sorted by name, a name's values in their order (Array.prototype.sort is stable).
      order.sort((a, b) => (lnames[a]! < lnames[b]! ? -1 : lnames[a]! > lnames[b]! ? 1 : 0));
      for (const i of order) lines += `${lnames[i]}: ${values[i]}\r\n`;
    }
    const body = Buffer.from(lines, 'latin1');
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0x80; // the trailers frame (MSB of the flags byte)
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return this.responseData(frame);
  }
}
