export { EtcdStore, etcdHint } from './etcd-store.ts';
