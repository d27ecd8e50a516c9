export { type Propagation, parsePropagators } from './propagators.ts';
export type { AttributeValue, RequestSpan } from './span.ts';
export {
  formatTraceparent,
  parseTraceparent,
  type TraceparentFields,
  validTracestate,
} from './trace-context.ts';
export { Tracer, type TracerOptions } from './tracer.ts';
