/**
 * The AWS APIs Traefik's ECS provider calls, on loopback for tests, answering with the shapes of
 * Traefik's pkg/provider/ecs tests: ECS (JSON 1.1, `X-Amz-Target:
 * AmazonEC2ContainerServiceV20141113.<Action>`) ListClusters, ListTasks (paged by `pageSize`),
 * DescribeTasks, DescribeTaskDefinition, DescribeContainerInstances; EC2 DescribeInstances (Query
 * protocol, XML); SSM DescribeInstanceInformation (ECS Anywhere, `mi-` instances). Every request must carry a
 * well-formed SigV4 `Authorization` (credential scope `<key>/<date>/<region>/<service>/aws4_request`,
 * signed headers including host and x-amz-date, a 64-hex signature) matching the body's hash; with
 * `secret`, the signature is checked too. Otherwise: 403 as AWS answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sha256Hex, signV4 } from '../../src/providers/ecs/sigv4.ts';
import { listenLoopback } from './fake-api.ts';

export interface FakeContainer {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The container's port; `hostPort` the port it is reached on (equal in awsvpc mode). */
  readonly containerPort: number;
  readonly hostPort: number;
}

export interface FakeTask {
  /** The end of its ARN (Traefik's instance ID is its last 12 characters). */
  readonly id: string;
  readonly cluster?: string;
  /** `service:<name>` for a service's tasks. */
  readonly group: string;
  /**
   * awsvpc: the ENI's private IP is `ip`; bridge: the EC2 instance `ec2InstanceId`'s is (an
   * ECS Anywhere instance `mi-…`: its SSM IP address).
   */
  readonly mode: 'awsvpc' | 'bridge';
  readonly ip: string;
  readonly ec2InstanceId?: string;
  readonly lastStatus?: string;
  readonly healthStatus?: string;
  readonly containers: readonly FakeContainer[];
}

export interface FakeAws {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL. */
  readonly address: string;
  /** Each request: the service its signature names, the action, the region of its scope. */
  readonly seen: {
    readonly service: string;
    readonly action: string;
    readonly region: string;
    readonly token?: string;
  }[];
  /** ListTasks' page size (the nextToken path). */
  pageSize: number;
  putTask(t: FakeTask): void;
  /** The task stops: ListTasks no longer lists it. */
  removeTask(id: string): void;
  /** An EC2 instance's state (`running`, `stopped`…). */
  setInstanceState(ec2InstanceId: string, state: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export async function startFakeAws(
  opts: { readonly accessKeyId?: string; readonly secret?: string } = {},
): Promise<FakeAws> {
  const tasks = new Map<string, FakeTask>();
  const instanceStates = new Map<string, string>();
  const seen: FakeAws['seen'] = [];
  const arn = (t: FakeTask): string =>
    `arn:aws:ecs:us-east-1:123456789012:task/${t.cluster ?? 'default'}/${t.id}`;
  const ciArn = (id: string): string => `arn:aws:ecs:us-east-1:123456789012:container-instance/${id}`;
  const tdArn = (t: FakeTask): string => `arn:aws:ecs:us-east-1:123456789012:task-definition/${t.id}:1`;
  const fake: FakeAws = {
    address: '',
    seen,
    pageSize: 100,
    putTask: (t) => {
      tasks.set(t.id, t);
      if (t.ec2InstanceId !== undefined && !instanceStates.has(t.ec2InstanceId)) {
        instanceStates.set(t.ec2InstanceId, 'running');
      }
    },
    removeTask: (id) => {
      tasks.delete(id);
    },
    setInstanceState: (id, state) => {
      instanceStates.set(id, state);
    },
    stop: async () => {},
    start: async () => {},
    close: async () => {},
  };

  const describeTask = (t: FakeTask): Record<string, unknown> => ({
    taskArn: arn(t),
    clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${t.cluster ?? 'default'}`,
    taskDefinitionArn: tdArn(t),
    group: t.group,
    lastStatus: t.lastStatus ?? 'RUNNING',
    desiredStatus: 'RUNNING',
    ...(t.healthStatus !== undefined ? { healthStatus: t.healthStatus } : {}),
    ...(t.mode === 'bridge' && t.ec2InstanceId !== undefined
      ? { containerInstanceArn: ciArn(t.ec2InstanceId) }
      : {}),
    attachments:
      t.mode === 'awsvpc'
        ? [
            {
              id: 'eni-att',
              type: 'ElasticNetworkInterface',
              status: 'ATTACHED',
              details: [{ name: 'privateIPv4Address', value: t.ip }],
            },
          ]
        : [],
    containers: t.containers.map((c) => ({
      name: c.name,
      lastStatus: 'RUNNING',
      ...(t.mode === 'awsvpc'
        ? {
            // An IPv6 `ip` makes an IPv6-only task: its ENI has an ipv6Address and no IPv4 one.
            networkInterfaces: [
              t.ip.includes(':')
                ? { attachmentId: 'eni-att', ipv6Address: t.ip }
                : { attachmentId: 'eni-att', privateIpv4Address: t.ip },
            ],
            networkBindings: [],
          }
        : {
            networkBindings: [
              { bindIP: '0.0.0.0', containerPort: c.containerPort, hostPort: c.hostPort, protocol: 'tcp' },
            ],
          }),
    })),
  });

  const ecs = (action: string, input: Record<string, unknown>): [number, unknown] => {
    const cluster = typeof input['cluster'] === 'string' ? input['cluster'] : 'default';
    const inCluster = [...tasks.values()].filter(
      (t) => (t.cluster ?? 'default') === cluster || cluster.endsWith(`/${t.cluster ?? 'default'}`),
    );
    switch (action) {
      case 'ListClusters': {
        const names = [...new Set([...tasks.values()].map((t) => t.cluster ?? 'default'))].sort();
        return [200, { clusterArns: names.map((n) => `arn:aws:ecs:us-east-1:123456789012:cluster/${n}`) }];
      }
      case 'ListTasks': {
        if (input['desiredStatus'] !== 'RUNNING')
          return [400, { __type: 'InvalidParameterException', message: 'desiredStatus' }];
        const all = inCluster.map(arn).sort();
        const from = typeof input['nextToken'] === 'string' ? Number(input['nextToken']) : 0;
        const page = all.slice(from, from + fake.pageSize);
        const next = from + fake.pageSize < all.length ? { nextToken: String(from + fake.pageSize) } : {};
        return [200, { taskArns: page, ...next }];
      }
      case 'DescribeTasks': {
        const wanted = new Set(input['tasks'] as string[]);
        return [200, { tasks: inCluster.filter((t) => wanted.has(arn(t))).map(describeTask), failures: [] }];
      }
      case 'DescribeTaskDefinition': {
        const t = [...tasks.values()].find((x) => tdArn(x) === input['taskDefinition']);
        if (t === undefined)
          return [400, { __type: 'ClientException', message: 'Unable to describe task definition.' }];
        return [
          200,
          {
            taskDefinition: {
              taskDefinitionArn: tdArn(t),
              networkMode: t.mode,
              containerDefinitions: t.containers.map((c) => ({
                name: c.name,
                dockerLabels: c.labels ?? {},
                portMappings: [
                  {
                    containerPort: c.containerPort,
                    hostPort: t.mode === 'awsvpc' ? c.containerPort : c.hostPort,
                    protocol: 'tcp',
                  },
                ],
              })),
            },
          },
        ];
      }
      case 'DescribeContainerInstances': {
        const wanted = input['containerInstances'] as string[];
        const ids = [...instanceStates.keys()].filter((id) => wanted.includes(ciArn(id)));
        return [
          200,
          {
            containerInstances: ids.map((id) => ({ containerInstanceArn: ciArn(id), ec2InstanceId: id })),
            failures: [],
          },
        ];
      }
      default:
        return [400, { __type: 'UnknownOperationException', message: action }];
    }
  };

  /** SSM DescribeInstanceInformation: the ECS Anywhere (`mi-`) instances of the tasks, their IP. */
  const ssmAnswer = (action: string, input: Record<string, unknown>): [number, unknown] => {
    if (action !== 'DescribeInstanceInformation') return [400, { __type: 'UnknownOperationException' }];
    const filter = (input['Filters'] as { Key: string; Values: string[] }[] | undefined)?.find(
      (f) => f.Key === 'InstanceIds',
    );
    const list = [...tasks.values()]
      .filter((t) => t.ec2InstanceId?.startsWith('mi-') && (filter?.Values.includes(t.ec2InstanceId) ?? true))
      .map((t) => ({ InstanceId: t.ec2InstanceId, IPAddress: t.ip, PingStatus: 'Online' }));
    return [200, { InstanceInformationList: list }];
  };

  const ec2Xml = (form: URLSearchParams): [number, string] => {
    if (form.get('Action') !== 'DescribeInstances' || form.get('Version') !== '2016-11-15') {
      return [
        400,
        '<Response><Errors><Error><Code>InvalidAction</Code><Message>bad</Message></Error></Errors></Response>',
      ];
    }
    const ids = [...form].filter(([k]) => k.startsWith('InstanceId.')).map(([, v]) => v);
    const items = ids
      .map((id) => {
        const task = [...tasks.values()].find((t) => t.ec2InstanceId === id);
        const ip = task?.ip ?? '';
        return `<item><instanceId>${id}</instanceId><instanceState><code>16</code><name>${instanceStates.get(id) ?? 'terminated'}</name></instanceState><privateIpAddress>${ip}</privateIpAddress><networkInterfaceSet><item><networkInterfaceId>eni-x</networkInterfaceId><privateIpAddress>10.9.9.9</privateIpAddress></item></networkInterfaceSet></item>`;
      })
      .join('');
    return [
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet>${items}</instancesSet></item></reservationSet></DescribeInstancesResponse>`,
    ];
  };

  const handle = (req: IncomingMessage, body: string, res: ServerResponse): void => {
    const auth = AUTH.exec(req.headers['authorization'] ?? '');
    const date = req.headers['x-amz-date'];
    const deny = (message: string): void => {
      res.writeHead(403, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'InvalidSignatureException', message }));
    };
    if (
      auth === null ||
      typeof date !== 'string' ||
      !/^\d{8}T\d{6}Z$/.test(date) ||
      auth[2] !== date.slice(0, 8)
    ) {
      deny(`malformed Authorization: ${req.headers['authorization'] ?? '(none)'}`);
      return;
    }
    const signedNames = auth[5]!.split(';');
    if (!signedNames.includes('host') || !signedNames.includes('x-amz-date')) {
      deny('host and x-amz-date must be signed');
      return;
    }
    const hash = sha256Hex(body);
    if (req.headers['x-amz-content-sha256'] !== undefined && req.headers['x-amz-content-sha256'] !== hash) {
      deny('x-amz-content-sha256 does not match the body');
      return;
    }
    if (opts.accessKeyId !== undefined && auth[1] !== opts.accessKeyId) {
      deny(`unknown key ${auth[1]}`);
      return;
    }
    if (opts.secret !== undefined) {
      const headers: Record<string, string> = {};
      for (const n of signedNames) headers[n] = String(req.headers[n] ?? '');
      const token = req.headers['x-amz-security-token'];
      const expected = signV4({
        method: req.method ?? 'POST',
        url: new URL(req.url ?? '/', 'http://x'),
        headers,
        payloadHash: hash,
        region: auth[3]!,
        service: auth[4]!,
        credentials: {
          accessKeyId: auth[1]!,
          secretAccessKey: opts.secret,
          ...(typeof token === 'string' ? { sessionToken: token } : {}),
        },
        amzDate: date,
      });
      if (expected !== req.headers['authorization']) {
        deny('signature does not match');
        return;
      }
    }
    const target = req.headers['x-amz-target'];
    const token =
      typeof req.headers['x-amz-security-token'] === 'string'
        ? { token: req.headers['x-amz-security-token'] }
        : {};
    if (typeof target === 'string') {
      const ssm = target.startsWith('AmazonSSM.');
      const action = target.replace(/^(AmazonEC2ContainerServiceV20141113|AmazonSSM)\./, '');
      seen.push({ service: auth[4]!, action, region: auth[3]!, ...token });
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1' || auth[4] !== (ssm ? 'ssm' : 'ecs')) {
        res.writeHead(400).end('{"__type":"SerializationException"}');
        return;
      }
      const input = JSON.parse(body) as Record<string, unknown>;
      const [status, answer] = ssm ? ssmAnswer(action, input) : ecs(action, input);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
      return;
    }
    const form = new URLSearchParams(body);
    seen.push({ service: auth[4]!, action: form.get('Action') ?? '', region: auth[3]!, ...token });
    const [status, xml] = auth[4] === 'ec2' ? ec2Xml(form) : [400, '<Response/>'];
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(xml);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  const l = await listenLoopback(server);
  Object.assign(fake, {
    address: `http://127.0.0.1:${l.port}`,
    stop: l.stop,
    start: l.start,
    close: l.close,
  });
  return fake;
}
