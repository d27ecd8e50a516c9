/**
 * A test double of AWS STS's AssumeRole (Query protocol, https://docs.aws.amazon.com/STS/latest/
 * APIReference/API_AssumeRole.html): a form POST signed with SigV4 (service `sts`) by the base
 * credentials, `Action=AssumeRole&RoleArn=…&RoleSessionName=…&Version=2011-06-15`, answered with
 * the role's temporary credentials in `AssumeRoleResponse/AssumeRoleResult/Credentials`.
 */
import { escapeXml } from './route53-xml.ts';
import type { FakeApi } from './test-fake-dns-api.ts';
import { startFakeApi } from './test-fake-dns-api.ts';
import { sigV4Problem } from './test-fake-route53.ts';

export interface FakeStsOptions {
  /** The base credentials that may assume roles. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region: string;
  readonly roleArn: string;
  /** Required when set (a role's trust policy with sts:ExternalId). */
  readonly externalId?: string;
  /** What the role's session gets. */
  readonly issued: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
}

export function startFakeSts(opts: FakeStsOptions): Promise<FakeApi> {
  const fail = (status: number, code: string, message: string) => ({
    status,
    contentType: 'text/xml',
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
  });
  return startFakeApi((call) => {
    const why = sigV4Problem(call, { ...opts, service: 'sts' });
    if (why !== undefined) return fail(403, why.code, why.message);
    if (call.method !== 'POST' || call.path !== '/') return fail(404, 'NotFound', 'no such route');
    if (!String(call.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return fail(400, 'InvalidParameterValue', 'a form is expected');
    const form = new URLSearchParams(call.body);
    if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15')
      return fail(400, 'InvalidAction', 'Could not find operation');
    if (!/^[\w+=,.@-]{2,64}$/.test(form.get('RoleSessionName') ?? ''))
      return fail(400, 'ValidationError', 'RoleSessionName is invalid');
    if (
      form.get('RoleArn') !== opts.roleArn ||
      (opts.externalId !== undefined && form.get('ExternalId') !== opts.externalId)
    )
      return fail(
        403,
        'AccessDenied',
        `User is not authorized to perform: sts:AssumeRole on resource: ${form.get('RoleArn')}`,
      );
    const expires = new Date(Date.now() + Number(form.get('DurationSeconds') ?? 3600) * 1000).toISOString();
    return {
      status: 200,
      contentType: 'text/xml',
      body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${opts.issued.accessKeyId}</AccessKeyId><SecretAccessKey>${opts.issued.secretAccessKey}</SecretAccessKey><SessionToken>${escapeXml(opts.issued.sessionToken)}</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><Arn>${opts.roleArn}/${form.get('RoleSessionName')}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    };
  });
}
