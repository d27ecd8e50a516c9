export type { AttributeValue, RequestSpan } from './span.ts';
export {
  formatTraceparent,
  parseTraceparent,
  type TraceparentFields,
  validTracestate,
} from './trace-context.ts';
export { Tracer, type TracerOptions, w3cPropagation } from './tracer.ts';
