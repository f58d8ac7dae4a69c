// Engine events → Docker's event messages (GET /events), and the events filters.
import type { EngineEvent } from '../../engine/index.js';
import { checkFilterKeys, labelMatches, type Filters } from './filters.js';
import { badRequest } from './errors.js';

export interface DockerEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export function dockerEvent(e: EngineEvent, labels: Record<string, string> = {}): DockerEvent {
  const time = Math.floor(e.time / 1000);
  const timeNano = e.time * 1_000_000;
  if (e.type === 'container') {
    const attrs: Record<string, string> = { ...labels, image: e.image, name: e.name, ...(e.attributes ?? {}) };
    let action: string = e.action;
    // Docker's exec actions carry the command: "exec_start: sh -c ..."
    if (e.action === 'exec_start' || e.action === 'exec_create') action = `${e.action}: ${e.attributes?.command ?? ''}`.trimEnd();
    // Docker's "health_status: healthy"
    if (e.action === 'health_status') action = `health_status: ${e.attributes?.healthStatus ?? ''}`;
    return { status: action, id: e.id, from: e.image, Type: 'container', Action: action, Actor: { ID: e.id, Attributes: attrs }, scope: 'local', time, timeNano };
  }
  if (e.type === 'image') {
    const attrs: Record<string, string> = e.ref ? { name: e.ref } : {};
    return { status: e.action, id: e.ref ?? e.id, Type: 'image', Action: e.action, Actor: { ID: e.id, Attributes: attrs }, scope: 'local', time, timeNano };
  }
  const attrs: Record<string, string> = { name: e.name, ...(e.container ? { container: e.container } : {}) };
  if (e.type === 'volume') return { Type: 'volume', Action: e.action, Actor: { ID: e.id, Attributes: { driver: 'local', ...(e.container ? { container: e.container } : {}) } }, scope: 'local', time, timeNano };
  return { Type: 'network', Action: e.action, Actor: { ID: e.id, Attributes: attrs }, scope: 'local', time, timeNano };
}

/** Docker's events filters: type, event/action, container, image, label, network. */
export function eventFilter(filters: Filters): (e: DockerEvent) => boolean {
  checkFilterKeys(filters, ['type', 'event', 'action', 'container', 'image', 'label', 'network', 'scope']);
  return (e) => {
    const any = (key: string, test: (v: string) => boolean) => {
      const vs = filters.get(key);
      return !vs || vs.length === 0 || vs.some(test);
    };
    const base = e.Action.split(':')[0];
    return (
      any('type', (v) => e.Type === v) &&
      any('event', (v) => base === v || e.Action === v) &&
      any('action', (v) => base === v || e.Action === v) &&
      any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
      any('image', (v) => (e.Type === 'container' ? e.from === v : e.Type === 'image' && (e.Actor.ID === v || e.Actor.Attributes.name === v))) &&
      any('network', (v) => e.Type === 'network' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
      any('scope', (v) => v === 'local') &&
      labelMatches(e.Actor.Attributes, filters.get('label') ?? [])
    );
  };
}

/** since/until: unix seconds with optional fraction, or a Go duration-ish relative "10m"/"1h" before now. */
export function parseEventTime(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (m) return now - Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  throw badRequest(`invalid time value: ${v}`);
}
