// The device rules on cgroup v2. v1 has devices.deny/devices.allow files; v2 has none: the kernel
// asks an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup, for every
// open() and mknod() of a device node by a process inside it ("may this process do <access> on
// <type> <major>:<minor>?"). The program returns 1 to allow, 0 to refuse (EPERM). This file turns
// the same rules v1 writes (v1-files.ts DEVICE_ALLOW_RULES, Docker's defaults) into that program,
// as runc's devicefilter does, and attaches it to glassbox/<id>.
//
// The program, for rules like "c 1:3 rwm":
//   r2 = ctx->access_type & 0xffff       device type: 1 block, 2 char
//   r3 = ctx->access_type >> 16          access asked: 1 mknod, 2 read, 4 write
//   r4 = ctx->major, r5 = ctx->minor
//   per rule: type matches, no access bit outside the rule's, major and minor match (or '*')
//             -> return 1
//   no rule matched -> return 0
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BPF_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_DEVICE, bpfProgAttach, bpfProgLoad, closeFd } from '../../../native/libc.js';
import type { CgroupWrite } from './types.js';

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  /** null: any ('*') */
  major: number | null;
  minor: number | null;
  access: string;
}

/** "c 1:3 rwm", "b *:* m", "a" (devices.allow syntax) */
export function parseDeviceRule(rule: string): DeviceRule {
  const m = /^([abc])(?:\s+(\*|\d+):(\*|\d+)\s+([rwm]{1,3}))?$/.exec(rule.trim());
  if (!m || (m[1] !== 'a' && m[2] === undefined)) throw new Error(`bad device rule ${JSON.stringify(rule)}: want "c|b MAJOR:MINOR rwm" or "a"`);
  const num = (s: string | undefined) => (s === undefined || s === '*' ? null : Number(s));
  return { type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access: m[4] ?? 'rwm' };
}

// linux/bpf.h: struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
const ACC = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

// eBPF opcodes used here (linux/bpf_common.h, linux/bpf.h)
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU64_MOV_X = 0xbf; // dst = src
const ALU64_MOV_K = 0xb7; // dst = imm
const ALU64_AND_K = 0x57; // dst &= imm
const ALU64_RSH_K = 0x77; // dst >>= imm
const JMP_JNE_K = 0x55; // if dst != imm goto +off
const JMP_EXIT = 0x95;

function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8(((src & 0xf) << 4) | (dst & 0xf), 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

/** The eBPF instructions for an allow-list of rules (everything not allowed is refused). */
export function deviceFilterProgram(rules: DeviceRule[]): Buffer {
  const out: Buffer[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU64_MOV_X, 3, 2, 0, 0),
    insn(ALU64_AND_K, 2, 0, 0, 0xffff),
    insn(ALU64_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const r of rules) {
    const acc = [...r.access].reduce((a, c) => a | ACC[c as keyof typeof ACC], 0);
    // the tests of this rule; each jumps past the rest of the rule's block when it fails
    const tests: ((skip: number) => Buffer[])[] = [];
    if (r.type !== 'a') tests.push((skip) => [insn(JMP_JNE_K, 2, 0, skip, DEV_TYPE[r.type as 'b' | 'c'])]);
    if (acc !== 7) tests.push((skip) => [insn(ALU64_MOV_X, 1, 3, 0, 0), insn(ALU64_AND_K, 1, 0, 0, 7 & ~acc), insn(JMP_JNE_K, 1, 0, skip, 0)]);
    if (r.major !== null) tests.push((skip) => [insn(JMP_JNE_K, 4, 0, skip, r.major!)]);
    if (r.minor !== null) tests.push((skip) => [insn(JMP_JNE_K, 5, 0, skip, r.minor!)]);
    const lengths = tests.map((t) => t(0).length);
    const total = lengths.reduce((a, b) => a + b, 0) + 2; // + "r0 = 1; exit"
    let at = 0;
    for (let i = 0; i < tests.length; i++) {
      at += lengths[i];
      out.push(...tests[i](total - at)); // from the instruction after the jump to the block's end
    }
    out.push(insn(ALU64_MOV_K, 0, 0, 0, 1), insn(JMP_EXIT, 0, 0, 0, 0));
  }
  out.push(insn(ALU64_MOV_K, 0, 0, 0, 0), insn(JMP_EXIT, 0, 0, 0, 0));
  return Buffer.concat(out);
}

/**
 * Load the program for `rules` and attach it to the cgroup directory `dir`. The attachment holds
 * the program: the fds are closed here, and the program goes when the cgroup is removed. Attached
 * without BPF_F_ALLOW_OVERRIDE/MULTI, so no cgroup below it (the monitor's, or one a container with
 * a delegated cgroup namespace makes) can attach a more permissive program of its own.
 */
export function attachDeviceFilter(dir: string, rules: string[]): CgroupWrite {
  const t0 = performance.now();
  const program = deviceFilterProgram(rules.map(parseDeviceRule));
  const progFd = bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, program, 'gb_devices');
  try {
    const dirFd = openSync(dir, 'r');
    try {
      bpfProgAttach(dirFd, progFd, BPF_CGROUP_DEVICE, dir);
    } finally {
      closeSync(dirFd);
    }
  } finally {
    closeFd(progFd);
  }
  return { file: `${dir} (bpf BPF_CGROUP_DEVICE)`, wrote: `device program: ${program.length / 8} instructions for ${rules.join(', ')}`, ms: +(performance.now() - t0).toFixed(3) };
}
