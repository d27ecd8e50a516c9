/**
 * The ECS provider against a fake AWS API on loopback (test/helpers/fake-aws.ts): the calls of
 * Traefik's listInstances (ListTasks paged, DescribeTasks, DescribeTaskDefinition once per task,
 * DescribeContainerInstances and EC2 DescribeInstances for bridge tasks), SigV4-signed, with the
 * SDK's credential chain and endpoint variables.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listenLoopback } from '../../../test/helpers/fake-api.ts';
import { type FakeAws, startFakeAws } from '../../../test/helpers/fake-aws.ts';
import { ecsProviderSchema } from '../../config/static/providers.ts';
import type { ProviderUpdate } from '../provider.ts';
import { resolveCredentials, resolveRegion, serviceEndpoint } from './aws-client.ts';
import { EcsProvider } from './ecs-provider.ts';

const KEY = { accessKeyId: 'AKIDTEST', secret: 'sekrit/KEY' };

async function first(p: EcsProvider): Promise<ProviderUpdate> {
  const ctl = new AbortController();
  const it = p.watch(ctl.signal)[Symbol.asyncIterator]();
  try {
    const r = await it.next();
    assert.ok(!r.done);
    return r.value;
  } finally {
    ctl.abort();
    await it.return?.();
  }
}

function urls(u: ProviderUpdate): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(u.config?.http.services ?? {})) {
    if (s.kind === 'loadBalancer') out[name] = s.loadBalancer.servers.map((x) => x.url);
  }
  return out;
}

function tasks(aws: FakeAws): void {
  aws.putTask({
    id: 'aaaaaaaaaaaa0001',
    group: 'service:web',
    mode: 'awsvpc',
    ip: '127.0.0.10',
    containers: [
      {
        name: 'nginx',
        containerPort: 80,
        hostPort: 80,
        labels: { 'traefik.http.routers.web.rule': 'Path(`/web`)' },
      },
    ],
  });
  aws.putTask({
    id: 'aaaaaaaaaaaa0002',
    group: 'service:web',
    mode: 'awsvpc',
    ip: '127.0.0.11',
    containers: [
      {
        name: 'nginx',
        containerPort: 80,
        hostPort: 80,
        labels: { 'traefik.http.routers.web.rule': 'Path(`/web`)' },
      },
    ],
  });
  aws.putTask({
    id: 'bbbbbbbbbbbb0003',
    group: 'service:api',
    mode: 'bridge',
    ip: '127.0.0.20',
    ec2InstanceId: 'i-0123456789abcdef0',
    containers: [{ name: 'app', containerPort: 8080, hostPort: 32_771 }],
  });
}

describe('ECS provider (ecs.go listInstances)', () => {
  it('reads awsvpc tasks (ENI IP, container port) and bridge tasks (EC2 private IP, host port), signed', async (t) => {
    const aws = await startFakeAws(KEY);
    t.after(() => aws.close());
    aws.pageSize = 2;
    tasks(aws);
    const env = { AWS_ENDPOINT_URL: aws.address };
    const cfg = ecsProviderSchema.parse({
      region: 'eu-west-3',
      accessKeyID: KEY.accessKeyId,
      secretAccessKey: KEY.secret,
    });
    const p = new EcsProvider(cfg, {}, env);
    const u = await first(p);
    assert.deepEqual(u.issues, []);
    assert.deepEqual(urls(u), {
      'service-web-nginx': ['http://127.0.0.10:80', 'http://127.0.0.11:80'],
      'service-api-app': ['http://127.0.0.20:32771'],
    });
    assert.equal(u.config?.http.routers['web']?.rule, 'Path(`/web`)');
    assert.equal(u.config?.http.routers['service-api-app']?.rule, 'Host(`service-api-app`)');
    assert.deepEqual(
      aws.seen.map((s) => `${s.service}:${s.action}`),
      [
        'ecs:ListTasks',
        'ecs:DescribeTasks',
        'ecs:ListTasks',
        'ecs:DescribeTasks',
        'ecs:DescribeContainerInstances',
        'ec2:DescribeInstances',
        'ecs:DescribeTaskDefinition',
        'ecs:DescribeTaskDefinition',
        'ecs:DescribeTaskDefinition',
      ],
    );
    assert.ok(aws.seen.every((s) => s.region === 'eu-west-3'));
    // Task definitions are cached by task (Traefik's existingTaskDefCache).
    aws.seen.length = 0;
    await first(p);
    assert.ok(!aws.seen.some((s) => s.action === 'DescribeTaskDefinition'), JSON.stringify(aws.seen));
  });

  it('leaves out a task whose EC2 instance is not running; healthyTasksOnly; exposedByDefault', async (t) => {
    const aws = await startFakeAws(KEY);
    t.after(() => aws.close());
    tasks(aws);
    aws.setInstanceState('i-0123456789abcdef0', 'stopping');
    aws.putTask({
      id: 'cccccccccccc0004',
      group: 'service:sick',
      mode: 'awsvpc',
      ip: '127.0.0.30',
      healthStatus: 'UNKNOWN',
      containers: [{ name: 'x', containerPort: 80, hostPort: 80, labels: { 'traefik.enable': 'true' } }],
    });
    const env = {
      AWS_ENDPOINT_URL: aws.address,
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secret,
    };
    const base = { region: 'us-east-1' };
    const all = await first(new EcsProvider(ecsProviderSchema.parse(base), {}, env));
    assert.deepEqual(Object.keys(urls(all)).sort(), ['service-sick-x', 'service-web-nginx']);
    const healthy = await first(
      new EcsProvider(ecsProviderSchema.parse({ ...base, healthyTasksOnly: true }), {}, env),
    );
    assert.deepEqual(Object.keys(urls(healthy)), []);
    const enabled = await first(
      new EcsProvider(ecsProviderSchema.parse({ ...base, exposedByDefault: false }), {}, env),
    );
    assert.deepEqual(Object.keys(urls(enabled)), ['service-sick-x']);
  });

  it('clusters: only those listed; autoDiscoverClusters: every cluster of ListClusters', async (t) => {
    const aws = await startFakeAws(KEY);
    t.after(() => aws.close());
    tasks(aws);
    aws.putTask({
      id: 'dddddddddddd0005',
      cluster: 'prod',
      group: 'service:other',
      mode: 'awsvpc',
      ip: '127.0.0.40',
      containers: [{ name: 'o', containerPort: 81, hostPort: 81 }],
    });
    const env = {
      AWS_ENDPOINT_URL_ECS: aws.address,
      AWS_ENDPOINT_URL_EC2: aws.address,
      AWS_REGION: 'us-east-2',
    };
    const keys = { accessKeyID: KEY.accessKeyId, secretAccessKey: KEY.secret };
    const prod = await first(
      new EcsProvider(ecsProviderSchema.parse({ ...keys, clusters: ['prod'] }), {}, env),
    );
    assert.deepEqual(urls(prod), { 'service-other-o': ['http://127.0.0.40:81'] });
    const every = await first(
      new EcsProvider(ecsProviderSchema.parse({ ...keys, autoDiscoverClusters: true }), {}, env),
    );
    assert.deepEqual(Object.keys(urls(every)).sort(), [
      'service-api-app',
      'service-other-o',
      'service-web-nginx',
    ]);
    assert.ok(aws.seen.some((s) => s.action === 'ListClusters' && s.region === 'us-east-2'));
  });

  it('ecsAnywhere: a task on an external instance (mi-) at its SSM IP address, with its task status', async (t) => {
    const aws = await startFakeAws(KEY);
    t.after(() => aws.close());
    aws.putTask({
      id: 'eeeeeeeeeeee0006',
      group: 'service:edge',
      mode: 'bridge',
      ip: '127.0.0.50',
      ec2InstanceId: 'mi-0123456789abcdef0',
      containers: [{ name: 'e', containerPort: 80, hostPort: 8081 }],
    });
    const env = { AWS_ENDPOINT_URL: aws.address };
    const keys = { region: 'us-east-1', accessKeyID: KEY.accessKeyId, secretAccessKey: KEY.secret };
    const off = await first(new EcsProvider(ecsProviderSchema.parse(keys), {}, env));
    assert.deepEqual(urls(off), {});
    assert.ok(
      !aws.seen.some((s) => s.service === 'ssm' || s.action === 'DescribeInstances'),
      JSON.stringify(aws.seen),
    );
    const on = await first(new EcsProvider(ecsProviderSchema.parse({ ...keys, ecsAnywhere: true }), {}, env));
    assert.deepEqual(urls(on), { 'service-edge-e': ['http://127.0.0.50:8081'] });
    assert.ok(aws.seen.some((s) => s.service === 'ssm' && s.action === 'DescribeInstanceInformation'));
  });

  it('fails (the supervisor retries) on a refused signature', async (t) => {
    const aws = await startFakeAws(KEY);
    t.after(() => aws.close());
    const env = { AWS_ENDPOINT_URL: aws.address };
    const cfg = ecsProviderSchema.parse({
      region: 'us-east-1',
      accessKeyID: KEY.accessKeyId,
      secretAccessKey: 'wrong',
    });
    await assert.rejects(first(new EcsProvider(cfg, {}, env)), /status 403.*signature does not match/);
  });
});

describe('AWS endpoints and credentials (the SDK defaults Traefik relies on)', () => {
  it('https://<service>.<region>.amazonaws.com unless AWS_ENDPOINT_URL[_<SERVICE>]', () => {
    assert.equal(serviceEndpoint('ecs', 'eu-west-1', {}), 'https://ecs.eu-west-1.amazonaws.com');
    assert.equal(
      serviceEndpoint('ec2', 'eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:9/' }),
      'http://127.0.0.1:9',
    );
    assert.equal(
      serviceEndpoint('ecs', 'eu-west-1', { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_ECS: 'http://b' }),
      'http://b',
    );
  });

  it('the keys of the configuration (both), else the environment, else the container credentials', async (t) => {
    const never = new AbortController().signal;
    assert.deepEqual(await resolveCredentials('A', 'B', { AWS_ACCESS_KEY_ID: 'E' }, never), {
      accessKeyId: 'A',
      secretAccessKey: 'B',
    });
    assert.deepEqual(
      await resolveCredentials(
        'A',
        '',
        { AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'S', AWS_SESSION_TOKEN: 'T' },
        never,
      ),
      { accessKeyId: 'E', secretAccessKey: 'S', sessionToken: 'T' },
    );
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers['authorization']}`);
      res.end(
        JSON.stringify({
          AccessKeyId: 'C',
          SecretAccessKey: 'D',
          Token: 'tok',
          Expiration: '2099-01-01T00:00:00Z',
        }),
      );
    });
    const l = await listenLoopback(server);
    t.after(() => l.close());
    const c = await resolveCredentials(
      '',
      '',
      {
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${l.port}/creds`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer x',
      },
      never,
    );
    assert.deepEqual(c, {
      accessKeyId: 'C',
      secretAccessKey: 'D',
      sessionToken: 'tok',
      expires: Date.parse('2099-01-01T00:00:00Z'),
    });
    assert.deepEqual(seen, ['/creds Bearer x']);
  });

  it('the shared credentials file: the profile AWS_PROFILE, else default', async () => {
    const never = new AbortController().signal;
    const file = join(mkdtempSync(join(tmpdir(), 'ecs-creds-')), 'credentials');
    writeFileSync(
      file,
      '[default]\naws_access_key_id = D1\naws_secret_access_key = D2\n\n[work]\naws_access_key_id=W1\naws_secret_access_key=W2\naws_session_token=W3\n',
    );
    assert.deepEqual(await resolveCredentials('', '', { AWS_SHARED_CREDENTIALS_FILE: file }, never), {
      accessKeyId: 'D1',
      secretAccessKey: 'D2',
    });
    assert.deepEqual(
      await resolveCredentials('', '', { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'work' }, never),
      { accessKeyId: 'W1', secretAccessKey: 'W2', sessionToken: 'W3' },
    );
  });

  it('the EC2 instance metadata (IMDSv2): the region, and the instance role credentials', async (t) => {
    const never = new AbortController().signal;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('imds-token');
      if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-token') return void res.writeHead(401).end();
      const answers: Record<string, string> = {
        '/latest/meta-data/placement/region': 'ap-south-1',
        '/latest/meta-data/iam/security-credentials/': 'traefik-role',
        '/latest/meta-data/iam/security-credentials/traefik-role': JSON.stringify({
          Code: 'Success',
          AccessKeyId: 'I1',
          SecretAccessKey: 'I2',
          Token: 'I3',
          Expiration: '2099-01-01T00:00:00Z',
        }),
      };
      const a = answers[req.url ?? ''];
      if (a === undefined) return void res.writeHead(404).end();
      res.end(a);
    });
    const l = await listenLoopback(server);
    t.after(() => l.close());
    const env = {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${l.port}`,
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
    };
    assert.equal(await resolveRegion('', env, never), 'ap-south-1');
    assert.equal(await resolveRegion('', { ...env, AWS_REGION: 'eu-west-1' }, never), 'eu-west-1');
    assert.equal(await resolveRegion('us-west-2', { ...env, AWS_REGION: 'eu-west-1' }, never), 'us-west-2');
    const cfgFile = join(mkdtempSync(join(tmpdir(), 'ecs-cfg-')), 'config');
    writeFileSync(cfgFile, '[default]\nregion = ca-central-1\n[profile work]\nregion = sa-east-1\n');
    assert.equal(await resolveRegion('', { ...env, AWS_CONFIG_FILE: cfgFile }, never), 'ca-central-1');
    assert.equal(
      await resolveRegion('', { ...env, AWS_CONFIG_FILE: cfgFile, AWS_PROFILE: 'work' }, never),
      'sa-east-1',
    );
    const c = await resolveCredentials('', '', env, never);
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], ['I1', 'I2', 'I3']);
    assert.ok(seen.includes('PUT /latest/api/token'));
    await assert.rejects(
      resolveRegion('', { ...env, AWS_EC2_METADATA_DISABLED: 'true' }, never),
      /no AWS region/,
    );
  });

  it('web identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE through STS AssumeRoleWithWebIdentity', async (t) => {
    const never = new AbortController().signal;
    const dir = mkdtempSync(join(tmpdir(), 'ecs-wi-'));
    writeFileSync(join(dir, 'token'), 'jwt-token\n');
    const forms: URLSearchParams[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        res.end(
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>x</SubjectFromWebIdentityToken><Credentials><SessionToken>S3</SessionToken><SecretAccessKey>S2</SecretAccessKey><Expiration>2099-01-01T00:00:00Z</Expiration><AccessKeyId>S1</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>',
        );
      });
    });
    const l = await listenLoopback(server);
    t.after(() => l.close());
    const env = {
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/traefik',
      AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'token'),
      AWS_ROLE_SESSION_NAME: 'traefik',
      AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${l.port}`,
    };
    const c = await resolveCredentials('', '', env, never, 'eu-west-1');
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], ['S1', 'S2', 'S3']);
    assert.deepEqual(Object.fromEntries(forms[0]!), {
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: env.AWS_ROLE_ARN,
      RoleSessionName: 'traefik',
      WebIdentityToken: 'jwt-token',
    });
    assert.equal(serviceEndpoint('sts', 'eu-west-1', {}), 'https://sts.eu-west-1.amazonaws.com');
  });
});
