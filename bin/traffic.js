#!/usr/bin/env node
// The `traffic` command: Node 24 only; runs the build (dist/) or, without one, the sources.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `traffic needs Node 24 LTS (this is ${process.versions.node} at ${process.execPath}). Install Node 24 ` +
      '(docs/operations.md), or in a clone of the repository run `npm ci`, then `npx traffic`.',
  );
  process.exit(1);
}

// The built JavaScript when present (`npm run build`; the published package always has it), else
// the sources through type stripping (a clone before its first build; Node strips no types inside
// node_modules, which is why the package ships dist/).
import { existsSync } from 'node:fs';

const built = existsSync(new URL('../dist/main.js', import.meta.url));
// Maglev and TurboFan stay off while the ~400 modules load; main() turns them on again before it
// reads any configuration. Optimizing the loader's functions would leave ~7 MB of the compilers'
// code resident in an idle proxy (src/core/start-compilers.ts, docs/performance.md).
// A dist/ built before this module existed has none: it then starts as before.
const compilers = await import(
  built ? '../dist/core/start-compilers.js' : '../src/core/start-compilers.ts'
).catch(() => null);
compilers?.pauseOptimizingCompilers();
// zod's 63 locales other than English are never read here: they stay unloaded (core/zod-locales.ts).
// The proxy itself loads no zod (config-process/); `traffic validate` and the providers that
// validate in this process (Docker, Kubernetes, …) do.
const locales = await import(built ? '../dist/core/zod-locales.js' : '../src/core/zod-locales.ts').catch(
  () => null,
);
locales?.englishOnlyZodLocales();
await import(built ? '../dist/main.js' : '../src/main.ts');
