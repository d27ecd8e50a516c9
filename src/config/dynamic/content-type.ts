import { z } from 'zod';
import { strictObject } from '../schema-helpers.ts';

/**
 * Traefik v3's contentType middleware: its presence turns Content-Type detection on for the
 * responses that lack one. `autoDetect` is deprecated (a warning): false disables the middleware.
 */
export const ContentTypeSchema = strictObject({ autoDetect: z.boolean().optional() }, [], {
  deprecated: {
    autoDetect: 'the contentType middleware is only meant to turn detection on; remove the option',
  },
});

export type ContentTypeConfig = z.output<typeof ContentTypeSchema>;
