export { FileProvider, type FileProviderOptions } from './file-provider.ts';
export { fileProviderOptions, fileProviderOptionsOf } from './options.ts';
export { type FileSources, type FileValidation, readSources } from './read-sources.ts';
export { loadSources } from './validate-sources.ts';
