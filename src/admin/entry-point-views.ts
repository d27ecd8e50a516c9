/**
 * `/api/entrypoints[/{name}]` as Traefik answers them (pkg/api/handler_entrypoint.go
 * entryPointRepresentation: the static `*static.EntryPoint` with `name` beside it), built from our
 * static configuration: Traefik's fields only (pkg/config/static/entrypoints.go, with the v3.6
 * to v3.8 additions we read: `encodedCharacters`, `aliasHeadersStrategy`, `forwardedHeaders`
 * `connection`, `notAppendXForwardedFor`, `addXForwardedSchemeHeaders`), as Go's encoding/json
 * writes them: `omitempty` leaves out false, 0, '' and empty lists but keeps a set pointer (an
 * empty `forwardedHeaders: {}`, a `*bool` that is false), durations are Go's Duration strings
 * (`1m0s`). The values are the ones in force here, defaults included (ours where they differ
 * from Traefik's, such as `http.maxHeaderBytes`); our own fields (`serverFirstTimeout`,
 * `maxConnections`, `allowTrace`…) are not shown.
 */

import type { EntryPointConfig } from '../config/static/schema.ts';
import { durationString } from '../core/go-duration.ts';
import { redirectionPriority } from './internal-views.ts';

type Json = Record<string, unknown>;

/** Go's time.Duration String() of `ms` milliseconds (`0s`, `1.5ms`, `10s`, `1m0s`, `1h2m3s`). */
export function goDuration(ms: number): string {
  return durationString(BigInt(Math.round(ms * 1e6)));
}

/** Go's omitempty: the fields whose value is not false, 0, '', an empty list or undefined. */
function omitEmpty(fields: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === false || v === 0 || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

const duration = (ms: number | undefined): string | undefined =>
  ms === undefined || ms === 0 ? undefined : goDuration(ms);

/** Traefik's JSON of one entry point (without `name`). */
export function traefikEntryPoint(ep: EntryPointConfig): Json {
  const t = ep.transport;
  const fh = ep.forwardedHeaders;
  const http = ep.http;
  const redirect = http.redirections?.entryPoint;
  const tls = http.tls;
  const enc = http.encodedCharacters;
  const obs = ep.observability;
  return omitEmpty({
    address: typeof ep.address === 'string' ? ep.address : String(ep.address),
    allowACMEByPass: ep.allowACMEByPass,
    reusePort: ep.reusePort,
    asDefault: ep.asDefault,
    transport: omitEmpty({
      lifeCycle: omitEmpty({
        requestAcceptGraceTimeout: duration(t.lifeCycle.requestAcceptGraceTimeout),
        graceTimeOut: duration(t.lifeCycle.graceTimeOut),
      }),
      respondingTimeouts: omitEmpty({
        readTimeout: duration(t.respondingTimeouts.readTimeout),
        writeTimeout: duration(t.respondingTimeouts.writeTimeout),
        idleTimeout: duration(t.respondingTimeouts.idleTimeout),
      }),
      keepAliveMaxTime: duration(t.keepAliveMaxTime),
      keepAliveMaxRequests: t.keepAliveMaxRequests,
    }),
    proxyProtocol:
      ep.proxyProtocol === undefined
        ? undefined
        : omitEmpty({ insecure: ep.proxyProtocol.insecure, trustedIPs: ep.proxyProtocol.trustedIPs }),
    forwardedHeaders: omitEmpty({
      insecure: fh.insecure,
      trustedIPs: fh.trustedIPs,
      connection: fh.connection,
      notAppendXForwardedFor: fh.notAppendXForwardedFor,
      addXForwardedSchemeHeaders: fh.addXForwardedSchemeHeaders,
    }),
    // A struct, not a pointer, in Traefik: never left out.
    http: {
      ...omitEmpty({
        redirections:
          http.redirections === undefined
            ? undefined
            : omitEmpty({
                entryPoint:
                  redirect === undefined
                    ? undefined
                    : omitEmpty({
                        to: redirect.to,
                        scheme: redirect.scheme,
                        permanent: redirect.permanent,
                        priority: redirectionPriority(redirect.priority),
                      }),
              }),
        middlewares: http.middlewares,
        tls:
          tls === undefined
            ? undefined
            : omitEmpty({
                options: tls.options,
                certResolver: tls.certResolver,
                domains: tls.domains.map((d) => omitEmpty({ main: d.main, sans: d.sans })),
              }),
        encodeQuerySemicolons: http.encodeQuerySemicolons,
      }),
      // `*bool`: shown false too.
      sanitizePath: http.sanitizePath,
      ...omitEmpty({
        maxHeaderBytes: http.maxHeaderBytes,
        encodedCharacters: omitEmpty({ ...enc }),
        aliasHeadersStrategy: http.aliasHeadersStrategy,
        underscoreHeadersStrategy: http.underscoreHeadersStrategy,
      }),
    },
    http2: omitEmpty({ ...ep.http2 }),
    udp: omitEmpty({ timeout: duration(ep.udp.timeout) }),
    // Traefik's SetDefaults when the section is written: what is not set is on, `minimal`.
    observability:
      obs === undefined
        ? undefined
        : {
            accessLogs: obs.accessLogs ?? true,
            metrics: obs.metrics ?? true,
            tracing: obs.tracing ?? true,
            traceVerbosity: obs.traceVerbosity ?? 'minimal',
          },
  });
}
