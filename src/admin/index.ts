export { isLoopback } from '../core/loopback.ts';
export { AdminServer, type AdminServerDeps } from './admin-server.ts';
export { AdminAuth, type AdminAuthConfig } from './auth.ts';
export { traefikEntryPoint } from './entry-point-views.ts';
export {
  type ExplainCandidate,
  type ExplainInput,
  type ExplainResult,
  explain,
  explainRequestHead,
} from './explain.ts';
export { type InternalObjects, internalObjects } from './internal-views.ts';
export type {
  MiddlewareView,
  OverviewView,
  RouterView,
  ServerView,
  ServiceView,
} from './views.ts';
export { traefikProviderNames } from './views.ts';
