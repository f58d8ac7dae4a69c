// The runtime registry: every driver the engine knows, by name, and their availability on this
// host (probed once, then cached). A driver plugs in with one line in DRIVERS below; the engine
// finds it by ContainerConfig.runtime (docker run --runtime NAME), never substituting another.
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, Unavailable } from '../../types.js';
import { builtinDriver } from './builtin.js';
import { crunDriver, runcDriver } from './oci.js';
import { runscDriver } from './runsc.js';
import { umlDriver } from './uml.js';
import type { Availability, RuntimeDriver } from './types.js';

export type { Availability, DriverName, ExecSupport, LaunchContext, ProbeEnv, RuntimeDriver, ShimCommand } from './types.js';

/** Every runtime, in the order docker info and the form list them. */
export const DRIVERS: Readonly<Record<string, RuntimeDriver>> = {
  builtin: builtinDriver,
  runc: runcDriver,
  crun: crunDriver,
  runsc: runscDriver,
  uml: umlDriver,
};

export const DEFAULT_RUNTIME = 'builtin';

export function hasRuntime(name: string): boolean {
  return Object.hasOwn(DRIVERS, name);
}

/** The message for a runtime the engine does not have, naming it and the ones it has. */
export function unknownRuntimeMessage(name: string): string {
  return `unknown or invalid runtime name: ${JSON.stringify(name)}: this engine has ${Object.keys(DRIVERS).join(', ')}`;
}

/** A driver by name; unknown names are an InvalidArgument. */
export function getDriver(name: string | undefined): RuntimeDriver {
  const n = name ?? DEFAULT_RUNTIME;
  if (!hasRuntime(n)) throw new InvalidArgument(unknownRuntimeMessage(n));
  return DRIVERS[n];
}

/**
 * Where each driver keeps its state: RUNROOT/runtimes/<name> (0700, never inside a container),
 * made for the drivers that keep any (builtin keeps its state in the container's run dir).
 */
export function driverStateRoot(runRoot: string, name: string): string {
  const dir = join(runRoot, 'runtimes', name);
  if (DRIVERS[name]?.launch === 'shim') mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface RuntimeProbeOptions {
  runRoot: string;
  cgroupParent: string;
}

const cache = new Map<string, Promise<Availability>>();

/** The driver's availability on this host: probed once per (run root, driver), in a scratch dir removed after. */
export function availability(name: string, opts: RuntimeProbeOptions): Promise<Availability> {
  const d = getDriver(name);
  const key = `${opts.runRoot}\0${name}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const stateRoot = driverStateRoot(opts.runRoot, name);
      const probes = join(opts.runRoot, 'probes');
      // the builtin helper needs no scratch: nothing is made for it
      let scratch = '';
      if (d.launch === 'shim') {
        mkdirSync(probes, { recursive: true, mode: 0o700 });
        scratch = mkdtempSync(join(probes, `${name}-`));
      }
      try {
        return await d.probe({ scratch, stateRoot, cgroupParent: opts.cgroupParent });
      } catch (e) {
        return { available: false, path: '', version: '', error: `probing ${name}: ${(e as Error).message}` };
      } finally {
        if (scratch) rmSync(scratch, { recursive: true, force: true });
        try {
          rmdirSync(probes);
        } catch {
          /* another probe still runs, or none was made */
        }
      }
    })();
    cache.set(key, p);
  }
  return p;
}

/** The driver, if it is usable here; otherwise an Unavailable error in the runtime's own words. */
export async function requireRuntime(name: string | undefined, opts: RuntimeProbeOptions): Promise<RuntimeDriver> {
  const d = getDriver(name);
  const a = await availability(d.name, opts);
  if (!a.available) throw new Unavailable(`runtime ${d.name} is not available on this host: ${a.error}`);
  return d;
}

export interface RuntimeListing extends Availability {
  name: string;
  description: string;
  exec: RuntimeDriver['exec']['mode'];
  default: boolean;
}

/** Every driver with its availability: docker info's Runtimes, the REST runtimes call, the form. */
export async function listRuntimes(opts: RuntimeProbeOptions): Promise<RuntimeListing[]> {
  return Promise.all(
    Object.values(DRIVERS).map(async (d) => ({
      name: d.name,
      description: d.description,
      exec: d.exec.mode,
      default: d.name === DEFAULT_RUNTIME,
      ...(await availability(d.name, opts)),
    })),
  );
}
