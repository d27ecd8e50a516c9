/*
 * gRPC health checks (Traefik's `healthCheck.mode: grpc`): the gRPC Health Checking Protocol v1,
 * `grpc.health.v1.Health/Check` with an empty service name, over HTTP/2. Healthy only when the
 * call succeeds (grpc-status 0) and the answer is SERVING, as Traefik rules; UNIMPLEMENTED (the
 * server lacks the health service) is a failure. The two messages are small enough to encode by
 * hand (protobuf: field 1, varint), so no protobuf library is loaded.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { H2ProbeOutcome } from './probe-h2.ts';

export const GRPC_HEALTH_PATH = '/grpc.health.v1.Health/Check';

/** One uncompressed gRPC message holding an empty HealthCheckRequest (service ""). */
export const GRPC_HEALTH_REQUEST = Buffer.from([0, 0, 0, 0, 0]);

export const GRPC_HEALTH_HEADERS: readonly (readonly [string, string])[] = [
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
  ['user-agent', 'traffic-management-health'],
];

/** HealthCheckResponse.ServingStatus names, by value. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** The check's verdict from the HTTP/2 exchange. */
export function judgeGrpcHealth(o: H2ProbeOutcome): { ok: boolean; reason: string } {
  if (!o.ok) return { ok: false, reason: `${o.phase} ${o.reason}` };
  if (o.status !== 200) return { ok: false, reason: `status ${o.status}` };
  const code = grpcStatus(o.trailers) ?? grpcStatus(o.headers);
  if (code === undefined) return { ok: false, reason: 'no grpc-status' };
  if (code !== '0') {
    return {
      ok: false,
      reason:
        code === '12'
          ? 'the server does not implement the gRPC health protocol'
          : `grpc-status ${code}${messageOf(o.trailers, o.headers)}`,
    };
  }
  const status = servingStatus(o.body);
  if (status === undefined) return { ok: false, reason: 'malformed HealthCheckResponse' };
  const name = SERVING_STATUS[status] ?? String(status);
  return status === 1 ? { ok: true, reason: 'SERVING' } : { ok: false, reason: `health status ${name}` };
}

function grpcStatus(h: IncomingHttpHeaders): string | undefined {
  const v = h['grpc-status'];
  return typeof v === 'string' ? v : undefined;
}

function messageOf(...hs: IncomingHttpHeaders[]): string {
  for (const h of hs) {
    const m = h['grpc-message'];
    if (typeof m === 'string' && m !== '') return `: ${safeDecode(m)}`;
  }
  return '';
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * ServingStatus of a response body: one gRPC message (flag 0 = not compressed, 4-byte length)
 * holding a HealthCheckResponse. An empty message means status 0 (UNKNOWN, protobuf's default).
 * Undefined when the body is not that.
 */
export function servingStatus(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) return undefined;
  const msg = body.subarray(5, 5 + len);
  let status = 0;
  let i = 0;
  while (i < msg.length) {
    const key = readVarint(msg, i);
    if (key === undefined) return undefined;
    i = key.next;
    const field = key.value >>> 3;
    const wire = key.value & 7;
    if (wire === 0) {
      const v = readVarint(msg, i);
      if (v === undefined) return undefined;
      i = v.next;
      if (field === 1) status = v.value;
    } else if (wire === 2) {
      const n = readVarint(msg, i);
      if (n === undefined || n.next + n.value > msg.length) return undefined;
      i = n.next + n.value;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else return undefined;
  }
  return i === msg.length ? status : undefined;
}

function readVarint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < b.length && shift < 35; i++) {
    const byte = b[i]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}
