import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { EcsProviderConfig } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints, constraintIssues } from '../docker/constraints.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import { describe, EngineError } from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { AwsClient, child, resolveRegion } from './aws-client.ts';
import { type EcsInstance, type EcsPortMapping, ecsConfig } from './ecs-config.ts';

type Json = Record<string, unknown>;

/** Traefik's chunkIDs: ECS and EC2 take at most 100 identifiers a call. */
function chunks<T>(items: readonly T[], size = 100): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function ports(mappings: unknown): EcsPortMapping[] {
  return list<Json>(mappings).map((m) => ({
    containerPort: num(m['containerPort']),
    hostPort: num(m['hostPort']),
  }));
}

/** What Traefik's lookupEc2Instances and lookupMiInstances find for a container instance. */
interface HostInfo {
  readonly ip: string;
  /** '' for an ECS Anywhere instance: the task's status counts. */
  readonly state: string;
}

/**
 * Traefik's ECS provider (pkg/provider/ecs/ecs.go): every `refreshSeconds`, the running tasks of
 * `clusters` (or of every cluster, `autoDiscoverClusters`), their task definitions (cached by
 * task, 30 minutes, as Traefik's existingTaskDefCache), and for tasks not in awsvpc mode their
 * container instances and EC2 instances (ECS Anywhere's `mi-` instances through SSM with
 * `ecsAnywhere`); each container with its definition's docker labels becomes an instance
 * (ecs-config.ts). Any failure but DescribeTasks' fails the provider (restarted with backoff,
 * its last good configuration serving).
 */
export class EcsProvider implements Provider {
  readonly name = 'ecs';
  readonly #cfg: EcsProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };
  readonly #constraintWarnings: string[] = [];
  readonly #taskDefs = new Map<string, { readonly def: Json; readonly until: number }>();
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(
    cfg: EcsProviderConfig,
    validation: ProviderValidation,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#constraint = compileConstraints(cfg.constraints, 'labels', this.#constraintWarnings);
    this.#env = env;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    if (typeof this.#constraint !== 'function') {
      const refused = issue('error', `invalid constraints: ${this.#constraint.error}`, [
        'providers',
        'ecs',
        'constraints',
      ]);
      yield { config: undefined, issues: [refused] };
      return;
    }
    const constraint = this.#constraint;
    const ctl = new AbortController();
    const stop = (): void => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const region = await resolveRegion(this.#cfg.region, this.#env, ctl.signal);
      const client = new AwsClient(region, this.#cfg.accessKeyID, this.#cfg.secretAccessKey, this.#env);
      while (!signal.aborted) {
        const warnings: ConfigIssue[] = [];
        const instances = await this.#listInstances(client, warnings, ctl.signal);
        const built = ecsConfig(instances, this.#cfg, constraint);
        const issues = [...constraintIssues(this.#constraintWarnings, 'ecs'), ...warnings, ...built.issues];
        yield updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues, {
          quietCase: true,
        });
        await sleep(this.#cfg.refreshSeconds * 1000, ctl.signal);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof EngineError) throw e;
      throw new EngineError(`ecs: ${describe(e)}`);
    } finally {
      signal.removeEventListener('abort', stop);
      ctl.abort();
    }
  }

  async #clusters(client: AwsClient, signal: AbortSignal): Promise<string[]> {
    if (!this.#cfg.autoDiscoverClusters) return this.#cfg.clusters;
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.json('ecs', 'ListClusters', nextToken ? { nextToken } : {}, signal);
      out.push(...list<unknown>(page['clusterArns']).map(str));
      nextToken = str(page['nextToken']) || undefined;
    } while (nextToken !== undefined);
    return out;
  }

  /** Traefik's listInstances. */
  async #listInstances(
    client: AwsClient,
    warnings: ConfigIssue[],
    signal: AbortSignal,
  ): Promise<EcsInstance[]> {
    const instances: EcsInstance[] = [];
    for (const cluster of await this.#clusters(client, signal)) {
      const tasks = new Map<string, Json>();
      let nextToken: string | undefined;
      do {
        const page = await client.json(
          'ecs',
          'ListTasks',
          { cluster, desiredStatus: 'RUNNING', ...(nextToken ? { nextToken } : {}) },
          signal,
        );
        nextToken = str(page['nextToken']) || undefined;
        const arns = list<unknown>(page['taskArns']).map(str);
        if (arns.length === 0) continue;
        try {
          const described = await client.json('ecs', 'DescribeTasks', { tasks: arns, cluster }, signal);
          for (const t of list<Json>(described['tasks'])) {
            // healthyTasksOnly: only tasks whose health status is HEALTHY.
            if (this.#cfg.healthyTasksOnly && t['healthStatus'] !== 'HEALTHY') continue;
            tasks.set(str(t['taskArn']), t);
          }
        } catch (e) {
          if (signal.aborted) throw e;
          // As Traefik: a page whose tasks cannot be described is skipped, not fatal.
          warnings.push(
            issue('warning', `ecs: unable to describe tasks of cluster ${cluster}: ${describe(e)}`, []),
          );
        }
      } while (nextToken !== undefined);
      if (tasks.size === 0) continue;

      const hosts = await this.#hosts(client, cluster, tasks, signal);
      const defs = await this.#taskDefinitions(client, tasks, signal);
      for (const [arn, task] of tasks) {
        const def = defs.get(arn);
        const host = hosts.get(str(task['containerInstanceArn']));
        for (const container of list<Json>(task['containers'])) {
          const cname = str(container['name']);
          const cdef = list<Json>(def?.['containerDefinitions']).find((d) => str(d['name']) === cname);
          if (cdef === undefined) continue;
          let machine: EcsInstance['machine'];
          if (def?.['networkMode'] === 'awsvpc' && list(task['attachments']).length !== 0) {
            const eni = list<Json>(container['networkInterfaces'])[0];
            if (eni === undefined) {
              warnings.push(issue('warning', `ecs: skip container ${cname}: no network interfaces`, []));
              continue;
            }
            machine = {
              // An IPv6-only task's ENI has no IPv4 address: its IPv6 one (Traefik v3.6.0,
              // traefik/traefik#12179 "Allows Traefik to register IPv6 only ECS Tasks"), bracketed
              // in the server URL as any IPv6 address.
              privateIP: str(eni['privateIpv4Address']) || str(eni['ipv6Address']),
              ports: ports(cdef['portMappings']),
              state: str(task['lastStatus']).toLowerCase(),
              healthStatus: str(task['healthStatus']),
            };
          } else {
            if (host === undefined) {
              warnings.push(
                issue('warning', `ecs: unable to find container instance information for ${cname}`, []),
              );
              continue;
            }
            machine = {
              privateIP: host.ip,
              ports: ports(container['networkBindings']),
              state: host.state !== '' ? host.state : str(task['lastStatus']).toLowerCase(),
              healthStatus: '',
            };
          }
          const labels: Record<string, string> = {};
          const docker = cdef['dockerLabels'];
          if (docker !== null && typeof docker === 'object') {
            for (const [k, v] of Object.entries(docker)) if (typeof v === 'string') labels[k] = v;
          }
          instances.push({
            name: `${str(task['group']).replace(':', '-')}-${cname}`,
            id: arn.slice(-12),
            machine,
            labels,
          });
        }
      }
    }
    return instances;
  }

  /**
   * Traefik's lookupEc2Instances (and lookupMiInstances with `ecsAnywhere`): container instance
   * ARN → the private IP and state of its EC2 instance (an `mi-` instance: its SSM IP address).
   */
  async #hosts(
    client: AwsClient,
    cluster: string,
    tasks: ReadonlyMap<string, Json>,
    signal: AbortSignal,
  ): Promise<Map<string, HostInfo>> {
    const out = new Map<string, HostInfo>();
    const arns = [...tasks.values()].map((t) => str(t['containerInstanceArn'])).filter((a) => a !== '');
    const byInstanceId = new Map<string, string>();
    for (const chunk of chunks(arns)) {
      const r = await client.json(
        'ecs',
        'DescribeContainerInstances',
        { containerInstances: chunk, cluster },
        signal,
      );
      for (const ci of list<Json>(r['containerInstances'])) {
        byInstanceId.set(str(ci['ec2InstanceId']), str(ci['containerInstanceArn']));
      }
    }
    const ids = [...byInstanceId.keys()].filter((id) => id !== '');
    const ec2Ids = ids.filter((id) => !id.startsWith('mi-'));
    for (const chunk of chunks(ec2Ids)) {
      let nextToken: string | undefined;
      do {
        const params: Record<string, string> = {};
        chunk.forEach((id, i) => {
          params[`InstanceId.${i + 1}`] = id;
        });
        if (nextToken !== undefined) params['NextToken'] = nextToken;
        const root = await client.ec2('DescribeInstances', params, signal);
        const resp = child(root, 'DescribeInstancesResponse');
        for (const reservation of child(resp, 'reservationSet')?.children ?? []) {
          for (const inst of child(reservation, 'instancesSet')?.children ?? []) {
            const id = child(inst, 'instanceId')?.text.trim() ?? '';
            if (id === '') continue;
            out.set(byInstanceId.get(id) ?? '', {
              ip: child(inst, 'privateIpAddress')?.text.trim() ?? '',
              state: child(child(inst, 'instanceState'), 'name')?.text.trim() ?? '',
            });
          }
        }
        nextToken = child(resp, 'nextToken')?.text.trim() || undefined;
      } while (nextToken !== undefined);
    }
    if (this.#cfg.ecsAnywhere) {
      const miIds = ids.filter((id) => id.startsWith('mi-'));
      for (const chunk of chunks(miIds)) {
        let nextToken: string | undefined;
        do {
          const page = await client.json(
            'ssm',
            'DescribeInstanceInformation',
            {
              Filters: [{ Key: 'InstanceIds', Values: chunk }],
              ...(nextToken ? { NextToken: nextToken } : {}),
            },
            signal,
          );
          for (const i of list<Json>(page['InstanceInformationList'])) {
            const id = str(i['InstanceId']);
            if (id !== '' && !out.has(byInstanceId.get(id) ?? '')) {
              out.set(byInstanceId.get(id) ?? '', { ip: str(i['IPAddress']), state: '' });
            }
          }
          nextToken = str(page['NextToken']) || undefined;
        } while (nextToken !== undefined);
      }
    }
    return out;
  }

  /** Traefik's lookupTaskDefinitions: by task ARN, cached 30 minutes. */
  async #taskDefinitions(
    client: AwsClient,
    tasks: ReadonlyMap<string, Json>,
    signal: AbortSignal,
  ): Promise<Map<string, Json>> {
    const out = new Map<string, Json>();
    const now = Date.now();
    for (const [arn, def] of this.#taskDefs) if (def.until <= now) this.#taskDefs.delete(arn);
    for (const [arn, task] of tasks) {
      const cached = this.#taskDefs.get(arn);
      if (cached !== undefined) {
        out.set(arn, cached.def);
        continue;
      }
      const r = await client.json(
        'ecs',
        'DescribeTaskDefinition',
        { taskDefinition: str(task['taskDefinitionArn']) },
        signal,
      );
      const def = (r['taskDefinition'] ?? {}) as Json;
      this.#taskDefs.set(arn, { def, until: now + 30 * 60_000 });
      out.set(arn, def);
    }
    return out;
  }
}
