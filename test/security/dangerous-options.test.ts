// Issue #11 "Also": options that give the host away must say so, and options the engine does not
// have must be refused, not ignored.
//   - `--runtime runc` (HostConfig.Runtime) and a REST body's runtime name a runtime the engine lacks:
//     refused with the name and the list of what it has; `docker info` lists only builtin.
//   - `--cap-add SYS_ADMIN` on this kernel (no AppArmor/SELinux) lets a fresh /proc mount open
//     /proc/sys/kernel/core_pattern for writing (opened, never written); without it the mount fails.
//     The form, the container page and `docker info` say what it and --privileged give away.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, browser, stopAll, startServer, type RunningServer } from '../e2e/dashboard-support';
import { DOCKER, dockerClient } from '../e2e/docker-support';

if (!existsSync(DOCKER)) throw new Error(`this test needs the docker CLI at ${DOCKER}`);

let srv: RunningServer;
let b: Awaited<ReturnType<typeof browser>>;
let page: Page;
const { docker, ok } = dockerClient(() => join(srv.run, 'docker.sock'));

beforeAll(async () => {
  srv = await startServer();
  b = await browser();
  page = b.page;
  await page.goto(srv.url);
}, 180_000);

afterAll(async () => {
  await stopAll(srv, b);
}, 60_000);

async function containerCount(): Promise<number> {
  return (await api<unknown[]>(srv, '/api/containers?all=1')).body.length;
}

describe('runtimes the engine does not have', () => {
  const HAS = 'this engine has builtin, runc, crun, runsc, uml';
  it('docker run --runtime NAME of one it has not is refused, naming the runtimes there are; nothing is made', async () => {
    const n = await containerCount();
    for (const rt of ['kata', 'firecracker', 'nope']) {
      const r = await docker('run', '--rm', '--runtime', rt, 'base', 'true');
      expect(r.code, rt).not.toBe(0);
      expect(r.err).toContain(`unknown or invalid runtime name: "${rt}": ${HAS}`);
    }
    expect(await containerCount()).toBe(n);
    expect((await ok('run', '--rm', 'base', 'echo', 'default-runtime-ok')).trim()).toBe('default-runtime-ok');
    expect((await ok('run', '--rm', '--runtime', 'builtin', 'base', 'echo', 'builtin-ok')).trim()).toBe('builtin-ok');
  });

  it('the REST body is refused the same way', async () => {
    const n = await containerCount();
    const r = await api<{ error: string }>(srv, '/api/containers', { body: { image: 'base', cmd: ['true'], runtime: 'kata' } });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe(`unknown or invalid runtime name: "kata": ${HAS}`);
    expect(await containerCount()).toBe(n);
  });

  it('docker info lists the runtimes the engine has, builtin the default', async () => {
    const info = JSON.parse(await ok('info', '--format', '{{json .}}')) as { Runtimes: Record<string, { path: string }>; DefaultRuntime: string };
    expect(Object.keys(info.Runtimes).sort()).toEqual(['builtin', 'crun', 'runc', 'runsc', 'uml']);
    expect(info.DefaultRuntime).toBe('builtin');
  });
});

describe('what --privileged and SYS_ADMIN give away', () => {
  it('SYS_ADMIN really makes a fresh /proc/sys writable here (opened for append, nothing written)', async () => {
    const probe = 'mkdir -p /p && mount -t proc proc /p && : >> /p/sys/kernel/core_pattern && echo writable';
    expect((await ok('run', '--rm', '--cap-add', 'SYS_ADMIN', 'base', 'sh', '-c', probe)).trim()).toBe('writable');
    const plain = await docker('run', '--rm', 'base', 'sh', '-c', probe);
    expect(plain.code).not.toBe(0);
    expect(plain.out).not.toContain('writable');
  });

  it('docker info says it, in its warnings', async () => {
    const r = await docker('info');
    expect(r.code).toBe(0);
    const text = r.out + r.err;
    expect(text).toMatch(/WARNING: Glassbox applies no AppArmor or SELinux profile/);
    if (!existsSync('/sys/module/apparmor') && !existsSync('/sys/fs/selinux')) expect(text).toContain('This kernel has no AppArmor and no SELinux.');
    expect(text).toContain('WARNING: --privileged is root on the host');
    expect(text).toContain('every host device in /dev');
    expect(text).toContain('no seccomp filter');
    expect(text).toContain('WARNING: --cap-add SYS_ADMIN is close to root on the host here.');
    expect(text).toContain('a fresh /proc mount has a writable /proc/sys');
    const info = JSON.parse(await ok('info', '--format', '{{json .}}')) as { SecurityOptions: string[] };
    expect(info.SecurityOptions).toContain('name=seccomp,profile=builtin');
    expect(info.SecurityOptions.some((o) => o.includes('apparmor'))).toBe(existsSync('/sys/module/apparmor'));
  });

  it('the form says it for --privileged and for a pasted --cap-add SYS_ADMIN', async () => {
    await page.goto(`${srv.base}/`);
    await page.waitForSelector('[data-testid=create]');
    expect(await page.$('[data-testid=privileged-warning]')).toBeNull();
    await page.click('[data-testid=privileged]');
    const priv = (await page.textContent('[data-testid=privileged-warning]')) ?? '';
    expect(priv).toContain('--privileged is root on the host');
    expect(priv).toContain('/proc/sys is writable');
    expect(priv).toContain('every host device in /dev');
    expect(priv).toContain('no seccomp filter');
    expect(priv).toContain('no AppArmor or SELinux');
    await page.click('[data-testid=privileged]');
    expect(await page.$('[data-testid=privileged-warning]')).toBeNull();
    await page.fill('[data-testid=paste]', 'docker run -it --cap-add SYS_ADMIN base');
    await page.click('[data-testid=paste-apply]');
    const sys = (await page.waitForSelector('[data-testid=privileged-warning]')).textContent();
    expect(await sys).toContain('--cap-add SYS_ADMIN is close to root on the host here.');
    expect(await sys).toContain('a fresh /proc mount has a writable /proc/sys');
  });

  it('the container page says it for a privileged and a SYS_ADMIN container, and not for a plain one', async () => {
    const make = async (body: object) => (await api<{ id: string; name: string }>(srv, '/api/containers', { body: { image: 'base', cmd: ['true'], start: false, ...body } })).body;
    const cases: [object, string | null][] = [
      [{ privileged: true }, '--privileged is root on the host'],
      [{ capAdd: ['CAP_SYS_ADMIN'] }, '--cap-add SYS_ADMIN is close to root'],
      [{ capDrop: ['ALL'], capAdd: ['sys_admin'] }, '--cap-add SYS_ADMIN is close to root'],
      [{ capAdd: ['NET_ADMIN'] }, null],
      [{}, null],
    ];
    for (const [body, says] of cases) {
      const { id, name } = await make(body);
      await page.goto(`${srv.base}/containers/${id}`);
      // the record has loaded once its name shows (the warning comes from the same record)
      await page.waitForFunction((n) => document.querySelector('[data-testid=container-name]')?.textContent === n, name);
      const el = await page.$('[data-testid=container-privilege-warning]');
      if (says === null) expect(el, JSON.stringify(body)).toBeNull();
      else {
        expect(el, JSON.stringify(body)).not.toBeNull();
        const text = (await el!.textContent()) ?? '';
        expect(text).toContain(says);
        expect(text).toContain('no AppArmor or SELinux');
      }
    }
  });
});
