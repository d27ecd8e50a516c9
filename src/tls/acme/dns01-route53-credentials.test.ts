/**
 * Where the route53 provider's credentials come from besides AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, as lego's createAWSConfig gets them from the AWS SDK: the default chain
 * (here the ECS provider's resolveCredentials, which main.ts hands to the provider: a shared
 * credentials file's profile), and AWS_ASSUME_ROLE_ARN (STS AssumeRole signed with the base
 * credentials, the role's session then signing Route 53's calls). The doubles check every
 * signature against the credentials they expect.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { resolveCredentials } from '../../providers/ecs/aws-client.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeRoute53 } from './test-fake-route53.ts';
import { startFakeSts } from './test-fake-sts.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'route53', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const VALUE = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const ZONES = [{ id: 'Z1', name: 'example.com' }];

const build = (env: Record<string, string>) =>
  dnsProviderFor(CHALLENGE, env, {
    zones: zoneLocator('example.com.'),
    scheduler: new ImmediateScheduler(),
    awsCredentials: (e, signal) => resolveCredentials('', '', e, signal),
  });

describe('route53 credentials from the AWS default chain and AWS_ASSUME_ROLE_ARN', () => {
  const backend = new MemoryBackend();
  let dir: string;
  let credentialsFile: string;
  const apis: FakeApi[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'r53-creds-'));
    credentialsFile = join(dir, 'credentials');
    writeFileSync(
      credentialsFile,
      '[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\n[dns]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\naws_session_token = profile-token\n',
    );
  });
  after(async () => {
    for (const a of apis) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs with the shared credentials file's AWS_PROFILE when no keys are set", async () => {
    const r53 = await startFakeRoute53({
      accessKeyId: 'AKIAPROFILE',
      secretAccessKey: 'profile-secret',
      sessionToken: 'profile-token',
      zones: ZONES,
      backend,
    });
    apis.push(r53);
    const p = build({
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_PROFILE: 'dns',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_ROUTE_53: r53.url,
    });
    await p.present(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), [VALUE]);
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), []);
  });

  it('assumes AWS_ASSUME_ROLE_ARN (with AWS_EXTERNAL_ID) once, then signs with the role session', async () => {
    const roleArn = 'arn:aws:iam::123456789012:role/dns-01';
    const sts = await startFakeSts({
      accessKeyId: 'AKIABASE',
      secretAccessKey: 'base-secret',
      region: 'eu-west-3',
      roleArn,
      externalId: 'ext-42',
      issued: { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role/token+=' },
    });
    const r53 = await startFakeRoute53({
      accessKeyId: 'ASIAROLE',
      secretAccessKey: 'role-secret',
      sessionToken: 'role/token+=',
      zones: ZONES,
      backend,
    });
    apis.push(sts, r53);
    const p = build({
      AWS_ACCESS_KEY_ID: 'AKIABASE',
      AWS_SECRET_ACCESS_KEY: 'base-secret',
      AWS_REGION: 'eu-west-3',
      AWS_ASSUME_ROLE_ARN: roleArn,
      AWS_EXTERNAL_ID: 'ext-42',
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ENDPOINT_URL_ROUTE_53: r53.url,
    });
    await p.present(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), [VALUE]);
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), []);
    // The session lasts 15 minutes: one AssumeRole for both changes.
    assert.equal(sts.calls.length, 1);
    const form = new URLSearchParams(sts.calls[0]!.body);
    assert.deepEqual([...form.keys()].sort(), [
      'Action',
      'DurationSeconds',
      'ExternalId',
      'RoleArn',
      'RoleSessionName',
      'Version',
    ]);
    assert.equal(form.get('DurationSeconds'), '900');
    assert.match(form.get('RoleSessionName') ?? '', /^aws-go-sdk-\d+$/);
  });

  it("fails with STS's refusal when the role cannot be assumed", async () => {
    const sts = await startFakeSts({
      accessKeyId: 'AKIABASE',
      secretAccessKey: 'base-secret',
      region: 'us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/other',
      issued: { accessKeyId: 'x', secretAccessKey: 'y', sessionToken: 'z' },
    });
    apis.push(sts);
    const p = build({
      AWS_ACCESS_KEY_ID: 'AKIABASE',
      AWS_SECRET_ACCESS_KEY: 'base-secret',
      AWS_ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/dns-01',
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ENDPOINT_URL_ROUTE_53: 'http://127.0.0.1:9',
    });
    await assert.rejects(
      p.present(RECORD, VALUE),
      /^DnsApiError: route53: POST http:\/\/127\.0\.0\.1:\d+\/ answered 403: AccessDenied: User is not authorized/,
    );
  });

  it('fails naming the chain when no source has credentials', async () => {
    const p = build({
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'missing'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_ROUTE_53: 'http://127.0.0.1:9',
    });
    await assert.rejects(
      p.present(RECORD, VALUE),
      /^Error: route53: no AWS credentials: .*no AWS credentials found/,
    );
  });
});
