// The names of the host objects an engine makes: bridges, veths, iptables chains, the cgroup
// parent, /run/netns names and the owner lock. They all come from one prefix, so two engines on
// one host (a serving Glassbox and a test run) never make, sweep or tear down each other's objects.
//
//   prefix "gb"   (the default: a serving Glassbox)   prefix "gbt7" (a test run)
//   bridge        gb0                                 gbt70
//   user bridges  gbr-<network id 11>                 gbt7r-<network id 9>
//   veths         gbv<container id 8>[x<n>]           gbt7v<container id 7>[x<n>]
//   chains        GLASSBOX-FORWARD, -DNAT, -POSTROUTING   GLASSBOX-T7-FORWARD, ...
//   cgroups       glassbox/<id>                       glassbox-t7/<id>
//   netns names   gb-<id 12>                          gbt7-<id 12>
//   owner lock    /run/glassbox/owner.lock            /run/glassbox/owner-gbt7.lock
//
// Every interface name starts with "gb" (this machine's rule for links Glassbox makes, and what the
// leak check looks for) and fits IFNAMSIZ - 1 = 15 characters. A prefix other than the default is
// "gbt" and one or two of [a-z0-9]: its third letter "t" keeps it apart from the default's names
// (gb0, gbr-…, gbv…), so no prefix's sweep pattern matches another prefix's links.
import { InvalidArgument } from '../types.js';

export const DEFAULT_PREFIX = 'gb';
export const PREFIX_RE = /^(gb|gbt[a-z0-9]{1,2})$/;
/** IFNAMSIZ (16) minus the terminating NUL */
export const IFNAME_MAX = 15;
export const DEFAULT_LOCK_DIR = '/run/glassbox';

export interface HostNames {
  prefix: string;
  /** true for "gb": the names a serving Glassbox uses */
  isDefault: boolean;
  /** the default network's bridge */
  bridge: string;
  /** chains in the filter (forward) and nat (dnat, post) tables */
  chains: { forward: string; dnat: string; post: string };
  /** the parent cgroup directory, in every hierarchy */
  cgroupParent: string;
  /** the lock file that says which process owns these names on this host */
  lockFile: string;
  userBridge(networkId: string): string;
  /** host end of a container's index-th veth (0: its first network) */
  veth(containerId: string, index: number): string;
  /** matches exactly the veth names this prefix makes */
  vethRe: RegExp;
  /** matches /run/netns names of this prefix; group 1 is the id (12 hex) */
  netnsRe: RegExp;
}

export function checkPrefix(prefix: string, from = 'GLASSBOX_PREFIX'): string {
  if (!PREFIX_RE.test(prefix)) {
    throw new InvalidArgument(`${from} ${JSON.stringify(prefix)} is not a Glassbox prefix: use "gb" (a serving Glassbox) or "gbt" and one or two of a-z, 0-9 (a test or benchmark run), e.g. gbt7`);
  }
  return prefix;
}

export function hostNames(prefix = DEFAULT_PREFIX, lockDir = DEFAULT_LOCK_DIR): HostNames {
  checkPrefix(prefix);
  const isDefault = prefix === DEFAULT_PREFIX;
  const tag = prefix.slice(2); // "" or "t7"
  const chain = (what: string) => (isDefault ? `GLASSBOX-${what}` : `GLASSBOX-${tag.toUpperCase()}-${what}`);
  // <prefix>v<id>x<n> with n up to 2 digits must fit 15: id length 11 - prefix length (at most 8)
  const vethId = Math.min(8, IFNAME_MAX - prefix.length - 1 - 3);
  const userBridgeId = IFNAME_MAX - prefix.length - 2;
  return {
    prefix,
    isDefault,
    bridge: `${prefix}0`,
    chains: { forward: chain('FORWARD'), dnat: chain('DNAT'), post: chain('POSTROUTING') },
    cgroupParent: isDefault ? 'glassbox' : `glassbox-${tag}`,
    lockFile: `${lockDir}/${isDefault ? 'owner.lock' : `owner-${prefix}.lock`}`,
    userBridge: (networkId) => `${prefix}r-${networkId.slice(0, userBridgeId)}`,
    veth: (containerId, index) => {
      const base = `${prefix}v${containerId.slice(0, vethId)}`;
      return index === 0 ? base : `${base}x${index}`;
    },
    vethRe: new RegExp(`^${prefix}v[0-9a-f]{${vethId}}(x\\d{1,2})?$`),
    netnsRe: new RegExp(`^${prefix}-([0-9a-f]{12})$`),
  };
}

/** The prefix an engine uses when its options give none: GLASSBOX_PREFIX, else the default. */
export function prefixFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return checkPrefix(env.GLASSBOX_PREFIX?.trim() || DEFAULT_PREFIX);
}

/** Every cgroup parent name any prefix can make (for the inspectors and the leak check). */
export const CGROUP_PARENT_RE = /^glassbox(-t[a-z0-9]{1,2})?$/;
