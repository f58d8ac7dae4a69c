// A container opens only the devices it was given. The learner has CAP_MKNOD (Docker's default
// set), so it can make a node for any major:minor in its /dev; what stops it reading the host's
// disk or memory through that node is the device controller: devices.deny/allow on cgroup v1
// (this host), a BPF_CGROUP_DEVICE program on v2 (`npm run test:kernels` runs this file in a pure
// v2 guest). Each attack runs for real, and the refusal must be the cgroup's EPERM, not the
// EACCES a nodev mount would give (which would hide a missing device rule).
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEngine, runToExit, type TestEnv } from '../integration/support.js';
import { requireHost } from '../helpers.js';

requireHost('the device controller attacks', { root: true });

let env: TestEnv;

beforeAll(async () => {
  env = await openTestEngine();
});

afterAll(async () => {
  await env?.cleanup();
});

/** A block device this kernel has (the host's disk, or the UML guest's ubd). */
function someBlockDevice(): string {
  return readdirSync('/sys/dev/block').sort()[0];
}

const sh = (script: string) => ({ image: 'base', cmd: ['/bin/sh', '-c', script] });

describe('devices a container was not given', () => {
  it('mknod of the host disk works (CAP_MKNOD), opening it is refused with EPERM', async () => {
    const [major, minor] = someBlockDevice().split(':');
    const r = await runToExit(env.engine, sh(`mknod /dev/gbdisk b ${major} ${minor} && echo mknod=ok; head -c 512 /dev/gbdisk | wc -c; echo "open=$(head -c1 /dev/gbdisk 2>&1 >/dev/null)"`));
    expect(r.stdout).toContain('mknod=ok');
    expect(r.stdout).toMatch(/^0$/m); // not one byte of the disk came back
    expect(r.stdout).toMatch(/open=.*Operation not permitted/);
  });

  it('/dev/mem and /dev/kmsg made by hand are refused; /dev/null, /dev/zero and the tty still work', async () => {
    const r = await runToExit(
      env.engine,
      sh(
        [
          'mknod /dev/gbmem c 1 1; echo "mem=$(head -c1 /dev/gbmem 2>&1 >/dev/null)"',
          'mknod /dev/gbkmsg c 1 11; echo "kmsg=$(head -c1 /dev/gbkmsg 2>&1 >/dev/null)"',
          'echo x > /dev/null && echo null=ok',
          'head -c4 /dev/zero | wc -c',
          'mknod /dev/gbnull c 1 3 && echo y > /dev/gbnull && echo madenull=ok',
        ].join('; '),
      ),
    );
    expect(r.stdout).toMatch(/mem=.*Operation not permitted/);
    expect(r.stdout).toMatch(/kmsg=.*Operation not permitted/);
    expect(r.stdout).toContain('null=ok');
    expect(r.stdout).toMatch(/^4$/m);
    expect(r.stdout).toContain('madenull=ok'); // an allowed major:minor is allowed under any name
  });
});
