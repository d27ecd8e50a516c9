/**
 * Test helper: an OTLP/HTTP trace receiver (JSON encoding) on 127.0.0.1:0. It decodes what arrives
 * into flat span records so that tests assert on ids, names and attributes, not on OTLP's nesting.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedAttributes = Record<string, string | number | boolean>;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' when the span is a root. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: ReceivedAttributes;
  readonly status: { readonly code: number; readonly message: string };
  /** Attributes of the resource the span came with (service.name…). */
  readonly resource: ReceivedAttributes;
  readonly scope: string;
}

/** One POST as it arrived. */
export interface ReceivedExport {
  readonly path: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly spanCount: number;
}

export interface OtlpReceiver {
  /** The traces URL: http://127.0.0.1:PORT/v1/traces */
  readonly url: string;
  readonly spans: readonly ReceivedSpan[];
  readonly exports: readonly ReceivedExport[];
  /** Answers the next `count` exports with `status` instead of 200. */
  failNext(count: number, status?: number): void;
  /** Resolves with all spans received once there are at least `n`; rejects after `timeoutMs`. */
  waitForSpans(n: number, timeoutMs?: number): Promise<readonly ReceivedSpan[]>;
  /** Resolves with the first span (received or to come) that satisfies `pred`; rejects after `timeoutMs`. */
  waitForSpan(pred: (s: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

interface JsonKeyValue {
  key?: string;
  value?: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}

function decodeAttributes(list: unknown): ReceivedAttributes {
  const out: ReceivedAttributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as JsonKeyValue[]) {
    const v = kv.value;
    if (typeof kv.key !== 'string' || v === undefined) continue;
    if (v.stringValue !== undefined) out[kv.key] = v.stringValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined) out[kv.key] = v.doubleValue;
    else if (v.boolValue !== undefined) out[kv.key] = v.boolValue;
  }
  return out;
}

interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: unknown;
  status?: { code?: number; message?: string };
}

interface JsonRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: unknown };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: JsonSpan[] }>;
  }>;
}

/** Flattens an ExportTraceServiceRequest in the JSON encoding. Throws on a body that is not one. */
export function decodeExport(body: string): ReceivedSpan[] {
  const req = JSON.parse(body) as JsonRequest;
  if (!Array.isArray(req.resourceSpans)) throw new Error('resourceSpans missing');
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = decodeAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: s.startTimeUnixNano ?? '0',
          endTimeUnixNano: s.endTimeUnixNano ?? '0',
          attributes: decodeAttributes(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: ReceivedExport[] = [];
  const waiters: Array<{ n: number; resolve: (s: readonly ReceivedSpan[]) => void }> = [];
  let failures = 0;
  let failStatus = 503;

  const answer = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (req.method !== 'POST' || path !== '/v1/traces') return answer(res, 404, '{}');
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/json')) return answer(res, 415, '{}');
      let decoded: ReceivedSpan[];
      try {
        decoded = decodeExport(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return answer(res, 400, JSON.stringify({ error: String(err) }));
      }
      exports.push({ path, contentType, headers: { ...req.headers }, spanCount: decoded.length });
      if (failures > 0) {
        failures--;
        return answer(res, failStatus, '{}');
      }
      spans.push(...decoded);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (spans.length >= w.n) {
          waiters.splice(i, 1);
          w.resolve(spans.slice());
        }
      }
      answer(res, 200, '{}');
    });
  };

  const server = createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const receiver: OtlpReceiver = {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    exports,
    failNext(count, status = 503) {
      failures = count;
      failStatus = status;
    },
    waitForSpans(n, timeoutMs = 10_000) {
      if (spans.length >= n) return Promise.resolve(spans.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} spans (have ${spans.length})`));
        }, timeoutMs);
        const waiter = {
          n,
          resolve: (s: readonly ReceivedSpan[]) => {
            clearTimeout(timer);
            resolve(s);
          },
        };
        waiters.push(waiter);
      });
    },
    async waitForSpan(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = spans.find(pred);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: no such span among ${spans.length}`);
        // Each export wakes this up: wait for one more span than there is now.
        await receiver.waitForSpans(spans.length + 1, left);
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
