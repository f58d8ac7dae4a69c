// The glue between a container record and its runtime driver (runtime/drivers/): which driver,
// its launch context, and the checks made at create so that a runtime that cannot run this
// container is refused before anything exists.
import { join } from 'node:path';
import { driverStateRoot, getDriver, requireRuntime, type LaunchContext, type RuntimeDriver } from '../runtime/drivers/index.js';
import type { RuntimePlan } from '../runtime/plan.js';
import { InvalidArgument, type ContainerConfig, type ContainerRecord } from '../types.js';
import type { EngineContext } from './context.js';

export const probeOptions = (ctx: EngineContext) => ({ runRoot: ctx.runRoot, cgroupParent: ctx.names.cgroupParent });

export function driverOf(rec: Pick<ContainerRecord, 'config'>): RuntimeDriver {
  return getDriver(rec.config.runtime);
}

export function launchContext(ctx: EngineContext, rec: ContainerRecord, plan: RuntimePlan | null): LaunchContext {
  const d = driverOf(rec);
  return { id: rec.id, bundle: rec.paths.bundle, runDir: join(ctx.runRoot, rec.id), stateRoot: driverStateRoot(ctx.runRoot, d.name), plan };
}

/**
 * At create: the runtime is known, available on this host (probed, in its own words when not),
 * and can do what the config asks. Throws before anything is made.
 */
export async function checkRuntime(ctx: EngineContext, config: ContainerConfig): Promise<void> {
  const d = await requireRuntime(config.runtime, probeOptions(ctx));
  const r = d.refuses ?? {};
  if (r.userns && config.namespaces?.user === true) throw new InvalidArgument(r.userns);
  if (r.sysctls && config.sysctls && Object.keys(config.sysctls).length) throw new InvalidArgument(r.sysctls);
  const joins = Object.values(config.shareNamespaces ?? {}).some((v) => v.startsWith('container:')) || config.network?.startsWith('container:');
  if (r.joinNamespaces && joins) throw new InvalidArgument(r.joinNamespaces);
}

/** Run a driver's cleanup, never throwing (it runs inside other cleanups). */
export async function driverCleanup(ctx: EngineContext, rec: ContainerRecord): Promise<void> {
  const d = driverOf(rec);
  if (d.launch === 'helper') return;
  try {
    await d.cleanup(launchContext(ctx, rec, null));
  } catch {
    /* the engine's own cleanup follows */
  }
}
