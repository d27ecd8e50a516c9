import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../chunked.ts';
import { ParseError } from '../parse-error.ts';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  DEFAULT_REQUEST_LIMITS,
  type ParsedRequest,
  parseRequestHead,
  type RequestLimits,
} from '../request-head.ts';
import { canonicalPath, DEFAULT_PATH_POLICY } from '../request-path.ts';

export interface OurMessage {
  readonly head: ParsedRequest;
  readonly body: Buffer;
  /** The body was fully delimited inside the input. */
  readonly complete: boolean;
}

export type OurEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly status: number; readonly reason: string }
  /** A message said the connection ends after it, and bytes followed: the connection closes. */
  | { readonly kind: 'closed' };

export interface OurOutcome {
  readonly messages: OurMessage[];
  readonly end: OurEnd;
}

class Collect implements ChunkSink {
  readonly parts: Buffer[] = [];
  onChunkData(buf: Buffer, start: number, end: number): void {
    this.parts.push(buf.subarray(start, end));
  }
}

/**
 * What our codec makes of a byte stream on one connection, modelled the way the listener drives
 * it: heads parsed one after another, bodies delimited by the parsed framing, reading stops at the
 * first error or after a message that does not keep the connection alive.
 */
export function parseStream(input: Buffer, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): OurOutcome {
  const messages: OurMessage[] = [];
  let pos = 0;
  while (pos < input.length) {
    const r = parseRequestHead(input, pos, input.length, limits);
    if (r === null) return { messages, end: { kind: 'incomplete' } };
    if (r instanceof ParseError)
      return { messages, end: { kind: 'error', status: r.status, reason: r.reason } };
    // As the listener: a path that cannot be made canonical is refused before routing.
    const path = canonicalPath(r.path, DEFAULT_PATH_POLICY);
    if (path instanceof ParseError)
      return { messages, end: { kind: 'error', status: path.status, reason: path.reason } };
    pos += r.headLength;
    if (r.bodyKind === BODY_LENGTH) {
      const have = Math.min(r.contentLength, input.length - pos);
      const body = input.subarray(pos, pos + have);
      pos += have;
      if (have < r.contentLength) {
        messages.push({ head: r, body, complete: false });
        return { messages, end: { kind: 'incomplete' } };
      }
      messages.push({ head: r, body, complete: true });
    } else if (r.bodyKind === BODY_CHUNKED) {
      const decoder = new ChunkedDecoder();
      const sink = new Collect();
      const next = decoder.feed(input, pos, input.length, sink);
      const body = Buffer.concat(sink.parts);
      if (next === CHUNKED_INCOMPLETE) {
        messages.push({ head: r, body, complete: false });
        return { messages, end: { kind: 'incomplete' } };
      }
      if (next < 0) {
        messages.push({ head: r, body, complete: false });
        return { messages, end: { kind: 'error', status: 400, reason: `chunked: ${decoder.error}` } };
      }
      pos = next;
      messages.push({ head: r, body, complete: true });
    } else {
      messages.push({ head: r, body: Buffer.alloc(0), complete: true });
    }
    if (!r.keepAlive && pos < input.length) return { messages, end: { kind: 'closed' } };
  }
  return { messages, end: { kind: 'clean' } };
}
