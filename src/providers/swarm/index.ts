export { SwarmProvider } from './swarm-provider.ts';
