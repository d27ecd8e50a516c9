import type { Plugin } from 'traffic-management/plugin';
import { z } from 'zod';

/*
 * The plugin twin of bench-headers.yaml's `headers` middleware (a request header and a response
 * header), for `npm run bench -- --variant plugin=bench/configs/bench-plugin.yaml`: what the
 * plugin guard costs per request beside a built-in middleware doing the same.
 */

const schema = z.strictObject({
  request: z.record(z.string(), z.string()).default({}),
  response: z.record(z.string(), z.string()).default({}),
});

export const plugin: Plugin<z.output<typeof schema>> = {
  schema,
  create(options) {
    const req = Object.entries(options.request);
    const res = Object.entries(options.response);
    return {
      onRequest(r) {
        for (const [k, v] of req) r.headers.set(k, v);
        return undefined;
      },
      onResponse(_r, s) {
        for (const [k, v] of res) s.headers.set(k, v);
      },
    };
  },
};
