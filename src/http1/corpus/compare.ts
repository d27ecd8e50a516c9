import type { ParsedRequest } from '../request-head.ts';
import type { NodeMessage, NodeOutcome } from './node-oracle.ts';
import { type OurOutcome, parseStream } from './ours.ts';

/**
 * - agree: same verdict (and, where both accepted, the same message);
 * - violation: node rejects what we accept (the invariant this corpus guards);
 * - mismatch: both accept, but the method, target, headers, keep-alive or body framing differ;
 * - stricter: we reject (or keep waiting for) what node accepts, which the design allows;
 * - waits: node rejects a message we are still waiting on, and no obvious completion of it makes
 *   us accept it (we would answer 400 or time out later).
 */
export type Verdict = 'agree' | 'violation' | 'mismatch' | 'stricter' | 'waits';

export interface Comparison {
  readonly verdict: Verdict;
  readonly detail: string;
}

type NodeState =
  | { kind: 'done' }
  | { kind: 'incomplete' }
  | { kind: 'reject'; why: string }
  | { kind: 'connect' }
  | { kind: 'head'; m: NodeMessage; body: 'complete' | 'reject' | 'incomplete'; why: string };

type OurState =
  | { kind: 'done' }
  | { kind: 'incomplete' }
  | { kind: 'reject'; why: string }
  | {
      kind: 'head';
      head: ParsedRequest;
      bodyBytes: Buffer;
      body: 'complete' | 'reject' | 'incomplete';
      why: string;
    };

const EOF_CODE = 'HPE_INVALID_EOF_STATE';

function nodeState(n: NodeOutcome, i: number): NodeState {
  const m = n.messages[i];
  const err = n.error;
  const last = i === n.messages.length - 1;
  if (m !== undefined) {
    if (m.verdict === 'rejected') return { kind: 'reject', why: `server answered ${m.status}` };
    if (m.verdict === 'connect') return { kind: 'connect' };
    if (m.complete) return { kind: 'head', m, body: 'complete', why: '' };
    if (last && err !== null && err.code !== EOF_CODE) {
      return { kind: 'head', m, body: 'reject', why: `${err.code} ${err.reason}` };
    }
    return { kind: 'head', m, body: 'incomplete', why: '' };
  }
  if (n.timedOut) return { kind: 'incomplete' };
  if (err === null) return { kind: 'done' };
  if (err.code === EOF_CODE) return { kind: 'incomplete' };
  return { kind: 'reject', why: `${err.code} ${err.reason}` };
}

function ourState(o: OurOutcome, i: number): OurState {
  const m = o.messages[i];
  const last = i === o.messages.length - 1;
  const end = o.end;
  if (m !== undefined) {
    if (m.complete) return { kind: 'head', head: m.head, bodyBytes: m.body, body: 'complete', why: '' };
    if (last && end.kind === 'error') {
      return {
        kind: 'head',
        head: m.head,
        bodyBytes: m.body,
        body: 'reject',
        why: `${end.status} ${end.reason}`,
      };
    }
    return { kind: 'head', head: m.head, bodyBytes: m.body, body: 'incomplete', why: '' };
  }
  switch (end.kind) {
    case 'clean':
      return { kind: 'done' };
    case 'incomplete':
      return { kind: 'incomplete' };
    case 'error':
      return { kind: 'reject', why: `${end.status} ${end.reason}` };
    case 'closed':
      return { kind: 'reject', why: 'connection closes after the previous message' };
  }
}

function isUpgrade(h: ParsedRequest): boolean {
  return h.headers.has('upgrade') && (h.connectionTokens?.includes('upgrade') ?? false);
}

/** Splits node's req.url the way our codec splits the request-target. */
function nodeTarget(url: string): { path: string; query: string; authority: string | null } {
  if (url.startsWith('/') || url === '*') {
    const q = url.indexOf('?');
    return q === -1
      ? { path: url, query: '', authority: null }
      : { path: url.slice(0, q), query: url.slice(q + 1), authority: null };
  }
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/is.exec(url);
  if (m === null) return { path: url, query: '', authority: '?' };
  return { path: m[2] ?? '/', query: m[3] ?? '', authority: m[1] ?? '' };
}

/** Differences between node's view of a head and ours, as readable lines; empty when they agree. */
export function headDiff(m: NodeMessage, h: ParsedRequest): string[] {
  const out: string[] = [];
  if (m.method !== h.method) out.push(`method node=${m.method} ours=${h.method}`);
  if (m.httpVersion !== `1.${h.versionMinor}`)
    out.push(`version node=${m.httpVersion} ours=1.${h.versionMinor}`);
  const t = nodeTarget(m.url);
  if (t.path !== h.path || t.query !== h.query) {
    out.push(
      `target node=${JSON.stringify(m.url)} ours path=${JSON.stringify(h.path)} query=${JSON.stringify(h.query)}`,
    );
  }
  if (t.authority !== null && t.authority.toLowerCase() !== h.authority.toLowerCase()) {
    out.push(`authority node=${t.authority} ours=${h.authority}`);
  }
  const nodePairs: string[] = [];
  for (let k = 0; k < m.rawHeaders.length; k += 2)
    nodePairs.push(`${m.rawHeaders[k]}: ${m.rawHeaders[k + 1]}`);
  const ourPairs = h.headers.names.map((n, k) => `${n}: ${h.headers.values[k]}`);
  if (JSON.stringify(nodePairs) !== JSON.stringify(ourPairs)) {
    out.push(`headers node=${JSON.stringify(nodePairs)} ours=${JSON.stringify(ourPairs)}`);
  }
  // Closing where node keeps the connection is stricter (see compareOutcomes); the reverse is not.
  if (!m.keepAlive && h.keepAlive) out.push(`keep-alive node=false ours=true`);
  return out;
}

function compareOutcomes(node: NodeOutcome, ours: OurOutcome): Comparison & { waitingAt?: number } {
  for (let i = 0; ; i++) {
    const n = nodeState(node, i);
    const o = ourState(ours, i);
    const at = `message ${i}`;
    if (n.kind === 'head') {
      if (o.kind === 'reject') {
        // llhttp reports some head errors (a bad Transfer-Encoding) only once the head is complete.
        return n.body === 'reject'
          ? { verdict: 'agree', detail: `${at}: both reject (node after the head: ${n.why}; ours ${o.why})` }
          : { verdict: 'stricter', detail: `${at}: node accepts, ours ${o.why}` };
      }
      if (o.kind !== 'head')
        return { verdict: 'mismatch', detail: `${at}: node parsed a head, ours ${o.kind}` };
      const diff = headDiff(n.m, o.head);
      if (diff.length > 0) return { verdict: 'mismatch', detail: `${at}: ${diff.join('; ')}` };
      const nodeBody = Buffer.concat(n.m.body);
      const bodyEqual =
        n.body === 'complete' && o.body === 'complete'
          ? nodeBody.equals(o.bodyBytes)
          : nodeBody.subarray(0, o.bodyBytes.length).equals(o.bodyBytes.subarray(0, nodeBody.length));
      if (!bodyEqual) {
        return {
          verdict: 'mismatch',
          detail: `${at}: body node=${JSON.stringify(nodeBody.toString('latin1'))} ours=${JSON.stringify(o.bodyBytes.toString('latin1'))}`,
        };
      }
      if (n.body === 'complete' && o.body === 'complete') {
        // llhttp hands everything after an upgrade request to the 'upgrade' handler, and node:http
        // without one drops it; we hold those bytes until the upstream answers (101 or not).
        if (isUpgrade(o.head))
          return { verdict: 'agree', detail: `${at}: same upgrade request; the rest is not HTTP to node` };
        if (n.m.keepAlive && !o.head.keepAlive && ourState(ours, i + 1).kind !== 'done') {
          return { verdict: 'stricter', detail: `${at}: node keeps the connection open, ours closes it` };
        }
        continue;
      }
      if (n.body === 'complete') {
        return o.body === 'reject'
          ? { verdict: 'stricter', detail: `${at}: node accepts the body, ours ${o.why}` }
          : { verdict: 'mismatch', detail: `${at}: node saw the body end, ours waits for more` };
      }
      if (n.body === 'reject') {
        if (o.body === 'complete')
          return { verdict: 'violation', detail: `${at}: node rejects the body (${n.why}), ours accepts it` };
        if (o.body === 'reject') return { verdict: 'agree', detail: `${at}: both reject the body` };
        return {
          verdict: 'waits',
          detail: `${at}: node rejects the body (${n.why}), ours waits`,
          waitingAt: i,
        };
      }
      if (o.body === 'complete')
        return { verdict: 'mismatch', detail: `${at}: node waits for more body, ours saw it end` };
      return { verdict: 'agree', detail: `${at}: both wait for more body` };
    }
    if (n.kind === 'reject') {
      if (o.kind === 'head')
        return { verdict: 'violation', detail: `${at}: node rejects (${n.why}), ours accepts the head` };
      if (o.kind === 'reject')
        return { verdict: 'agree', detail: `${at}: both reject (node ${n.why}; ours ${o.why})` };
      if (o.kind === 'incomplete') {
        return { verdict: 'waits', detail: `${at}: node rejects (${n.why}), ours waits`, waitingAt: i };
      }
      return { verdict: 'mismatch', detail: `${at}: node rejects (${n.why}) bytes ours consumed` };
    }
    if (n.kind === 'connect') {
      // Both take the head; node hands the rest of the connection to its 'connect' handler, ours
      // routes the request and answers 501 once a server is picked (Traefik's connectHandler),
      // so what follows is not comparable.
      if (o.kind === 'head') {
        return o.head.method === 'CONNECT'
          ? { verdict: 'agree', detail: `${at}: both take the CONNECT head; node tunnels the rest` }
          : { verdict: 'mismatch', detail: `${at}: node saw a CONNECT, ours ${o.head.method}` };
      }
      return { verdict: 'stricter', detail: `${at}: node tunnels CONNECT, ours ${o.kind}` };
    }
    if (n.kind === 'incomplete') {
      if (o.kind === 'head')
        return { verdict: 'mismatch', detail: `${at}: node waits for the head, ours parsed one` };
      if (o.kind === 'done')
        return { verdict: 'mismatch', detail: `${at}: node waits for bytes ours consumed` };
      return { verdict: 'agree', detail: `${at}: node waits, ours ${o.kind}` };
    }
    // node is done
    if (o.kind === 'done') return { verdict: 'agree', detail: `${i} message(s), same parse` };
    if (o.kind === 'head')
      return { verdict: 'mismatch', detail: `${at}: ours parsed a message node did not see` };
    return { verdict: 'stricter', detail: `${at}: node ignores the trailing bytes, ours ${o.kind}` };
  }
}

/** Completions tried when node has already rejected a message our codec is still waiting on. */
const COMPLETIONS = [
  '\r\n',
  '\r\n\r\n',
  '\n\r\n',
  '\r\n\r\n0\r\n\r\n',
  '0\r\n\r\n',
  '\r\n0\r\n\r\n',
  `${'x'.repeat(64)}\r\n\r\n`,
];

/** Compares node's outcome with our codec's on the same bytes. */
export function compare(input: Buffer, node: NodeOutcome): Comparison {
  const ours = parseStream(input);
  const c = compareOutcomes(node, ours);
  if (c.verdict !== 'waits' || c.waitingAt === undefined) return c;
  // llhttp fails a prefix only when every extension of it fails too: if some extension makes us
  // accept the message, a client can get past us what node refuses.
  for (const suffix of COMPLETIONS) {
    const more = parseStream(Buffer.concat([input, Buffer.from(suffix, 'latin1')]));
    const m = more.messages[c.waitingAt];
    if (m?.complete === true) {
      return {
        verdict: 'violation',
        detail: `${c.detail}, and accepts it once ${JSON.stringify(suffix)} follows`,
      };
    }
  }
  return c;
}
