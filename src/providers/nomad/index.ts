export { NomadProvider } from './nomad-provider.ts';
