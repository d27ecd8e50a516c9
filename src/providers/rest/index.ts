export { type RestAnswer, RestProvider } from './rest-provider.ts';
