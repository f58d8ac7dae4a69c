// Test images made by the tests themselves: layer tars (tar-stream), OCI image layouts written by
// hand, a busybox-static layer that runs, and a Debian docker-registry started on loopback.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { freePort } from '../helpers.js';
export { freePort };
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar as layerTar, type TarEntry } from './layer-tar.js';

export type { TarEntry };

/** The image tests' tars: one fixed time (2026-01-01) and directories 0644 unless an entry says. */
export function makeTar(entries: TarEntry[]): Promise<Buffer> {
  return layerTar(entries, { mtime: new Date('2026-01-01T00:00:00Z'), dirMode: 0o644 });
}

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** A layer that runs: busybox-static with sh, echo, true, cat, ls. */
export async function busyboxLayer(): Promise<Buffer> {
  const bb = readFileSync('/bin/busybox');
  return makeTar([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', data: bb, mode: 0o755 },
    ...['sh', 'echo', 'true', 'cat', 'ls', 'id', 'stat'].map((n) => ({ name: `bin/${n}`, type: 'symlink' as const, linkname: 'busybox', mode: 0o777 })),
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  blobs: Map<string, Buffer>;
  diffIds: string[];
}

/** An OCI image (manifest + config + layer blobs) from uncompressed layer tars. */
export function buildImage(opts: { layers: Buffer[]; compress?: 'gzip' | 'none'; arch?: string; cmd?: string[]; label?: string }): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const diffIds = opts.layers.map((l) => sha256(l));
  const layerDescs = opts.layers.map((l) => {
    const blob = opts.compress === 'none' ? l : gzipSync(l);
    const digest = sha256(blob);
    blobs.set(digest, blob);
    return { mediaType: `application/vnd.oci.image.layer.v1.tar${opts.compress === 'none' ? '' : '+gzip'}`, digest, size: blob.length };
  });
  const config = Buffer.from(
    JSON.stringify({
      created: '2026-01-01T00:00:00Z',
      architecture: opts.arch ?? 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: opts.cmd ?? ['/bin/sh'], Labels: opts.label ? { test: opts.label } : undefined },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: opts.layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `test layer ${i}` })),
    }),
  );
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layerDescs,
    }),
  );
  const manifestDigest = sha256(manifest);
  blobs.set(manifestDigest, manifest);
  return { manifest, manifestDigest, config, configDigest, blobs, diffIds };
}

/** An index over images of several platforms. */
export function buildIndex(images: { image: BuiltImage; arch: string; variant?: string }[]): { body: Buffer; digest: string; blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  for (const { image } of images) for (const [d, b] of image.blobs) blobs.set(d, b);
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map(({ image, arch, variant }) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
      })),
    }),
  );
  const digest = sha256(body);
  blobs.set(digest, body);
  return { body, digest, blobs };
}

/** Write an OCI image layout with one tagged top-level entry (a manifest or an index). */
export function writeOciLayout(dir: string, tag: string, top: { digest: string; body: Buffer; mediaType: string }, blobs: Map<string, Buffer>): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const [d, b] of blobs) writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: top.mediaType, digest: top.digest, size: top.body.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export function ensureTools(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([bin]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, p]) => p))];
  execFileSync('apt-get', ['install', '-y', ...pkgs], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export interface Registry {
  port: number;
  url: string;
  host: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Debian's docker-registry (distribution 2.8) with its own config and storage, on 127.0.0.1. */
export async function startRegistry(dir: string): Promise<Registry> {
  const port = await freePort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await httpGet(`${url}/v2/`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (proc.exitCode !== null || i > 100) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url,
    host: `127.0.0.1:${port}`,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM'); // by its own handle: this PID only
      }),
  };
}

/** skopeo copy into the registry (plain http on loopback). */
export function skopeoPush(src: string, dest: string, extra: string[] = []): void {
  execFileSync('skopeo', ['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false', ...extra, src, dest], { stdio: ['ignore', 'ignore', 'pipe'] });
}
