export { Http2Glue } from './glue.ts';
export { OwnHttp2Glue } from './own-glue.ts';
export { H2_PREFACE, matchPreface, PREFACE_FULL, PREFACE_NO, PREFACE_PARTIAL } from './preface.ts';
export { parseH2Request } from './request.ts';
export { defaultHttp2Settings, type Http2Settings } from './settings.ts';
