// --storage-opt size=: a container layer the kernel keeps to a size. The host's state root is ext4
// here (overlay2's project quotas need XFS), so each such container gets its own filesystem: a
// sparse file in its state directory, formatted ext4 and loop-mounted; upper/ and work/ of its
// overlay live on it. A full layer is ENOSPC inside that filesystem and nothing on the host's: the
// image file never holds more than its size.
//
//   truncate -s SIZE layer.img          (sparse: takes only what is written)
//   mkfs.ext4 -q -m 0 -O ^has_journal layer.img
//   mount -o loop layer.img layer/      (mount(8) picks a free /dev/loopN, LO_FLAGS_AUTOCLEAR:
//                                        the loop device goes with the last unmount)
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, ftruncateSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument } from '../types.js';
import { isMounted } from './overlay.js';

export interface LayerFs {
  size: number;
  /** the ext4 image file */
  image: string;
  /** where it is mounted: upper/ and work/ are inside */
  mountPoint: string;
}

function findTool(name: string): string | null {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** Why a size-limited layer cannot be made on this host, or null when it can. */
export function storageUnsupportedReason(): string | null {
  if (!existsSync('/dev/loop-control')) return 'this host has no loop devices (/dev/loop-control is missing)';
  if (!findTool('mkfs.ext4')) return 'mkfs.ext4 is not installed (Debian: e2fsprogs)';
  if (!findTool('mount')) return 'mount(8) is not installed';
  if (process.getuid?.() !== 0) return 'loop devices need root';
  return null;
}

function run(tool: string, args: string[]): void {
  try {
    execFileSync(findTool(tool) ?? tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${tool} ${args.join(' ')}: ${err.stderr?.toString().trim() || err.message}`, { cause: e });
  }
}

/** Make, format and mount the layer filesystem in containerDir. Nothing is left on failure. */
export function createLayerFs(containerDir: string, size: number): LayerFs {
  return createSizedFs(containerDir, { size, image: join(containerDir, 'layer.img'), mountPoint: join(containerDir, 'layer') }, '--storage-opt size');
}

/**
 * The same for any use (a learner's volume pool): an ext4 image of fs.size bytes in dir, mounted on
 * fs.mountPoint; `what` names the option in errors. Nothing is left on failure.
 */
export function createSizedFs(dir: string, fs: LayerFs, what: string): LayerFs {
  const size = fs.size;
  const reason = storageUnsupportedReason();
  if (reason) throw new InvalidArgument(`${what} is not supported here: ${reason}`);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  // the image is sparse: a size beyond the state root's free space would let the layer fill the host's disk
  const st = statfsSync(dir);
  if (size > st.bavail * st.bsize) {
    throw new InvalidArgument(`${what}: ${size} bytes is more than the state root's filesystem has free (${st.bavail * st.bsize} bytes)`);
  }
  try {
    const fd = openSync(fs.image, 'wx', 0o600);
    try {
      ftruncateSync(fd, size);
    } finally {
      closeSync(fd);
    }
    // -m 0: no blocks reserved for root (root inside would get them); no journal: less to write
    run('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', '-E', 'nodiscard', fs.image]);
    mountLayerFs(fs);
  } catch (e) {
    removeLayerFs(fs);
    throw e;
  }
  return fs;
}

/** Mount it (again: after a reboot the record still names it). */
export function mountLayerFs(fs: LayerFs): void {
  if (isMounted(fs.mountPoint)) return;
  mkdirSync(fs.mountPoint, { recursive: true, mode: 0o711 });
  run('mount', ['-t', 'ext4', '-o', 'loop', fs.image, fs.mountPoint]);
}

/** Loop devices whose backing file is under prefix (/sys/block/loopN/loop/backing_file). */
export function loopDevicesBackedBy(prefix: string): string[] {
  const out: string[] = [];
  for (const dev of readdirSync('/sys/block').filter((d) => d.startsWith('loop'))) {
    try {
      const file = readFileSync(`/sys/block/${dev}/loop/backing_file`, 'utf8').trim();
      if (file.startsWith(prefix)) out.push(`/dev/${dev} ${file}`);
    } catch {
      /* not attached */
    }
  }
  return out;
}

/** Unmount (the loop device detaches with it), then delete the image. Missing parts are fine. */
export function removeLayerFs(fs: LayerFs): void {
  if (isMounted(fs.mountPoint)) {
    try {
      run('umount', [fs.mountPoint]);
    } catch {
      // busy (an overlay detached lazily still holds upper/): detach it too; the loop device
      // goes when the last user does (autoclear)
      run('umount', ['-l', fs.mountPoint]);
    }
  }
  // autoclear detaches once the filesystem is released; a device left attached (mount failed
  // half-way, or an old kernel) is detached by hand
  for (const line of loopDevicesBackedBy(fs.image)) {
    try {
      run('losetup', ['-d', line.split(' ')[0]]);
    } catch {
      /* already gone */
    }
  }
  rmSync(fs.image, { force: true });
  rmSync(fs.mountPoint, { recursive: true, force: true });
}

/** The layer filesystem a container directory may hold, released before the directory is deleted. */
export function releaseLayerFsIn(containerDir: string): void {
  const fs: LayerFs = { size: 0, image: join(containerDir, 'layer.img'), mountPoint: join(containerDir, 'layer') };
  // no mount point, nothing mounted on it: the usual container (no --storage-opt size) never
  // reads the O(mounts) mountinfo here
  if (existsSync(fs.image) || (existsSync(fs.mountPoint) && isMounted(fs.mountPoint))) removeLayerFs(fs);
}
