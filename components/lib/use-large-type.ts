'use client';
import { useEffect, useState } from 'react';

/** true while the projector ("large type") setting is on */
export function useLargeType(): boolean {
  const [large, setLarge] = useState(false);
  useEffect(() => {
    const html = document.documentElement;
    const read = () => setLarge(html.classList.contains('large-type'));
    read();
    const mo = new MutationObserver(read);
    mo.observe(html, { attributes: true, attributeFilter: ['class'] });
    return () => mo.disconnect();
  }, []);
  return large;
}
