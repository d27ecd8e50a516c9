export { compileRe2, type Re2Options, type Re2Result } from './translate.ts';
