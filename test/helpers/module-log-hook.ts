/**
 * Preloaded into a proxy (`node --import THIS`): appends the URL of every module the process
 * resolves, by `import` or `require`, to the file named by TM_MODULE_LOG, one per line. Tests
 * read it to see which modules a configuration made the proxy load.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env['TM_MODULE_LOG'];
if (out !== undefined && out !== '') {
  registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      appendFileSync(out, `${r.url}\n`);
      return r;
    },
  });
}
