// The record store's removal: one rename takes the record away (a server killed during the rm -r
// never restarts with a half-deleted container), the rm -r runs off the event loop, many removals
// at once all finish, and load() finishes a removal the server died in.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordStore } from '../../server/engine/containers/record-store.js';
import type { ContainerRecord } from '../../server/engine/types.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'record-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const id = (n: number) => n.toString(16).padStart(64, '0');
function fill(store: RecordStore, n: number): void {
  for (let i = 1; i <= n; i++) {
    store.save({ id: id(i), name: `c${i}` } as unknown as ContainerRecord);
    // what a container directory holds besides its record: a layer with files, nested
    mkdirSync(join(dir, id(i), 'upper', 'etc', 'deep'), { recursive: true });
    writeFileSync(join(dir, id(i), 'upper', 'etc', 'deep', 'f'), 'x');
  }
}

describe('RecordStore.delete', () => {
  it('removes 100 records at once, all of them, leaving no directory', async () => {
    const store = new RecordStore(dir);
    fill(store, 100);
    await Promise.all(store.all().map((r) => store.delete(r.id)));
    expect(store.all()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect(new RecordStore(dir).load()).toEqual([]);
  });

  it('forgets the record before its directory is gone, and a second delete is fine', async () => {
    const store = new RecordStore(dir);
    fill(store, 1);
    const p = store.delete(id(1));
    expect(() => store.find(id(1))).toThrow(/No such container/);
    await p;
    await expect(store.delete(id(1))).resolves.toBeUndefined();
  });

  it('load() finishes a removal the server died in (renamed, not yet deleted) and never loads it', () => {
    const store = new RecordStore(dir);
    fill(store, 2);
    // as delete() leaves it between its rename and its rm -r
    mkdirSync(join(dir, `.gone-${id(2)}`));
    writeFileSync(join(dir, `.gone-${id(2)}`, 'record.json'), JSON.stringify({ id: id(2), name: 'c2' }));
    rmSync(join(dir, id(2)), { recursive: true });
    const again = new RecordStore(dir);
    expect(again.load().map((r) => r.id)).toEqual([id(1)]);
    expect(readdirSync(dir)).toEqual([id(1)]);
  });
});
