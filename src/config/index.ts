export { parseDuration } from './duration.ts';
export {
  type DisabledObject,
  objectAt,
  objectKey,
  type Pruned,
  pruneDisabled,
} from './dynamic/disabled.ts';
export { type DynamicText, type LoadedDynamic, loadDynamic } from './dynamic/load.ts';
export { type DynamicSource, type MergedDynamic, mergeDynamic } from './dynamic/merge.ts';
export type { MiddlewareConfigOf, MiddlewareType } from './dynamic/middlewares.ts';
export {
  type ObjectRef,
  type ParseDynamicOptions,
  type ParsedDynamic,
  parseDynamic,
} from './dynamic/parse.ts';
export {
  type DynamicConfig,
  type DynamicConfigInput,
  dynamicConfigSchema,
  emptyDynamicConfig,
  type LoadBalancerConfig,
  type LoadBalancerStrategy,
  type MiddlewareConfig,
  type RouterConfig,
  type ServerConfig,
  type ServersTransportConfig,
  type ServiceConfig,
} from './dynamic/schema.ts';
export {
  type RuleChecker,
  type ValidatedDynamic,
  type ValidateOptions,
  validateDynamic,
} from './dynamic/validate.ts';
export {
  type ConfigIssue,
  type ConfigPath,
  formatIssue,
  formatPath,
  hasErrors,
  type Place,
  sortIssues,
} from './issues.ts';
export {
  type AcmeStorageLocation,
  type AcmeStoreTls,
  DEFAULT_STORE_PREFIX,
  describeAcmeStorage,
  parseAcmeStorage,
} from './static/acme-storage.ts';
export { type ListenAddress, parseAddress } from './static/address.ts';
export {
  type LoadedStatic,
  type LoadStaticOptions,
  loadStaticConfig,
} from './static/load.ts';
export {
  type EntryPointConfig,
  type FileProviderConfig,
  type LogLevel,
  type StaticConfig,
  type StaticConfigInput,
  staticConfigSchema,
} from './static/schema.ts';
export type { Locator } from './yaml-source.ts';
