export { ConsulStore } from './consul-store.ts';
