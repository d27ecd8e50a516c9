import { loadStaticConfig } from './src/config/index.ts';
const t0 = performance.now();
const r = loadStaticConfig({ file: '/tmp/hp-hang.yml', argv: [], env: {} });
console.log('load ms', Math.round(performance.now() - t0), r.issues.length);
