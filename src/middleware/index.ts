export { ChainMiddleware, flattenMiddlewares } from './chain.ts';
export type { BuildContext, Middleware, MiddlewareFactory } from './middleware.ts';
export { type RequestPhaseResult, runRequestPhase, runResponsePhase } from './pipeline.ts';
export { middlewareFactory, middlewareTypes } from './registry.ts';
