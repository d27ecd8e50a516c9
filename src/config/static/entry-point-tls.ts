import { z } from 'zod';
import { optionalName, tlsDomain } from '../dynamic/tls.ts';
import type { ConfigPath } from '../issues.ts';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';

/*
 * `entryPoints.<name>.http.tls` and `entryPoints.<name>.http.redirections`, with Traefik v3's keys
 * (pkg/config/static/entrypoints.go).
 */

/** TLS for every router of the entry point; a router's own `tls` block wins key by key. */
export const entryPointTls = strictObject({
  /** A name in the dynamic `tls.options`; absent = `default`. */
  options: z.string().min(1).optional(),
  certResolver: optionalName,
  domains: z.array(tlsDomain).default([]),
});

import { REDIRECTION_PRIORITY } from './redirection-priority.ts';

export { REDIRECTION_PRIORITY } from './redirection-priority.ts';
export { tlsEntryPoints } from './tls-entry-points.ts';

const PORT_TARGET = /^:(\d{1,5})$/;

const redirectTarget = z.string().superRefine((v, ctx) => {
  const m = PORT_TARGET.exec(v);
  const port = m === null ? -1 : Number(m[1]);
  if (m !== null && port >= 1 && port <= 65_535) return;
  if (m === null && /^[^\s:/]+$/.test(v)) return;
  ctx.addIssue({
    code: 'custom',
    message: `invalid redirection target "${v}"`,
    params: { expected: 'an entry point name (websecure) or a port (:443)' },
  });
});

const redirectEntryPoint = strictObject({
  /** An entry point name, or `:port`. */
  to: redirectTarget,
  scheme: z
    .string()
    .refine((v) => /^[a-z][a-z0-9+.-]*$/i.test(v), 'must be a URL scheme such as https')
    .default('https'),
  /** 308 when true, 307 when false (the method is kept either way). */
  permanent: z.boolean().default(true),
  /** Priority of the generated catch-all router: above any rule's length by default. */
  priority: z.number().int().default(REDIRECTION_PRIORITY),
});

export const entryPointRedirections = strictObject({
  entryPoint: nullAsEmpty(redirectEntryPoint).optional(),
});

export type EntryPointTlsConfig = z.output<typeof entryPointTls>;
export type EntryPointRedirectionsConfig = z.output<typeof entryPointRedirections>;
export type RedirectEntryPointConfig = NonNullable<EntryPointRedirectionsConfig['entryPoint']>;

/**
 * Cross-check of redirections against the entry point names (the schema sees one entry point at a
 * time): `to` must name another entry point, or be a port. `path` is from the static root.
 */
export function redirectionIssues(
  entryPoints: Readonly<
    Record<string, { readonly http?: { readonly redirections?: EntryPointRedirectionsConfig } }>
  >,
): { path: ConfigPath; message: string }[] {
  const out: { path: ConfigPath; message: string }[] = [];
  for (const [name, ep] of Object.entries(entryPoints)) {
    const to = ep.http?.redirections?.entryPoint?.to;
    if (to === undefined || PORT_TARGET.test(to)) continue;
    const path = ['entryPoints', name, 'http', 'redirections', 'entryPoint', 'to'];
    if (to === name) out.push({ path, message: `entry point \`${name}\` cannot redirect to itself` });
    else if (!Object.hasOwn(entryPoints, to)) out.push({ path, message: `unknown entry point \`${to}\`` });
  }
  return out;
}
