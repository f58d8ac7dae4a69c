// Signal one process of a container, picked in the pid diagram by its host pid. The pid comes from
// a browser, so it is untrusted: it may name a host process, another container's process, the
// container's monitor, or a pid that was recycled since the diagram was drawn.
//
// The order matters:
//   1. pidfd_open(pid): from now on the descriptor names one process for good (a pidfd never
//      follows a pid number to a new owner).
//   2. check /proc/PID: its cgroup is this container's (glassbox/<id>, not <id>/monitor) and it
//      is in the container's pid namespace or one nested in it (NSpid at least as deep as init's).
//   3. pidfd_send_signal(fd, sig). If the checked process died and its pid went to someone else
//      between 1 and 3, the check in 2 read the newcomer but the signal goes to the pidfd's dead
//      process and fails with ESRCH: a recycled pid is never signalled.
import { readlinkSync } from 'node:fs';
import { closeFd, pidfdOpen, pidfdSendSignal, SyscallError } from '../../../native/libc.js';
import { containerFromCgroup, parseStatus, statusState } from '../inspect/namespaces.js';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { containerEvent, type EngineContext } from './context.js';
import { parseSignal, signalName } from './signals.js';
import { readText as read } from '../util/fsx.js';
import { isActive } from './state.js';

export interface SignalResult {
  containerId: string;
  pid: number;
  signal: number;
  signalName: string;
  comm: string;
}

function pidNs(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

/**
 * Why this pid is not a process the container may be signalled through, or null when it is.
 * Reads /proc/PID while the caller holds a pidfd on it.
 */
export function refuseForeign(pid: number, containerId: string, initPid: number): string | null {
  const cg = containerFromCgroup(read(`/proc/${pid}/cgroup`));
  if (!cg || !(containerId.startsWith(cg) || cg.startsWith(containerId))) {
    return `pid ${pid} is not a process of container ${containerId.slice(0, 12)} (its cgroup is not the container's)`;
  }
  const status = read(`/proc/${pid}/status`);
  const initStatus = read(`/proc/${initPid}/status`);
  if (!status || !initStatus) return `pid ${pid} is gone`;
  const mine = parseStatus(status).nspid;
  const init = parseStatus(initStatus).nspid;
  // the container's own pid namespace, or one nested inside it: NSpid is at least as deep as
  // init's, and at init's depth it is in init's namespace (same inode when at the same depth)
  if (mine.length < init.length) return `pid ${pid} is not in the container's pid namespace`;
  if (mine.length === init.length && pidNs(pid) !== null && pidNs(pid) !== pidNs(initPid)) return `pid ${pid} is not in the container's pid namespace`;
  return null;
}

export function signalContainerProcess(ctx: EngineContext, idOrName: string, hostPid: number, signal: string | number): SignalResult {
  const rec = ctx.records.find(idOrName);
  if (!Number.isInteger(hostPid) || hostPid <= 0) throw new InvalidArgument(`pid: expected a positive integer, got ${hostPid}`);
  const num = parseSignal(signal);
  if (!isActive(rec.state.status)) throw new Conflict(`container ${rec.name} is not running`);
  let fd: number;
  try {
    fd = pidfdOpen(hostPid);
  } catch (e) {
    if (e instanceof SyscallError && (e.code === 'ESRCH' || e.code === 'EINVAL')) throw new NotFound(`no process ${hostPid} in container ${rec.name}`);
    throw e;
  }
  try {
    const status = read(`/proc/${hostPid}/status`) ?? '';
    const st = parseStatus(status);
    const zombie = statusState(status) === 'Z';
    // a zombie has left its cgroup and namespaces behind: it belongs to the container when its
    // parent (which still holds its exit status) does
    const why = refuseForeign(zombie ? st.ppid : hostPid, rec.id, rec.state.pid);
    // a foreign pid is reported as absent: the caller learns nothing about the host's processes
    if (why) throw new NotFound(`no process ${hostPid} in container ${rec.name}: ${zombie ? `its parent ${st.ppid} is not the container's` : why}`);
    const comm = st.comm;
    if (zombie) {
      throw new Conflict(
        `pid ${hostPid} (${comm}) is a zombie: it has already exited and no signal reaches it. Its parent (pid ${st.ppid}) must wait() for it, or exit so that init adopts and reaps it`,
      );
    }
    try {
      pidfdSendSignal(fd, num);
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ESRCH') throw new NotFound(`process ${hostPid} exited before the signal`);
      throw e;
    }
    const name = signalName(num);
    ctx.emit(containerEvent('kill', rec, { signal: String(num), pid: String(hostPid) }));
    return { containerId: rec.id, pid: hostPid, signal: num, signalName: name, comm };
  } finally {
    closeFd(fd);
  }
}
