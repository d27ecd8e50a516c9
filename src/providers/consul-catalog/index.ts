export { ConsulCatalogProvider } from './catalog-provider.ts';
