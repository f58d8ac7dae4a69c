'use client';
// While a learner types in a terminal, the page's looping animations (a running container's
// pulsing dot, the network diagram's flowing packets) hold still, and start again a moment after
// the last key. Why: a page that is animating always has a frame on the way, and Chromium keeps
// the tasks that follow a key press (the WebSocket message with the shell's echo among them) until
// that frame is drawn; the echo then waits for the frame after it. On a still page the echo is
// handled the moment it arrives and drawn in the very next frame: about 16 ms sooner per key.
// (globals.css: html[data-typing] pauses every animation.)

/** how long after the last key the animations start again */
export const STILL_MS = 1500;

let timer: ReturnType<typeof setTimeout> | null = null;

/** A key went to a terminal: keep the page still until STILL_MS after the last one. */
export function typed(): void {
  const html = document.documentElement;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    delete html.dataset.typing;
  }, STILL_MS);
  // set in the frame that is coming anyway (the key's own): a change made now would be one more
  // reason to draw a frame before the echo is handled
  if (!('typing' in html.dataset)) requestAnimationFrame(() => (html.dataset.typing = ''));
}
