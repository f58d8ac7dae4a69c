// The probe: a POSIX shell script run as a container's command under each runtime, printing what
// its processes see (kernel release, ps, dmesg, effective capabilities) and the memory the kernel
// they run under counts as theirs (PSS), then idling so the host side can be measured beside it.
//
// The idle part is a `sleep` started first, so the guest's sum and the host's sample see the same
// processes (the shell and the sleep). Everything the sum needs is a shell builtin (read, [, case, echo):
// no short-lived process of its own is counted on one side and not the other.
import { capabilityNames } from '../runtime/capabilities.js';
import type { InsideView } from './types.js';

/** Printed once the answers are out: the host samples memory after it. */
export const PROBE_READY = '@@gb-probe-ready';

/** How long the probe idles if nobody stops it (the engine kills it as soon as it sampled). */
const IDLE_SECONDS = 120;

const LINES = 12;

export const PROBE_SCRIPT = [
  `sleep ${IDLE_SECONDS} &`,
  'echo @@kernel; uname -r 2>&1',
  // busybox's ps takes -o, procps's wants -e to show processes without a terminal
  `echo @@ps; { ps -e -o pid,user,comm 2>/dev/null || ps 2>&1; } | head -n ${LINES}`,
  `echo @@dmesg; dmesg 2>&1 | head -n ${LINES}`,
  'echo @@cap; while read k v; do [ "$k" = CapEff: ] && echo "$v"; done < /proc/self/status',
  // PSS where the kernel has smaps_rollup (shared pages counted once over all), VmRSS otherwise
  'echo @@rss; t=0; m=; for d in /proc/[0-9]*; do v=; while read k x u; do [ "$k" = Pss: ] && v=$x; done 2>/dev/null < "$d/smaps_rollup"; w=Pss;',
  '  if [ -z "$v" ]; then w=VmRSS; while read k x u; do [ "$k" = VmRSS: ] && v=$x; done 2>/dev/null < "$d/status"; fi',
  '  [ -n "$v" ] && { t=$((t + v)); case " $m " in *" $w "*) ;; *) m="$m $w";; esac; }; done; echo "$t$m"',
  `echo ${PROBE_READY}`,
  'wait',
].join('\n');

export interface ProbeOutput {
  inside: InsideView;
  /** Σ PSS (or VmRSS) in kB of the processes inside, from the probe's own count */
  guestKb: number;
  /** which of the two the sum is made of ('Pss', 'VmRSS', 'Pss+VmRSS') */
  guestMeasure: string;
}

/** The probe's output cut into its sections; null when it never got to the end. */
export function parseProbe(text: string): ProbeOutput | null {
  if (!text.includes(PROBE_READY)) return null;
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^@@([a-z]+)$/.exec(line);
    if (m) {
      sections.set(m[1], (cur = []));
      continue;
    }
    if (line === PROBE_READY) break;
    if (cur && line.length) cur.push(line);
  }
  const first = (k: string) => sections.get(k)?.[0]?.trim() ?? '';
  const capEff = first('cap');
  let capabilities: string[] = [];
  if (/^[0-9a-f]{1,16}$/i.test(capEff)) capabilities = capabilityNames(BigInt(`0x${capEff}`));
  const [sum, ...measures] = first('rss').split(/\s+/);
  const rss = Number(sum);
  return {
    inside: { kernel: first('kernel'), ps: sections.get('ps') ?? [], dmesg: sections.get('dmesg') ?? [], capEff, capabilities },
    guestKb: Number.isFinite(rss) ? rss : 0,
    guestMeasure: measures.join('+') || 'Pss',
  };
}
