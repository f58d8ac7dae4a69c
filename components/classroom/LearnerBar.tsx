'use client';
// Everything a learner's pages show about the class, on every page (the root layout mounts it):
// the strip, the idle warning, a removed sandbox, the end of the session, the broadcast.
import Link from 'next/link';
import { useState } from 'react';
import { REMOVED_REASON, useWhoami, type LearnerWhoami } from '../lib/classroom';
import { useContainers } from '../lib/use-containers';
import { broadcastFeed, useLearnerLive } from '../lib/use-learner-live';
import { BroadcastPanel } from './BroadcastPanel';
import { IdleBanner } from './IdleBanner';
import { LearnerStrip } from './LearnerStrip';

function Learner({ me }: { me: LearnerWhoami }) {
  const live = useLearnerLive(true);
  const { list } = useContainers();
  /** the broadcast the learner hid (by its container), so a new one shows again */
  const [hidden, setHidden] = useState<string | null>(null);
  const [idleGone, setIdleGone] = useState<number | null>(null);
  const b = live.broadcast;
  const isHidden = !!b && hidden === `${b.classId}:${b.containerId}`;
  if (live.ended) {
    return (
      <div className="border-b border-rose-600 bg-rose-950/70" role="alert" data-testid="session-ended">
        <div className="mx-auto flex max-w-[1600px] flex-wrap items-center gap-4 px-4 py-3 text-rose-100">
          <span>
            <b>Your session has ended</b> ({live.removed === 'class-ended' ? 'the class is over' : 'the teacher ended it'}): your sandbox and its containers are gone.
          </span>
          <Link href="/join" className="rounded-md border border-rose-300 px-3 py-1 hover:bg-rose-900">
            Join a class
          </Link>
        </div>
      </div>
    );
  }
  return (
    <>
      <LearnerStrip me={me} containers={list ? list.length : null} followed={live.followed} broadcastHidden={isHidden ? b.containerName : null} onShowBroadcast={() => setHidden(null)} />
      {live.idleUntil && live.idleUntil !== idleGone && <IdleBanner until={live.idleUntil} onBack={() => setIdleGone(live.idleUntil)} />}
      {live.removed && (
        <div className="border-b border-sky-700 bg-sky-950/70" role="status" data-testid="sandbox-removed">
          <div className="mx-auto flex max-w-[1600px] items-center gap-4 px-4 py-2 text-sky-100">
            <span>{REMOVED_REASON[live.removed] ?? `Your sandbox was removed (${live.removed}).`}</span>
            <button type="button" onClick={live.dismissRemoved} className="ml-auto rounded-md border border-sky-400 px-3 py-0.5 hover:bg-sky-900">
              OK
            </button>
          </div>
        </div>
      )}
      {b && !isHidden && <BroadcastPanel state={b} feed={broadcastFeed} onDismiss={() => setHidden(`${b.classId}:${b.containerId}`)} />}
    </>
  );
}

export function LearnerBar() {
  const me = useWhoami();
  if (!me || me.role !== 'learner') return null;
  return <Learner me={me} />;
}
