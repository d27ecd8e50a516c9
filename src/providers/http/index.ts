export { HttpProvider } from './http-provider.ts';
