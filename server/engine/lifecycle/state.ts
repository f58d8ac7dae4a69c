// The container state machine, in one place (runc's libcontainer keeps its own the same way).
//
//   created ──start──▶ running ──pause──▶ paused
//      ▲                 │  ▲                │
//      │ (start failed)  │  └────unpause─────┘
//      │                 ▼                   │
//      └─────────────  exited ◀──────────────┘   (init ended, or was killed)
//                      │    ▲
//       restart policy ▼    │ stop / rm -f during the back-off
//                   restarting ──start──▶ running
//
// "active" = init is alive (running or paused): it can be signalled, joined, paused.
// "alive"  = active, or waiting for the restart policy's next start.
import { Conflict, type ContainerRecord, type ContainerStatus } from '../types.js';

export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused';
}

export function isAlive(status: ContainerStatus): boolean {
  return isActive(status) || status === 'restarting';
}

/** Where each status may go next. */
const NEXT: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['running', 'created', 'exited'],
  running: ['paused', 'exited'],
  paused: ['running', 'exited'],
  restarting: ['exited', 'running'],
  // a failed first start leaves a container that never ran 'created' again
  exited: ['running', 'restarting', 'exited', 'created'],
  removing: ['dead'],
  dead: [],
};

/** Move a record to its next status; a move the machine does not have is a bug, refused loudly. */
export function transition(rec: ContainerRecord, to: ContainerStatus): void {
  const from = rec.state.status;
  if (from === to && to !== 'created' && to !== 'exited') return;
  if (!NEXT[from].includes(to)) throw new Conflict(`container ${rec.name}: cannot go from ${from} to ${to}`);
  rec.state.status = to;
}
