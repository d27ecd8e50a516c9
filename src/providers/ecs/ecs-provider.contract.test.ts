import { startFakeAws } from '../../../test/helpers/fake-aws.ts';
import { ecsProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { EcsProvider } from './ecs-provider.ts';

providerContract(
  'ecs (a fake AWS API on loopback, polling every second)',
  async () => {
    const aws = await startFakeAws({ accessKeyId: 'AKIDTEST', secret: 's' });
    const cfg = ecsProviderSchema.parse({
      region: 'us-east-1',
      accessKeyID: 'AKIDTEST',
      secretAccessKey: 's',
      refreshSeconds: 1,
    });
    const env = { AWS_ENDPOINT_URL: aws.address };
    return {
      provider: () => new EcsProvider(cfg, {}, env),
      put: async (name) =>
        aws.putTask({
          id: `task-${name}`,
          group: `service:${name}`,
          mode: 'awsvpc',
          ip: '127.0.0.1',
          containers: [
            {
              name: 'c',
              containerPort: 9,
              hostPort: 9,
              labels: { [`traefik.http.routers.${name}.rule`]: `PathPrefix(\`/${name}\`)` },
            },
          ],
        }),
      remove: async (name) => aws.removeTask(`task-${name}`),
      stop: aws.stop,
      start: aws.start,
      close: aws.close,
    };
  },
  { updateTimeoutMs: 10_000 },
);
