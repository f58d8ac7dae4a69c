// docker attach: the init's stdio through its monitor's socket. Before start the caller waits and
// is connected at the create/start barrier (start.ts), so `docker run -it` loses no output.
import { join } from 'node:path';
import type { AttachSession } from '../api.js';
import { attachSession, connectMonitor } from '../containers/attach.js';
import type { EngineContext } from './context.js';
import { isActive } from './state.js';

export async function attachContainer(ctx: EngineContext, idOrName: string): Promise<AttachSession> {
  const rec = ctx.records.find(idOrName);
  if (isActive(rec.state.status)) return attachSession(await connectMonitor(join(ctx.runRoot, rec.id, 'monitor.sock')));
  return new Promise((resolve) => {
    ctx.pendingAttach.set(rec.id, [...(ctx.pendingAttach.get(rec.id) ?? []), resolve]);
  });
}
