// What Engine.open takes: where its state lives, how it names its host objects, its defaults.
import type { DaemonConfig } from './config/daemon-config.js';

export interface EngineOptions {
  /** state root (default GLASSBOX_ROOT or /var/lib/glassbox) */
  root?: string;
  /** runtime state (default GLASSBOX_RUN or /run/glassbox) */
  runRoot?: string;
  /** where the base image comes from: busybox when the host has it, else host binaries */
  baseImageSource?: 'auto' | 'busybox' | 'host';
  /** set false to skip networking (tests of the engine alone) */
  network?: boolean;
  /** registries reached over plain http besides loopback ones, as Docker's insecure-registries */
  insecureRegistries?: string[];
  /**
   * the name prefix of this engine's host objects (host/naming.ts): "gb" (default, a serving
   * Glassbox) or "gbt<x>" (tests, benchmarks); default GLASSBOX_PREFIX
   */
  prefix?: string;
  /** where the owner lock and the userns leases live (default /run/glassbox, host-wide) */
  lockDir?: string;
  /** how often the firewall check runs, ms (default 2000; 0: never) */
  reconcileMs?: number;
  /** user namespace ranges: COUNT ranges of 65536 from START (default /etc/subuid's root entries, else GLASSBOX_USERNS_POOL, else 100000:1024) */
  usernsPool?: { start: number; count: number };
  /** 'shifted': copy layers even where idmapped mounts work (tests of the fallback) */
  usernsLayers?: 'idmapped' | 'shifted';
  /** the daemon configuration's defaults (the server reads /etc/glassbox/config.json); default: the shipped ones */
  daemonConfig?: DaemonConfig;
}
