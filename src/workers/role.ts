/**
 * Which plane this process is (`workers: N`, docs/performance.md): one process as before, the
 * control plane of N workers, or one data-plane worker. Loaded by main.ts; the cluster code is
 * imported only when workers are asked for, so a single process pays nothing for it.
 */
import type { StaticConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { ControlPlane } from './control-plane.ts';
import type { DataPlane } from './data-plane.ts';
import { WORKER_SLOT_ENV } from './protocol.ts';
import { workerCount } from './worker-count.ts';

export type Plane =
  | { readonly role: 'single' }
  | { readonly role: 'control'; readonly control: ControlPlane }
  | { readonly role: 'worker'; readonly data: DataPlane };

export async function planeFor(config: StaticConfig, logger: Logger): Promise<Plane> {
  const count = workerCount(config.workers);
  if (count === 0) return { role: 'single' };
  const slot = Number(process.env[WORKER_SLOT_ENV]);
  if (Number.isInteger(slot) && slot > 0 && process.send !== undefined) {
    const { DataPlane } = await import('./data-plane.ts');
    return { role: 'worker', data: new DataPlane(slot, count) };
  }
  const { ControlPlane } = await import('./control-plane.ts');
  return { role: 'control', control: new ControlPlane({ workers: count, logger, metricsPrefix: 'traffic' }) };
}
