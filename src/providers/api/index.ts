export {
  type ApiChange,
  ApiProvider,
  type ApiProviderOptions,
  type Proposal,
} from './api-provider.ts';
export {
  API_SECTIONS,
  type ApiRawConfig,
  type ApiSection,
  type DiffEntry,
  diffConfigs,
  emptyRawConfig,
} from './config-diff.ts';
export { canonicalJson, mergePatch } from './json-values.ts';
