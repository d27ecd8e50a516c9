import { z } from 'zod';
import { strictObject } from '../schema-helpers.ts';

/** Traefik's ClientTLS (forwardAuth, Redis): each of ca, cert and key is a file path or the PEM text. */
export const clientTls = strictObject(
  {
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
    /** Deprecated in Traefik v3 (a server-side setting); read and ignored, with a warning. */
    caOptional: z.boolean().optional(),
  },
  [],
  { deprecated: { caOptional: 'TLS client authentication is a server-side option; remove it' } },
).superRefine((v, ctx) => {
  if ((v.cert === undefined) !== (v.key === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: 'cert and key go together',
      path: [v.cert === undefined ? 'cert' : 'key'],
    });
  }
});
export type ClientTlsConfig = z.output<typeof clientTls>;
