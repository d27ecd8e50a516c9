export { ZooKeeperStore } from './zk-store.ts';
