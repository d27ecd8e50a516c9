export { EcsProvider } from './ecs-provider.ts';
