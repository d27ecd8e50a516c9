export { b64, EtcdStore, etcdHint, prefixEnd, unb64 } from './etcd-store.ts';
