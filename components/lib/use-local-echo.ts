'use client';
// The local echo setting (lib/local-echo.ts), on unless switched off, remembered in localStorage
// and shared by every terminal of the page.
import { useCallback, useEffect, useState } from 'react';

const KEY = 'glassbox.local-echo';
const CHANGED = 'glassbox-local-echo';

export function useLocalEcho(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(true);
  useEffect(() => {
    const read = () => {
      try {
        setOn(localStorage.getItem(KEY) !== 'off');
      } catch {
        /* storage disabled: on */
      }
    };
    read();
    const onStorage = (e: StorageEvent) => e.key === KEY && read();
    window.addEventListener('storage', onStorage);
    window.addEventListener(CHANGED, read);
    return () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener(CHANGED, read);
    };
  }, []);
  const set = useCallback((v: boolean) => {
    try {
      localStorage.setItem(KEY, v ? 'on' : 'off');
    } catch {
      /* storage disabled: this page only */
    }
    setOn(v);
    window.dispatchEvent(new Event(CHANGED));
  }, []);
  return [on, set];
}
