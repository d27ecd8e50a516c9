export { compileRe2, goErrorSuffix, type Re2Options, type Re2Result } from './translate.ts';
