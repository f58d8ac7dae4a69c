// network/state-file.ts: one file per endpoint, only what changed is written, an older server's
// leases.json is read and replaced.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadState, readLeases, saveState } from '../../server/engine/network/state-file.js';
import type { EndpointRecord, NetState } from '../../server/engine/network/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function state(): NetState {
  const root = mkdtempSync('/tmp/gbfk-ns-');
  dirs.push(root);
  const dir = join(root, 'network');
  mkdirSync(dir);
  return { root, dir, names: {} as NetState['names'], networks: [], endpoints: {}, proxies: new Map(), rules: [] };
}
const ep = (id: string, ip: string) => ({ containerId: id, name: id, mode: 'bridge', attachments: [{ ip }], ports: [] }) as unknown as EndpointRecord;
const mtime = (p: string) => statSync(p).mtimeMs;

describe('network state file', () => {
  it('writes one file per endpoint, only the changed one, and removes a released one', async () => {
    const s = state();
    loadState(s);
    s.endpoints.a = ep('a', '10.0.0.2');
    s.endpoints.b = ep('b', '10.0.0.3');
    saveState(s);
    expect(readdirSync(join(s.dir, 'leases')).sort()).toEqual(['a.json', 'b.json']);
    const bTime = mtime(join(s.dir, 'leases', 'b.json'));
    await new Promise((r) => setTimeout(r, 20));
    (s.endpoints.a.attachments[0] as { ip: string }).ip = '10.0.0.9';
    saveState(s); // a full save compares all, writes only a
    expect(mtime(join(s.dir, 'leases', 'b.json'))).toBe(bTime);
    delete s.endpoints.a;
    saveState(s, 'a');
    expect(readdirSync(join(s.dir, 'leases'))).toEqual(['b.json']);
    const again = state();
    Object.assign(again, { dir: s.dir });
    loadState(again);
    expect(Object.keys(again.endpoints)).toEqual(['b']);
  });

  it("reads an older server's leases.json and replaces it at the next save", () => {
    const s = state();
    writeFileSync(join(s.dir, 'leases.json'), JSON.stringify({ endpoints: { old: ep('old', '10.0.0.4') } }));
    loadState(s);
    expect(Object.keys(s.endpoints)).toEqual(['old']);
    s.endpoints.c = ep('c', '10.0.0.5');
    saveState(s, 'c'); // a partial save still carries the legacy endpoints over
    expect(readdirSync(s.dir).sort()).toEqual(['leases', 'networks.json']);
    expect(Object.keys(readLeases(s.dir)).sort()).toEqual(['c', 'old']);
  });

  it('a state never loaded mirrors its memory on a full save (strays go)', () => {
    const s = state();
    mkdirSync(join(s.dir, 'leases'));
    writeFileSync(join(s.dir, 'leases', 'stray.json'), JSON.stringify(ep('stray', '10.0.0.6')));
    saveState(s);
    expect(readLeases(s.dir)).toEqual({});
  });

  it('refuses an id that is not a file name', () => {
    const s = state();
    loadState(s);
    s.endpoints['../x'] = ep('../x', '10.0.0.7');
    expect(() => saveState(s, '../x')).toThrow(/not an endpoint id/);
  });
});
