export { headersFactory } from './headers.ts';
