'use client';
// What the "classroom" channel tells a learner's page: the idle warning, a removed sandbox, being
// followed by the teacher, the teacher's broadcast (its state, and its terminal output as a feed).
import { useEffect, useState } from 'react';
import { channel } from './client';
import { forgetWhoami, whoami, type BroadcastState } from './classroom';
import { TextFeed } from './text-feed';

/** the broadcast's screen, kept for the whole page load (a dismissed panel reopens on it) */
export const broadcastFeed = new TextFeed();

export interface LearnerLive {
  /** the idle warning: when the sandbox goes, in ms since epoch; null: no warning */
  idleUntil: number | null;
  /** why the sandbox was removed, until dismissed */
  removed: string | null;
  followed: boolean;
  broadcast: BroadcastState | null;
  /** the session is over (revoked, the class ended): the token no longer works */
  ended: boolean;
  dismissRemoved(): void;
}

export function useLearnerLive(enabled: boolean): LearnerLive {
  const [idleUntil, setIdleUntil] = useState<number | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  const [followed, setFollowed] = useState(false);
  const [broadcast, setBroadcast] = useState<BroadcastState | null>(null);
  const [ended, setEnded] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    const s = channel('classroom');
    const onIdle = (m: { secondsLeft: number }) => setIdleUntil(m.secondsLeft > 0 ? Date.now() + m.secondsLeft * 1000 : null);
    const onRemoved = (m: { reason: string }) => {
      setRemoved(m.reason);
      setIdleUntil(null);
      if (m.reason === 'revoked' || m.reason === 'class-ended') setEnded(true);
    };
    const onFollowed = (m: { active: boolean }) => setFollowed(!!m.active);
    const onBroadcast = (m: BroadcastState) => {
      setBroadcast(m.active ? m : null);
      if (!m.active) broadcastFeed.push('', true);
    };
    const onData = (m: { data: string; reset: boolean }) => broadcastFeed.push(m.data, m.reset);
    // the server closing the socket, or refusing it: is the session still good?
    const check = () => {
      forgetWhoami();
      whoami().then(
        (w) => {
          if (!w) setEnded(true);
        },
        () => {},
      );
    };
    const onDisconnect = (reason: string) => {
      setFollowed(false);
      if (reason === 'io server disconnect') check();
    };
    const onConnectError = () => check();
    s.on('idle-warning', onIdle);
    s.on('sandbox-removed', onRemoved);
    s.on('followed', onFollowed);
    s.on('broadcast', onBroadcast);
    s.on('broadcast:data', onData);
    s.on('disconnect', onDisconnect);
    s.on('connect_error', onConnectError);
    if (s.connected) s.emit('broadcast:sync', {});
    else if (!s.active) s.connect();
    return () => {
      s.off('idle-warning', onIdle);
      s.off('sandbox-removed', onRemoved);
      s.off('followed', onFollowed);
      s.off('broadcast', onBroadcast);
      s.off('broadcast:data', onData);
      s.off('disconnect', onDisconnect);
      s.off('connect_error', onConnectError);
    };
  }, [enabled]);
  return { idleUntil, removed, followed, broadcast, ended, dismissRemoved: () => setRemoved(null) };
}
