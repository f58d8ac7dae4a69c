import { describe, expect, it } from 'vitest';
import { parseDockerRun, parseSize, shellSplit } from '../../components/lib/docker-run';

describe('shellSplit', () => {
  it('splits words with quotes and escapes', () => {
    expect(shellSplit(`a 'b c' "d \\"e\\"" f\\ g`)).toEqual(['a', 'b c', 'd "e"', 'f g']);
    expect(shellSplit(`x "" ''`)).toEqual(['x', '', '']);
    expect(shellSplit('docker run \\\n  -it busybox')).toEqual(['docker', 'run', '-it', 'busybox']);
  });
  it('refuses unterminated quotes', () => {
    expect(() => shellSplit(`echo 'oops`)).toThrow(/quote/);
  });
});

describe('parseSize', () => {
  it('reads docker sizes', () => {
    expect(parseSize('512')).toBe(512);
    expect(parseSize('64k')).toBe(65536);
    expect(parseSize('256m')).toBe(256 * 1024 * 1024);
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(() => parseSize('lots')).toThrow();
  });
});

describe('parseDockerRun', () => {
  it('fills a config from a typical line', () => {
    const r = parseDockerRun(
      `docker run -it --rm --name web -h box1 -m 256m --cpus 0.5 --pids-limit 64 --network none --init --read-only -e A=1 -e 'B=two words' busybox sh -c 'echo hi'`,
    );
    expect(r.detach).toBe(false);
    expect(r.config).toEqual({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo hi'],
      name: 'web',
      hostname: 'box1',
      env: ['A=1', 'B=two words'],
      network: 'none',
      tty: true,
      openStdin: true,
      autoRemove: true,
      init: true,
      readOnlyRoot: true,
      limits: { memory: 256 * 1024 * 1024, cpus: 0.5, pids: 64 },
    });
  });

  it('handles --flag=value, combined short flags, glued values and namespaces', () => {
    const r = parseDockerRun(`docker container run -dit --memory=1g -p8080:80 -p 127.0.0.1:53:53/udp --pid=host --userns host --ipc private --uts=host --privileged --cap-add NET_ADMIN --cap-drop=cap_chown --security-opt seccomp=unconfined alpine`);
    expect(r.detach).toBe(true);
    expect(r.config.limits).toEqual({ memory: 1024 ** 3 });
    expect(r.config.ports).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' },
    ]);
    expect(r.config.namespaces).toEqual({ pid: false, user: false, ipc: true, uts: false });
    expect(r.config.privileged).toBe(true);
    expect(r.config.capAdd).toEqual(['NET_ADMIN']);
    expect(r.config.capDrop).toEqual(['CHOWN']);
    expect(r.config.seccomp).toBe('unconfined');
    expect(r.config.cmd).toBeUndefined();
  });

  it('accepts just the options and image, volumes, tmpfs, restart, labels, entrypoint', () => {
    const r = parseDockerRun(`-v /srv/data:/data:ro --tmpfs /run --restart on-failure:3 -l a=b --entrypoint "" --user 1000:1000 -w /tmp img:1 ls -l`);
    expect(r.config.mounts).toEqual([
      { type: 'bind', source: '/srv/data', target: '/data', readOnly: true },
      { type: 'tmpfs', target: '/run' },
    ]);
    expect(r.config.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(r.config.labels).toEqual({ a: 'b' });
    expect(r.config.entrypoint).toEqual([]);
    expect(r.config.user).toBe('1000:1000');
    expect(r.config.workingDir).toBe('/tmp');
    expect(r.config.image).toBe('img:1');
    expect(r.config.cmd).toEqual(['ls', '-l']);
  });

  it('the command after the image keeps its own flags', () => {
    const r = parseDockerRun('docker run busybox ls -la /');
    expect(r.config.cmd).toEqual(['ls', '-la', '/']);
  });

  it('warns about named volumes and unknown security options', () => {
    const r = parseDockerRun('docker run -v data:/data --security-opt apparmor=x busybox');
    expect(r.warnings.length).toBe(2);
    expect(r.config.mounts).toBeUndefined();
  });

  it('reports errors clearly', () => {
    expect(() => parseDockerRun('docker run -it')).toThrow(/no image/);
    expect(() => parseDockerRun('docker run --name')).toThrow(/needs a value/);
    expect(() => parseDockerRun('docker run -p 99999:80 busybox')).toThrow(/port/);
    expect(() => parseDockerRun('docker run --pid=weird busybox')).toThrow(/--pid/);
  });

  it('fills what it knows and names the flags it does not, instead of refusing the line', () => {
    const r = parseDockerRun('docker run -it --frobnicate --gpus all --add-host db:10.0.0.9 -P --memory 64m --shm-size=1g --name web busybox sh');
    expect(r.config.image).toBe('busybox');
    expect(r.config.cmd).toEqual(['sh']);
    expect(r.config.name).toBe('web');
    expect(r.config.limits?.memory).toBe(64 * 1024 * 1024);
    expect(r.config.tty).toBe(true);
    expect(r.ignored).toEqual(['--frobnicate', '--gpus', '--add-host', '-P', '--shm-size']);
    expect(r.warnings).toContain('ignored: --frobnicate, --gpus, --add-host, -P, --shm-size');
    // an unknown letter among known short flags, a glued value of an unknown short flag
    const s = parseDockerRun('docker run -itP -aSTDOUT busybox');
    expect(s.config.tty && s.config.openStdin).toBe(true);
    expect(s.ignored).toEqual(['-P', '-a']);
    expect(s.config.image).toBe('busybox');
    // nothing unknown: no "ignored" note
    expect(parseDockerRun('docker run busybox').warnings).toEqual([]);
    // a known docker flag that takes a value still needs one
    expect(() => parseDockerRun('docker run --gpus')).toThrow(/needs a value: --gpus/);
  });
});
