#!/usr/bin/env node
// The `traffic` command: Node 24 only; runs the build (dist/) or, without one, the sources.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `traffic needs Node 24 LTS (this is ${process.versions.node}); run it via \`npx traffic\` after \`npm ci\`.`,
  );
  process.exit(1);
}

// The built JavaScript when present (`npm run build`), else the sources through type stripping.
import { existsSync } from 'node:fs';

await import(existsSync(new URL('../dist/main.js', import.meta.url)) ? '../dist/main.js' : '../src/main.ts');
