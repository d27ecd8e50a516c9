export {
  FileProvider,
  type FileProviderOptions,
  type FileSources,
  type FileValidation,
  fileProviderOptions,
  fileProviderOptionsOf,
  loadSources,
  readSources,
} from './file/index.ts';
export type { Provider, ProviderUpdate } from './provider.ts';
