// The daemon configuration file's parser, the log options and the log reader across rotated files.
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonConfigError, loadDaemonConfig, parseDaemonConfig, SHIPPED_DEFAULTS } from '../../server/engine/config/daemon-config.js';
import { applyDaemonDefaults } from '../../server/engine/config/apply-defaults.js';
import { mergeLogOptions, resolveLogSettings } from '../../server/engine/containers/log-config.js';
import { parseUlimit } from '../../server/engine/containers/ulimits.js';
import { readLogs } from '../../server/engine/containers/logs.js';
import { formatSize, parseSize } from '../../server/engine/util/size.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'gbcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bad = (value: unknown) => {
  try {
    parseDaemonConfig(value, '/etc/glassbox/config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(DaemonConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('daemon configuration', () => {
  it('an empty file is the shipped defaults', () => {
    expect(parseDaemonConfig({}, 'x')).toEqual(SHIPPED_DEFAULTS);
    expect(SHIPPED_DEFAULTS).toMatchObject({ defaultPidsLimit: 2048, defaultShmSize: 64 * MiB, defaultTmpfsSize: 64 * MiB, storageSize: null });
  });

  it('reads every key in daemon.json units', () => {
    const c = parseDaemonConfig(
      {
        'default-pids-limit': -1,
        'log-driver': 'local',
        'default-shm-size': '128m',
        'default-tmpfs-size': '16M',
        'default-ulimits': { nofile: { soft: 1024, hard: 4096 } },
        'default-memory': '1g',
        'storage-opts': { size: '2G' },
      },
      'x',
    );
    expect(c).toEqual({
      defaultPidsLimit: null,
      logDriver: 'local',
      logOpts: {}, // local does not inherit json-file's options: its own 20m x 5
      defaultShmSize: 128 * MiB,
      defaultTmpfsSize: 16 * MiB,
      defaultUlimits: [{ name: 'nofile', soft: 1024, hard: 4096 }],
      defaultMemory: 1024 * MiB,
      storageSize: 2048 * MiB,
    });
  });

  it('names the key of a bad value or an unknown key', () => {
    expect(bad({ 'default-ulimits': { nofile: { soft: 'x', hard: 1 } } })).toBe('config /etc/glassbox/config.json: default-ulimits.nofile.soft: expected a number');
    expect(bad({ 'default-pids-limit': 0 })).toMatch(/: default-pids-limit: expected -1 \(none\) or a limit of at least 1$/);
    expect(bad({ 'default-pids-limit': '10' })).toMatch(/: default-pids-limit: expected a number$/);
    expect(bad({ 'log-driver': 'syslog' })).toMatch(/: log-driver: expected one of json-file, local, none$/);
    expect(bad({ 'log-opts': { 'max-file': 3 } })).toMatch(/: log-opts.max-file: expected a string/);
    expect(bad({ 'log-opts': { 'max-size': 'big' } })).toMatch(/: log-opts: max-size: "big" is not a size/);
    expect(bad({ 'log-opts': { 'max-file': '3' } })).toMatch(/: log-opts: max-file cannot be set when max-size is not set$/);
    expect(bad({ 'default-shm-size': '64 potatoes' })).toMatch(/: default-shm-size: expected a size like "64m"$/);
    expect(bad({ 'default-ulimits': { nofile: { soft: 10, hard: 5 } } })).toMatch(/default-ulimits: ulimit soft limit must be less than or equal to hard limit/);
    expect(bad({ 'default-ulimits': { files: { soft: 1, hard: 1 } } })).toMatch(/default-ulimits: invalid ulimit type: files/);
    expect(bad({ 'storage-opts': { size: '1m' } })).toMatch(/storage-opts.size: at least 16m/);
    expect(bad({ 'storage-opts': { quota: '1g' } })).toMatch(/: storage-opts.quota: unknown key$/);
    expect(bad({ debug: true })).toMatch(/: debug: unknown key$/);
    expect(bad([1])).toMatch(/\(top level\)/);
  });

  it('the file: absent default is fine, an absent GLASSBOX_CONFIG or bad JSON is not', () => {
    expect(() => loadDaemonConfig(join(dir, 'missing.json'))).toThrow(/no such file/);
    writeFileSync(join(dir, 'broken.json'), '{"default-pids-limit": 1,');
    expect(() => loadDaemonConfig(join(dir, 'broken.json'))).toThrow(/broken.json: not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), '{"default-pids-limit": 100}');
    expect(loadDaemonConfig(join(dir, 'ok.json')).defaultPidsLimit).toBe(100);
  });
});

describe('log options', () => {
  it('json-file, local and none', () => {
    expect(resolveLogSettings('json-file', {})).toEqual({ driver: 'json-file', maxSize: null, maxFiles: 1 });
    expect(resolveLogSettings('json-file', { 'max-size': '10m', 'max-file': '3' })).toEqual({ driver: 'json-file', maxSize: 10 * MiB, maxFiles: 3 });
    expect(resolveLogSettings('local', {})).toEqual({ driver: 'local', maxSize: 20 * MiB, maxFiles: 5 });
    expect(resolveLogSettings('none', {})).toEqual({ driver: 'none', maxSize: null, maxFiles: 1 });
    expect(() => resolveLogSettings('local', { compress: 'true' })).toThrow(/compress=true is not supported/);
    expect(() => resolveLogSettings('gelf', {})).toThrow(/log driver "gelf" is not supported/);
  });

  it("a container of the daemon's driver inherits its options (Docker's merge)", () => {
    const daemon = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } };
    expect(mergeLogOptions(undefined, daemon)).toEqual(daemon);
    expect(mergeLogOptions({ options: { 'max-file': '5' } }, daemon)).toEqual({ driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } });
    expect(mergeLogOptions({ driver: 'local' }, daemon)).toEqual({ driver: 'local', options: {} });
  });

  it('defaults go on the record: pids, tmpfs size, ulimits merged by name', () => {
    const d = parseDaemonConfig({ 'default-ulimits': { nofile: { soft: 10, hard: 20 }, core: { soft: 0, hard: 0 } } }, 'x');
    const base = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };
    const a = applyDaemonDefaults({ image: 'b', mounts: [{ type: 'tmpfs', target: '/t' }], ulimits: [{ name: 'nofile', soft: 1, hard: 2 }] }, base, d);
    expect(a.limits.pids).toBe(2048);
    expect(a.config.mounts).toEqual([{ type: 'tmpfs', target: '/t', size: 64 * MiB }]);
    expect(a.config.ulimits).toEqual([{ name: 'core', soft: 0, hard: 0 }, { name: 'nofile', soft: 1, hard: 2 }]);
    expect(a.config.shmSize).toBe(64 * MiB);
    expect(a.logging).toEqual({ driver: 'json-file', maxSize: 10 * MiB, maxFiles: 3 });
    // an explicit "no limit" is not replaced by the default
    expect(applyDaemonDefaults({ image: 'b', limits: { pids: null } }, base, d).limits.pids).toBeNull();
  });

  it('sizes and ulimits in Docker spelling', () => {
    expect(parseSize('64m')).toBe(64 * MiB);
    expect(parseSize('1.5g')).toBe(1.5 * 1024 * MiB);
    expect(parseSize('10MB')).toBe(10 * MiB);
    expect(parseSize('512')).toBe(512);
    expect(parseSize('ten')).toBeNull();
    expect(formatSize(10 * MiB)).toBe('10m');
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('nproc=50')).toEqual({ name: 'nproc', soft: 50, hard: 50 });
  });
});

describe('reading a rotated log', () => {
  const entry = (n: number) => JSON.stringify({ stream: 'stdout', time: `2026-12-01T00:00:${String(n).padStart(2, '0')}.000000000Z`, log: `${n}\n` }) + '\n';

  it('reads log.2, log.1, log in order, and tail counts across them', async () => {
    const log = join(dir, 'a.log');
    writeFileSync(`${log}.2`, entry(1) + entry(2));
    writeFileSync(`${log}.1`, entry(3));
    writeFileSync(log, entry(4) + entry(5));
    const all: string[] = [];
    for await (const e of readLogs(log, {}, () => false)) all.push(e.log.trim());
    expect(all).toEqual(['1', '2', '3', '4', '5']);
    const tail: string[] = [];
    for await (const e of readLogs(log, { tail: 3 }, () => false)) tail.push(e.log.trim());
    expect(tail).toEqual(['3', '4', '5']);
  });

  it('a follower finishes the old file when the monitor rotates, then reads the new one', async () => {
    const log = join(dir, 'b.log');
    writeFileSync(log, entry(1));
    let running = true;
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of readLogs(log, { follow: true }, () => running)) got.push(e.log.trim());
    })();
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(log, entry(2)); // written just before the rotation, not yet read
    renameSync(log, `${log}.1`);
    writeFileSync(log, entry(3));
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await reading;
    expect(got).toEqual(['1', '2', '3']);
  });

  it('a follower keeps going when rotation outruns it (a file gone between its check and its open)', async () => {
    // `yes` in a container fills and rotates the log every few tens of ms: the files the reader
    // lists are renamed or removed under it. It may miss lines then (as Docker's reader does), but
    // it must neither fail nor reorder them.
    const log = join(dir, 'c.log');
    writeFileSync(log, '');
    let running = true;
    const got: number[] = [];
    let failed: unknown = null;
    const reading = (async () => {
      try {
        for await (const e of readLogs(log, { follow: true }, () => running)) got.push(Number(e.log));
      } catch (e) {
        failed = e;
      }
    })();
    // the writer is another process, as the monitor is: it rotates while the reader is mid-step
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const log = ${JSON.stringify(log)}; let n = 0;
         const pause = new Int32Array(new SharedArrayBuffer(4));
         for (let k = 1; ; k++) {
           let s = ''; for (let i = 0; i < 500; i++) s += JSON.stringify({ stream: 'stdout', time: '2026-12-01T00:00:00.000000000Z', log: String(++n) }) + '\\n';
           fs.appendFileSync(log, s);
           // max-file 2, every ~10 ms: log.1 is dropped, log becomes log.1, a new log starts
           if (k % 10 === 0) { fs.rmSync(log + '.1', { force: true }); fs.renameSync(log, log + '.1'); fs.writeFileSync(log, ''); }
           Atomics.wait(pause, 0, 0, 1);
         }`,
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 3000));
    const exited = new Promise((r) => writer.once('exit', r));
    writer.kill('SIGKILL');
    await exited;
    running = false;
    await reading;
    expect(failed).toBeNull();
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((v, i) => i === 0 || v > got[i - 1])).toBe(true);
  });

  it('a follower with maxLagBytes skips ahead to whole lines and says how much it skipped', async () => {
    const log = join(dir, 'd.log');
    writeFileSync(log, entry(1));
    const got: { stream: string; log: string }[] = [];
    let running = true;
    const reading = (async () => {
      for await (const e of readLogs(log, { follow: true, tail: 0, maxLagBytes: 1000 }, () => running)) got.push(e);
    })();
    await new Promise((r) => setTimeout(r, 150));
    const line = (n: number) => JSON.stringify({ stream: 'stdout', time: '2026-12-01T00:00:00.000000000Z', log: `${n}\n` }) + '\n';
    appendFileSync(log, Array.from({ length: 5000 }, (_, i) => line(i)).join(''));
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await reading;
    expect(got[0].stream).toBe('stderr');
    const skipped = Number(/(\d+) bytes of log skipped/.exec(got[0].log)?.[1]);
    const kept = got.slice(1).map((e) => Number(e.log));
    // the last lines, whole, in order, ending with the last one written; skipped + kept = written
    expect(kept[kept.length - 1]).toBe(4999);
    expect(kept.every((v, i) => i === 0 || v === kept[i - 1] + 1)).toBe(true);
    expect(kept.length * line(4999).length).toBeLessThanOrEqual(1000 + line(4999).length);
    expect(skipped + kept.reduce((n, v) => n + line(v).length, 0)).toBe(Array.from({ length: 5000 }, (_, i) => line(i)).join('').length);
  });

});
