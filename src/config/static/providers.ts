import { z } from 'zod';
import { duration } from '../duration.ts';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';

/*
 * The dynamic providers of the static configuration (`providers.*`), with Traefik v3's keys and
 * defaults (pkg/provider/<name>/*.go, cmd/configuration.go). Keys Traefik has and we do not
 * implement yet are listed per provider so that they are reported by name.
 */

/** Traefik's `types.ClientTLS`: a client certificate and the CA a provider checks its engine with. */
export const clientTls = strictObject({
  /** A file path or the PEM text itself. */
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  insecureSkipVerify: z.boolean().default(false),
}).superRefine((v, ctx) => {
  if ((v.cert === undefined) !== (v.key === undefined)) {
    ctx.addIssue({ code: 'custom', message: '`cert` and `key` go together', path: ['cert'] });
  }
});

const positive = duration.refine((ms) => ms > 0, 'must be greater than 0');

/** `providers.http` (pkg/provider/http/http.go). */
export const httpProviderSchema = strictObject({
  endpoint: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL'),
  pollInterval: positive.default(5_000),
  /** The whole request, body included. */
  pollTimeout: positive.default(5_000),
  headers: z.record(z.string(), z.string()).default({}),
  tls: nullAsEmpty(clientTls).optional(),
  /** -1 = unlimited (Traefik's default). */
  maxResponseBodySize: z.number().int().min(-1).default(-1),
});

/** The KV providers' common keys (pkg/provider/kv/kv.go). */
const kvBase = {
  rootKey: z.string().min(1).default('traefik'),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: nullAsEmpty(clientTls).optional(),
};

const endpoints = (fallback: string) => z.array(z.string().min(1)).min(1).default([fallback]);

export const etcdProviderSchema = strictObject({ ...kvBase, endpoints: endpoints('127.0.0.1:2379') });
export const redisProviderSchema = strictObject(
  { ...kvBase, endpoints: endpoints('127.0.0.1:6379'), db: z.number().int().nonnegative().default(0) },
  ['sentinel'],
);
export const consulProviderSchema = strictObject(
  { ...kvBase, endpoints: endpoints('127.0.0.1:8500'), token: z.string().optional() },
  ['namespaces', 'namespace'],
);

const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

/** `providers.docker` (pkg/provider/docker/pdocker.go, shared.go). */
export const dockerProviderSchema = strictObject(
  {
    endpoint: z.string().min(1).default('unix:///var/run/docker.sock'),
    exposedByDefault: z.boolean().default(true),
    network: z.string().default(''),
    defaultRule: z.string().min(1).default(DEFAULT_RULE),
    constraints: z.string().default(''),
    watch: z.boolean().default(true),
    allowEmptyServices: z.boolean().default(false),
    useBindPortIP: z.boolean().default(false),
    /** 0 = no timeout (Traefik's default); never applied to the events stream. */
    httpClientTimeout: duration.default(0),
    tls: nullAsEmpty(clientTls).optional(),
  },
  // swarmMode and swarmModeRefreshSeconds are Traefik v2's; v3 has providers.swarm instead.
  ['username', 'password', 'password_file', 'swarmMode', 'swarmModeRefreshSeconds'],
);

/** `providers.kubernetesCRD` (pkg/provider/kubernetes/crd). */
export const kubernetesCrdProviderSchema = strictObject(
  {
    /** The API server; absent = in-cluster (KUBERNETES_SERVICE_HOST and the service account). */
    endpoint: z
      .string()
      .url()
      .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL')
      .optional(),
    /** A bearer token; absent = the service account's (in-cluster). */
    token: z.string().optional(),
    /** The CA of the API server (a file path). */
    certAuthFilePath: z.string().optional(),
    /** Namespaces to watch; empty = all. */
    namespaces: z.array(z.string().min(1)).default([]),
    /** A label selector for the Traefik resources (`app=traefik`). */
    labelSelector: z.string().default(''),
    ingressClass: z.string().default(''),
    /** Waits this long after a change before building (0 = at once); providersThrottleDuration applies too. */
    throttleDuration: duration.default(0),
    allowEmptyServices: z.boolean().default(false),
    allowCrossNamespace: z.boolean().default(false),
  },
  ['allowExternalNameServices', 'nativeLBByDefault', 'disableClusterScopeResources'],
);

export const PROVIDER_THROTTLE_DEFAULT_MS = 2_000;

export type ClientTlsConfig = z.output<typeof clientTls>;
export type HttpProviderConfig = z.output<typeof httpProviderSchema>;
export type EtcdProviderConfig = z.output<typeof etcdProviderSchema>;
export type RedisProviderConfig = z.output<typeof redisProviderSchema>;
export type ConsulProviderConfig = z.output<typeof consulProviderSchema>;
export type DockerProviderConfig = z.output<typeof dockerProviderSchema>;
export type KubernetesCrdProviderConfig = z.output<typeof kubernetesCrdProviderSchema>;
