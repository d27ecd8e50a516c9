export { EtcdStore } from './etcd-store.ts';
