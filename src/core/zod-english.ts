/**
 * What `zod`'s `locales` namespace holds in the `traffic` command: English only
 * (`core/zod-locales.ts`). Our configuration errors are written in English by our own code; zod's
 * English messages are its default and are imported by zod directly, not through this namespace.
 */
export { default as en } from 'zod/v4/locales/en.js';
