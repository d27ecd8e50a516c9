export { DockerProvider } from './docker-provider.ts';
