// Helpers of the volume, cp and prune e2e tests: docker with a stdin, and a root filesystem that runs.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { makeTar, type TarEntry } from '../integration/image-fixtures.js';
import { DOCKER } from './docker-support.js';

/** docker with a stdin (docker import -). */
export function dockerIn(socket: string, args: string[], input: Buffer): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(DOCKER, ['-H', `unix://${socket}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    p.stdin.end(input);
  });
}

/** A root filesystem that runs: busybox-static and the applets the tests call, plus `extra`. */
export async function busyboxRoot(extra: TarEntry[]): Promise<Buffer> {
  const applets = ['sh', 'echo', 'cat', 'ls', 'id', 'stat', 'mkdir', 'touch', 'sleep', 'test', 'readlink', 'mount', 'grep', 'wc', 'rm', 'dd'];
  return makeTar([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
    ...applets.map((n) => ({ name: `bin/${n}`, type: 'symlink' as const, linkname: 'busybox', mode: 0o777 })),
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' },
    { name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'proc/', type: 'directory', mode: 0o755 },
    { name: 'sys/', type: 'directory', mode: 0o755 },
    { name: 'dev/', type: 'directory', mode: 0o755 },
    ...extra,
  ]);
}


/** docker's stdout as bytes (docker cp c:/path - writes a tar), asynchronously: the API server runs in this process. */
export function dockerBytes(socket: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(DOCKER, ['-H', `unix://${socket}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`docker ${args.join(' ')} → ${code}: ${err}`))));
  });
}
