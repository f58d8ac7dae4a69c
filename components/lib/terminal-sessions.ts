'use client';
// Which terminal sessions a container's page shows, kept in sessionStorage so that a reload
// re-attaches the same shells (the server keeps a detached session for a minute and replays its
// output). The dashboard's shell of a just-made container is saved here as its first terminal.

export interface TerminalTab {
  id: string;
  n: number;
  ended?: string;
}

const key = (containerId: string) => `glassbox.terminals.${containerId}`;

export function newSessionId(): string {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function loadTabs(containerId: string): TerminalTab[] {
  try {
    const tabs = JSON.parse(sessionStorage.getItem(key(containerId)) ?? '[]') as TerminalTab[];
    return Array.isArray(tabs) ? tabs.filter((t) => t && typeof t.id === 'string' && !t.ended) : [];
  } catch {
    return [];
  }
}

export function saveTabs(containerId: string, tabs: TerminalTab[]): void {
  try {
    sessionStorage.setItem(key(containerId), JSON.stringify(tabs.filter((t) => !t.ended)));
  } catch {
    /* storage full or disabled */
  }
}
