export { FileProvider, type FileProviderOptions } from './file-provider.ts';
export { fileProviderOptions, fileProviderOptionsOf } from './options.ts';
export { type FileSources, type FileValidation, loadSources, readSources } from './read-sources.ts';
