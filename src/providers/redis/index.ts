export { RedisStore } from './redis-store.ts';
