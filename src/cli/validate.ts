import {
  type ConfigIssue,
  formatIssue,
  loadStaticConfig,
  type RuleChecker,
  sortIssues,
} from '../config/index.ts';
import { fileProviderOptions, loadSources } from '../providers/index.ts';

/**
 * `traffic validate`: loads the static configuration and every dynamic source it names, prints
 * every issue, and returns the exit code (0 = no error). `write` receives whole lines, each ending
 * in a newline.
 */
export function runValidate(
  configFile: string | undefined,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  checkRule: RuleChecker | undefined,
  checkBreakerExpression: RuleChecker | undefined,
  write: (text: string) => void,
): number {
  const loaded = loadStaticConfig({ ...(configFile !== undefined ? { file: configFile } : {}), argv, env });
  const issues: ConfigIssue[] = [...loaded.issues];
  let counts = { routers: 0, services: 0, middlewares: 0 };
  if (loaded.config !== undefined) {
    const opts = fileProviderOptions(loaded.config, loaded.inlineDynamic, {
      ...(checkRule !== undefined ? { checkRule } : {}),
      ...(checkBreakerExpression !== undefined ? { checkBreakerExpression } : {}),
    });
    if (opts !== undefined) {
      const update = loadSources(opts, opts);
      issues.push(...update.issues);
      const http = update.config?.http;
      if (http !== undefined) {
        counts = {
          routers: Object.keys(http.routers).length,
          services: Object.keys(http.services).length,
          middlewares: Object.keys(http.middlewares).length,
        };
      }
    }
  }
  for (const i of sortIssues(issues)) write(`${formatIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (errors > 0) {
    write(`configuration has ${errors} error${errors === 1 ? '' : 's'}\n`);
    return 1;
  }
  write(
    `configuration OK: ${counts.routers} routers, ${counts.services} services, ${counts.middlewares} middlewares\n`,
  );
  return 0;
}
