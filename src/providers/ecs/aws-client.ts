import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EngineError, engineFetch } from '../engine-client.ts';
import { type AwsCredentials, amzDate, sha256Hex, signV4 } from './sigv4.ts';

type Env = Readonly<Record<string, string | undefined>>;

function set(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * The endpoint of a service: the SDK's environment variables AWS_ENDPOINT_URL_<SERVICE> then
 * AWS_ENDPOINT_URL (read by the AWS SDK for Go v2 that Traefik's provider is built on; Traefik
 * has no key of its own), else `https://<service>.<region>.amazonaws.com`.
 */
export function serviceEndpoint(
  service: 'ecs' | 'ec2' | 'ssm' | 'sts',
  region: string,
  env: Env = process.env,
): string {
  const ignore = (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] ?? '').toLowerCase() === 'true';
  const own = ignore
    ? undefined
    : (set(env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`]) ?? set(env['AWS_ENDPOINT_URL']));
  const host = region === '' ? `${service}.amazonaws.com` : `${service}.${region}.amazonaws.com`;
  const base = own ?? `https://${host}${region.startsWith('cn-') ? '.cn' : ''}`;
  return base.replace(/\/+$/, '');
}

/** The instance metadata service (IMDSv2: a session token first), unless AWS_EC2_METADATA_DISABLED. */
async function imdsGet(path: string, env: Env, signal: AbortSignal): Promise<string | undefined> {
  if ((env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true') return undefined;
  const base = (set(env['AWS_EC2_METADATA_SERVICE_ENDPOINT']) ?? 'http://169.254.169.254').replace(
    /\/+$/,
    '',
  );
  const timed = AbortSignal.any([signal, AbortSignal.timeout(2_000)]);
  try {
    const { body: token } = await engineFetch({
      url: `${base}/latest/api/token`,
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
      signal: timed,
    });
    const { body } = await engineFetch({
      url: `${base}${path}`,
      headers: { 'x-aws-ec2-metadata-token': token.toString('utf8') },
      signal: timed,
    });
    return body.toString('utf8');
  } catch {
    return undefined;
  }
}

/** The `region` of the shared config file's profile (AWS_CONFIG_FILE, else ~/.aws/config). */
function sharedConfigRegion(env: Env): string | undefined {
  try {
    const file = set(env['AWS_CONFIG_FILE']) ?? join(homedir(), '.aws', 'config');
    return set(iniSection(readFileSync(file, 'utf8'), set(env['AWS_PROFILE']) ?? 'default')?.['region']);
  } catch {
    return undefined;
  }
}

/**
 * Traefik's createClient: the `region` key, else the SDK's (AWS_REGION, AWS_DEFAULT_REGION, the
 * shared config file's profile), else the EC2 instance metadata's (config.WithEC2IMDSRegion).
 */
export async function resolveRegion(region: string, env: Env, signal: AbortSignal): Promise<string> {
  const r =
    set(region) ??
    set(env['AWS_REGION']) ??
    set(env['AWS_DEFAULT_REGION']) ??
    sharedConfigRegion(env) ??
    set(await imdsGet('/latest/meta-data/placement/region', env, signal));
  if (r === undefined) throw new EngineError('ecs: no AWS region: set providers.ecs.region or AWS_REGION');
  return r;
}

interface Expiring extends AwsCredentials {
  /** ms since the epoch; undefined = static. */
  readonly expires?: number;
}

/** `[profile]` of an INI file (~/.aws/credentials). */
function iniSection(text: string, name: string): Record<string, string> | undefined {
  let current: string | undefined;
  let out: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const head = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (head !== null) {
      current = head[1]!.replace(/^profile\s+/, '');
      if (current === name) out ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current === name && out !== undefined && eq > 0)
      out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function fromJson(j: Record<string, unknown>): Expiring | undefined {
  const id = j['AccessKeyId'];
  const secret = j['SecretAccessKey'];
  if (typeof id !== 'string' || typeof secret !== 'string') return undefined;
  const exp = typeof j['Expiration'] === 'string' ? Date.parse(j['Expiration']) : Number.NaN;
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(typeof j['Token'] === 'string' ? { sessionToken: j['Token'] } : {}),
    ...(Number.isFinite(exp) ? { expires: exp } : {}),
  };
}

/**
 * The credentials Traefik's createClient uses: both keys of the configuration when set (only
 * they), else the AWS SDK's default chain: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), web identity (AWS_ROLE_ARN with
 * AWS_WEB_IDENTITY_TOKEN_FILE, through STS), the shared credentials file (AWS_PROFILE, else
 * `default`), the ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI,
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]), the EC2 instance role (IMDS).
 */
export async function resolveCredentials(
  accessKeyID: string,
  secretAccessKey: string,
  env: Env,
  signal: AbortSignal,
  /** For STS (web identity). */
  region = '',
): Promise<Expiring> {
  if (accessKeyID !== '' && secretAccessKey !== '') return { accessKeyId: accessKeyID, secretAccessKey };
  const envId = set(env['AWS_ACCESS_KEY_ID']) ?? set(env['AWS_ACCESS_KEY']);
  const envSecret = set(env['AWS_SECRET_ACCESS_KEY']) ?? set(env['AWS_SECRET_KEY']);
  if (envId !== undefined && envSecret !== undefined) {
    const token = set(env['AWS_SESSION_TOKEN']);
    return {
      accessKeyId: envId,
      secretAccessKey: envSecret,
      ...(token !== undefined ? { sessionToken: token } : {}),
    };
  }
  // Web identity (EKS service accounts…): AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, exchanged
  // through STS AssumeRoleWithWebIdentity (unsigned), as the SDK's stscreds.WebIdentityRoleProvider.
  const roleArn = set(env['AWS_ROLE_ARN']);
  const identityFile = set(env['AWS_WEB_IDENTITY_TOKEN_FILE']);
  if (roleArn !== undefined && identityFile !== undefined) {
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: set(env['AWS_ROLE_SESSION_NAME']) ?? `aws-go-sdk-${Date.now()}`,
      WebIdentityToken: readFileSync(identityFile, 'utf8').trim(),
    });
    const { body } = await engineFetch({
      url: `${serviceEndpoint('sts', region, env)}/`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
      signal,
    });
    const resp = child(parseXml(body.toString('utf8')), 'AssumeRoleWithWebIdentityResponse');
    const creds = child(child(resp, 'AssumeRoleWithWebIdentityResult'), 'Credentials');
    const text = (name: string): string => child(creds, name)?.text.trim() ?? '';
    const c = fromJson({
      AccessKeyId: text('AccessKeyId') || undefined,
      SecretAccessKey: text('SecretAccessKey') || undefined,
      Token: text('SessionToken'),
      Expiration: text('Expiration'),
    });
    if (c !== undefined) return c;
    throw new EngineError('ecs: no credentials in the answer of STS AssumeRoleWithWebIdentity');
  }
  try {
    const file = set(env['AWS_SHARED_CREDENTIALS_FILE']) ?? join(homedir(), '.aws', 'credentials');
    const sec = iniSection(readFileSync(file, 'utf8'), set(env['AWS_PROFILE']) ?? 'default');
    const id = sec?.['aws_access_key_id'];
    const secret = sec?.['aws_secret_access_key'];
    if (id !== undefined && secret !== undefined && id !== '' && secret !== '') {
      const token = sec?.['aws_session_token'];
      return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
    }
  } catch {
    // No shared credentials file: the next source.
  }
  const relative = set(env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']);
  const full = set(env['AWS_CONTAINER_CREDENTIALS_FULL_URI']);
  if (relative !== undefined || full !== undefined) {
    const url = relative !== undefined ? `http://169.254.170.2${relative}` : full!;
    const tokenFile = set(env['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']);
    const auth =
      tokenFile !== undefined
        ? readFileSync(tokenFile, 'utf8').trim()
        : set(env['AWS_CONTAINER_AUTHORIZATION_TOKEN']);
    const { body } = await engineFetch({
      url,
      headers: auth !== undefined ? { authorization: auth } : {},
      signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
    });
    const c = fromJson(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    if (c !== undefined) return c;
    throw new EngineError(`ecs: no credentials in the answer of ${url}`);
  }
  const role = set(
    (await imdsGet('/latest/meta-data/iam/security-credentials/', env, signal))?.split('\n')[0],
  );
  if (role !== undefined) {
    const text = await imdsGet(`/latest/meta-data/iam/security-credentials/${role}`, env, signal);
    const c = text === undefined ? undefined : fromJson(JSON.parse(text) as Record<string, unknown>);
    if (c !== undefined) return c;
  }
  throw new EngineError(
    'ecs: no AWS credentials found (keys, environment, shared file, container, instance role)',
  );
}

/** A minimal XML element tree (EC2's Query protocol answers). */
export interface XmlNode {
  readonly name: string;
  readonly children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(src: string): XmlNode {
  const root: XmlNode = { name: '', children: [], text: '' };
  const stack: XmlNode[] = [root];
  const re = /<(\/?)([A-Za-z_][\w:.-]*)[^>]*?(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->|([^<]+)/g;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    const top = stack[stack.length - 1]!;
    if (m[4] !== undefined) {
      top.text += m[4].replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]!);
    } else if (m[2] !== undefined) {
      if (m[1] === '/') {
        if (stack.length > 1) stack.pop();
      } else {
        const node: XmlNode = { name: m[2], children: [], text: '' };
        top.children.push(node);
        if (m[3] !== '/') stack.push(node);
      }
    }
  }
  return root;
}

export function child(n: XmlNode | undefined, name: string): XmlNode | undefined {
  return n?.children.find((c) => c.name === name);
}

/**
 * The AWS calls of Traefik's ECS provider, signed with SigV4: ECS and SSM in the JSON 1.1
 * protocol (`X-Amz-Target`), EC2 in the Query protocol (form POST, XML answer).
 */
export class AwsClient {
  readonly #region: string;
  readonly #keys: { readonly id: string; readonly secret: string };
  readonly #env: Env;
  #creds: Expiring | undefined;

  constructor(region: string, accessKeyID: string, secretAccessKey: string, env: Env = process.env) {
    this.#region = region;
    this.#keys = { id: accessKeyID, secret: secretAccessKey };
    this.#env = env;
  }

  async #credentials(signal: AbortSignal): Promise<Expiring> {
    // Temporary credentials are fetched again 5 minutes before they expire.
    if (
      this.#creds === undefined ||
      (this.#creds.expires !== undefined && this.#creds.expires - Date.now() < 300_000)
    ) {
      this.#creds = await resolveCredentials(
        this.#keys.id,
        this.#keys.secret,
        this.#env,
        signal,
        this.#region,
      );
    }
    return this.#creds;
  }

  async #send(
    service: 'ecs' | 'ec2' | 'ssm',
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<Buffer> {
    const credentials = await this.#credentials(signal);
    const url = new URL(`${serviceEndpoint(service, this.#region, this.#env)}/`);
    const date = amzDate(new Date());
    const payloadHash = sha256Hex(body);
    const signed: Record<string, string> = {
      host: url.host,
      'x-amz-date': date,
      ...headers,
      ...(credentials.sessionToken !== undefined ? { 'x-amz-security-token': credentials.sessionToken } : {}),
    };
    const authorization = signV4({
      method: 'POST',
      url,
      headers: signed,
      payloadHash,
      region: this.#region,
      service,
      credentials,
      amzDate: date,
    });
    const { host: _host, ...sent } = signed;
    const { body: answer, res } = await engineFetch(
      {
        url: url.href,
        method: 'POST',
        headers: { ...sent, 'x-amz-content-sha256': payloadHash, authorization },
        body,
        signal,
      },
      [200, 400, 403, 404, 500, 503],
    );
    if (res.statusCode !== 200) {
      const text = answer.toString('utf8');
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as Record<string, unknown>;
        message = `${String(j['__type'] ?? '').replace(/^.*#/, '')}: ${String(j['message'] ?? j['Message'] ?? '')}`;
      } catch {
        const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
        const msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
        if (code !== undefined) message = `${code}: ${msg ?? ''}`;
      }
      throw new EngineError(
        `${service} ${headers['x-amz-target'] ?? 'DescribeInstances'}: status ${res.statusCode}: ${message}`,
        res.statusCode ?? 0,
      );
    }
    return answer;
  }

  /** An ECS (AmazonEC2ContainerServiceV20141113) or SSM (AmazonSSM) JSON 1.1 call. */
  async json(
    service: 'ecs' | 'ssm',
    action: string,
    input: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const prefix = service === 'ecs' ? 'AmazonEC2ContainerServiceV20141113' : 'AmazonSSM';
    const body = await this.#send(
      service,
      { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${action}` },
      JSON.stringify(input),
      signal,
    );
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  }

  /** EC2's Query protocol: `Action`, `Version` 2016-11-15 and the parameters, form-encoded. */
  async ec2(action: string, params: Record<string, string>, signal: AbortSignal): Promise<XmlNode> {
    const form = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params });
    const body = await this.#send(
      'ec2',
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      form.toString(),
      signal,
    );
    return parseXml(body.toString('utf8'));
  }
}
