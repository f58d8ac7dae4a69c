// pause and unpause: the freezer (v1 freezer.state, v2 cgroup.freeze) stops every process of the
// container at once, without a signal it could see.
import { Conflict } from '../types.js';
import { containerEvent, type EngineContext } from './context.js';
import { transition } from './state.js';

export async function pauseContainer(ctx: EngineContext, idOrName: string): Promise<void> {
  const rec = ctx.records.find(idOrName);
  if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is already paused`);
  if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
  await ctx.cgroups.freeze(rec.id);
  transition(rec, 'paused');
  ctx.records.save(rec);
  ctx.emit(containerEvent('pause', rec));
}

export async function unpauseContainer(ctx: EngineContext, idOrName: string): Promise<void> {
  const rec = ctx.records.find(idOrName);
  if (rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not paused`);
  await ctx.cgroups.thaw(rec.id);
  transition(rec, 'running');
  ctx.records.save(rec);
  ctx.emit(containerEvent('unpause', rec));
}
