// Seccomp profile + capability list → a classic BPF program (struct sock_filter[]), the file the
// helper's `seccomp` directive loads with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER).
//
// Shape of the program (x86_64):
//
//   ld arch;  jeq AUDIT_ARCH_X86_64 ? next : KILL_PROCESS      i386 (int 0x80) and anything else dies
//   ld nr;    jge 0x40000000 ? ERRNO(EPERM) : next             the x32 ABI (bit 30 set) is refused
//   binary search over ranges of syscall numbers               ~9 comparisons for any number
//     a range whose syscalls all get one answer jumps straight to a shared `ret`;
//     a syscall with argument rules (clone, socket, personality) jumps to its own block
//   per-syscall blocks: each rule's argument checks, then `ret` its action; last `ret` the default
//   the shared returns: ALLOW, ERRNO(EPERM), ERRNO(ENOSYS) ...
//
// Arguments are u64 but BPF words are u32: every comparison checks the high word, then the low word
// (seccomp_data.args[i] at 16 + 8i, little endian: low word first). masked_eq uses BPF_AND.
//
// Conditional jumps have 8-bit offsets (at most 255 instructions ahead). The assembler below works
// with labels and fixes any longer jump by putting a trampoline right after it: a copy of the target
// when that is a `ret`, else a `ja` (32-bit offset). It repeats until every offset fits.
import { writeFileSync } from 'node:fs';
import { InvalidArgument } from '../types.js';
import {
  BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_MAXINSNS, BPF_RET, BPF_W,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRAP,
  disassemble, encodeFilter, runBpf, seccompVerdict, type SeccompData, type SeccompVerdict, type SockFilter,
} from './bpf-interpreter.js';
import {
  resolveProfile, type ArgCondition, type ResolvedProfile, type ResolveOptions, type SeccompAction, type SeccompProfile, type TargetArch,
} from './seccomp-profile.js';
import { syscallNameX86_64, syscallNumberX86_64 } from './syscalls-x86_64.js';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;

/** Offsets in struct seccomp_data. */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 16 + 8 * i + 4;

interface ArchInfo {
  audit: number;
  nr: (name: string) => number | undefined;
  name: (nr: number) => string | undefined;
}

const ARCHES: Record<TargetArch, ArchInfo> = {
  x86_64: { audit: AUDIT_ARCH_X86_64, nr: syscallNumberX86_64, name: syscallNameX86_64 },
};

export function actionValue(a: SeccompAction): number {
  switch (a.kind) {
    case 'allow': return SECCOMP_RET_ALLOW;
    case 'errno':
      if (!Number.isInteger(a.errno) || a.errno < 0 || a.errno > 4095) throw new InvalidArgument(`seccomp: errno ${a.errno} out of range`);
      return (SECCOMP_RET_ERRNO | a.errno) >>> 0;
    case 'kill_process': return SECCOMP_RET_KILL_PROCESS;
    case 'kill_thread': return SECCOMP_RET_KILL_THREAD;
    case 'trap': return SECCOMP_RET_TRAP;
    case 'log': return SECCOMP_RET_LOG;
  }
}

// ---------------------------------------------------------------------------------------------
// A small assembler: instructions with symbolic jump targets.

type Label = { id: number };
type Item =
  | { t: 'label'; label: Label }
  | { t: 'ins'; code: number; k: number; jt?: Label; jf?: Label; ja?: Label };

class Asm {
  private items: Item[] = [];
  private next = 0;
  label(): Label {
    return { id: this.next++ };
  }
  place(l: Label) {
    this.items.push({ t: 'label', label: l });
  }
  ld(off: number) {
    this.items.push({ t: 'ins', code: BPF_LD | BPF_W | BPF_ABS, k: off });
  }
  and(k: number) {
    this.items.push({ t: 'ins', code: BPF_ALU | BPF_AND | BPF_K, k: k >>> 0 });
  }
  /** conditional jump; both targets explicit (use a label placed right after for "fall through") */
  j(op: number, k: number, jt: Label, jf: Label) {
    this.items.push({ t: 'ins', code: BPF_JMP | op | BPF_K, k: k >>> 0, jt, jf });
  }
  ja(to: Label) {
    this.items.push({ t: 'ins', code: BPF_JMP | BPF_JA, k: 0, ja: to });
  }
  ret(k: number) {
    this.items.push({ t: 'ins', code: BPF_RET | BPF_K, k: k >>> 0 });
  }

  assemble(): SockFilter[] {
    for (let round = 0; ; round++) {
      if (round > 1000) throw new Error('seccomp: jump relaxation did not converge');
      // where each label points: the index of the next instruction after it
      const at = new Map<number, number>();
      const insAt: Extract<Item, { t: 'ins' }>[] = [];
      for (const it of this.items) {
        if (it.t === 'label') at.set(it.label.id, insAt.length);
        else insAt.push(it);
      }
      const target = (l: Label) => {
        const v = at.get(l.id);
        if (v === undefined) throw new Error(`seccomp: label ${l.id} never placed`);
        return v;
      };
      // every conditional jump that is too long gets a trampoline right after it; insertions only
      // lengthen other jumps, so repeat until a round finds none
      const fixes: { idx: number; which: 'jt' | 'jf'; to: Label }[] = [];
      let pc = 0;
      this.items.forEach((it, idx) => {
        if (it.t !== 'ins') return;
        if (it.jt && it.jf) {
          for (const which of ['jt', 'jf'] as const) {
            const to = it[which]!;
            const off = target(to) - (pc + 1);
            if (off < 0) throw new Error(`seccomp: backward jump at ${pc}`);
            if (off > 255) fixes.push({ idx, which, to });
          }
        }
        pc++;
      });
      for (const f of fixes.reverse()) {
        const it = this.items[f.idx] as Extract<Item, { t: 'ins' }>;
        const dest = insAt[target(f.to)];
        const tramp = this.label();
        const copy: Item =
          dest.code === (BPF_RET | BPF_K) ? { t: 'ins', code: dest.code, k: dest.k } : { t: 'ins', code: BPF_JMP | BPF_JA, k: 0, ja: f.to };
        this.items.splice(f.idx + 1, 0, { t: 'label', label: tramp }, copy);
        it[f.which] = tramp;
      }
      const fixed = fixes.length > 0;
      if (fixed) continue;
      return insAt.map((ins, i) => {
        if (ins.ja) return { code: ins.code, jt: 0, jf: 0, k: target(ins.ja) - (i + 1) };
        if (ins.jt && ins.jf) return { code: ins.code, jt: target(ins.jt) - (i + 1), jf: target(ins.jf) - (i + 1), k: ins.k };
        return { code: ins.code, jt: 0, jf: 0, k: ins.k };
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// From the resolved profile to "what happens to syscall N"

/** What one syscall gets: one answer, or a list of (argument conditions → answer) tried in order, then a fallback. */
type Outcome =
  | { kind: 'ret'; value: number }
  | { kind: 'cond'; nr: number; rules: { args: ArgCondition[]; value: number }[]; fallback: number };

export interface SyscallPlan {
  /** syscall number → outcome, for the syscalls some rule mentions */
  bySyscall: Map<number, Outcome>;
  defaultValue: number;
  /** names in the profile this arch does not have (skipped, as libseccomp and Docker do) */
  skipped: string[];
}

/**
 * Merge the rules per syscall, libseccomp-style: an unconditional rule decides the syscall outright
 * (the first one listed wins; Docker's profile never gives one syscall two different unconditional
 * answers); otherwise the argument rules are tried in profile order and the default answers the rest.
 */
export function planSyscalls(resolved: ResolvedProfile): SyscallPlan {
  const arch = ARCHES[resolved.arch];
  const defaultValue = actionValue(resolved.defaultAction);
  const uncond = new Map<number, number>();
  const conds = new Map<number, { args: ArgCondition[]; value: number }[]>();
  const skipped = new Set<string>();
  for (const rule of resolved.rules) {
    const value = actionValue(rule.action);
    for (const name of rule.names) {
      const nr = arch.nr(name);
      if (nr === undefined) {
        skipped.add(name);
        continue;
      }
      if (!rule.args || rule.args.length === 0) {
        if (!uncond.has(nr)) uncond.set(nr, value);
      } else {
        for (const a of rule.args) {
          if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new InvalidArgument(`seccomp: ${name}: argument index ${a.index} out of range`);
        }
        const list = conds.get(nr) ?? [];
        list.push({ args: rule.args, value });
        conds.set(nr, list);
      }
    }
  }
  const bySyscall = new Map<number, Outcome>();
  for (const [nr, value] of uncond) bySyscall.set(nr, { kind: 'ret', value });
  for (const [nr, rules] of conds) {
    if (uncond.has(nr)) continue;
    // all rules give the default anyway: nothing to check
    if (rules.every((r) => r.value === defaultValue)) continue;
    bySyscall.set(nr, { kind: 'cond', nr, rules, fallback: defaultValue });
  }
  return { bySyscall, defaultValue, skipped: [...skipped].sort() };
}

const u64 = (v: number | bigint) => BigInt.asUintN(64, BigInt(v));
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/** Evaluate one argument condition the way the BPF does (for the reference evaluator). */
function condHolds(c: ArgCondition, arg: bigint): boolean {
  const v = u64(c.value);
  switch (c.op) {
    case 'eq': return arg === v;
    case 'ne': return arg !== v;
    case 'lt': return arg < v;
    case 'le': return arg <= v;
    case 'gt': return arg > v;
    case 'ge': return arg >= v;
    case 'masked_eq': return (arg & u64(c.mask)) === v;
  }
}

/**
 * Emit the checks of one condition: fall through to `pass` (placed by the caller right after) when it
 * holds, jump to `fail` when it does not.
 */
function emitCondition(asm: Asm, c: ArgCondition, pass: Label, fail: Label) {
  const v = u64(c.value);
  const vh = hi32(v);
  const vl = lo32(v);
  const loCheck = asm.label();
  switch (c.op) {
    case 'eq':
      asm.ld(argHi(c.index));
      asm.j(BPF_JEQ, vh, loCheck, fail);
      asm.place(loCheck);
      asm.ld(argLo(c.index));
      asm.j(BPF_JEQ, vl, pass, fail);
      return;
    case 'ne':
      asm.ld(argHi(c.index));
      asm.j(BPF_JEQ, vh, loCheck, pass);
      asm.place(loCheck);
      asm.ld(argLo(c.index));
      asm.j(BPF_JEQ, vl, fail, pass);
      return;
    case 'masked_eq': {
      const m = u64(c.mask);
      const mh = hi32(m);
      const ml = lo32(m);
      if ((vh & ~mh) !== 0 || (vl & ~ml) !== 0) {
        // (arg & mask) can never equal a value with bits outside the mask
        asm.ja(fail);
        return;
      }
      if (mh !== 0) {
        asm.ld(argHi(c.index));
        asm.and(mh);
        asm.j(BPF_JEQ, vh, loCheck, fail);
      } // mask high word 0: (arg.hi & 0) == 0 == vh always holds
      asm.place(loCheck);
      asm.ld(argLo(c.index));
      if (ml !== 0xffffffff) asm.and(ml);
      asm.j(BPF_JEQ, vl, pass, fail);
      return;
    }
    case 'gt':
    case 'ge': {
      // hi > vh → pass; hi < vh → fail; hi == vh → compare the low words
      const eqHi = asm.label();
      asm.ld(argHi(c.index));
      asm.j(BPF_JGT, vh, pass, eqHi);
      asm.place(eqHi);
      asm.j(BPF_JEQ, vh, loCheck, fail);
      asm.place(loCheck);
      asm.ld(argLo(c.index));
      asm.j(c.op === 'gt' ? BPF_JGT : BPF_JGE, vl, pass, fail);
      return;
    }
    case 'lt':
    case 'le': {
      // hi < vh → pass; hi > vh → fail; hi == vh → compare the low words
      const notBelow = asm.label();
      asm.ld(argHi(c.index));
      asm.j(BPF_JGE, vh, notBelow, pass);
      asm.place(notBelow);
      asm.j(BPF_JGT, vh, fail, loCheck);
      asm.place(loCheck);
      asm.ld(argLo(c.index));
      // lt: lo >= vl fails; le: lo > vl fails
      asm.j(c.op === 'lt' ? BPF_JGE : BPF_JGT, vl, fail, pass);
      return;
    }
  }
}

export type CompileOptions = ResolveOptions;

export interface CompiledSeccomp {
  arch: TargetArch;
  program: SockFilter[];
  buffer: Buffer;
  plan: SyscallPlan;
}

/** Compile, and keep the pieces (program, plan of every syscall) for the tests and the lesson UI. */
export function compileSeccompProgram(profile: SeccompProfile, capNames: readonly string[], opts: CompileOptions = {}): CompiledSeccomp {
  const resolved = resolveProfile(profile, capNames, opts);
  const arch = ARCHES[resolved.arch];
  const plan = planSyscalls(resolved);
  const asm = new Asm();

  // shared returns, one per distinct value, placed at the end
  const rets = new Map<number, Label>();
  const retLabel = (v: number) => {
    let l = rets.get(v >>> 0);
    if (!l) rets.set(v >>> 0, (l = asm.label()));
    return l;
  };
  const kill = retLabel(SECCOMP_RET_KILL_PROCESS);
  const deny = retLabel(plan.defaultValue);
  const x32Deny = retLabel((SECCOMP_RET_ERRNO | 1) >>> 0); // x32 ABI: EPERM, whatever the default

  // 1. architecture, 2. x32
  const archOk = asm.label();
  const nativeNr = asm.label();
  asm.ld(OFF_ARCH);
  asm.j(BPF_JEQ, arch.audit, archOk, kill);
  asm.place(archOk);
  asm.ld(OFF_NR);
  asm.j(BPF_JGE, X32_SYSCALL_BIT, x32Deny, nativeNr);
  asm.place(nativeNr);

  // 3. ranges of syscall numbers [start, end] with one target each, covering 0 .. 0x3fffffff
  const blockOf = new Map<number, Label>(); // conditional syscalls: nr → block label
  const targetOf = (o: Outcome | undefined): Label => {
    if (!o) return deny;
    if (o.kind === 'ret') return retLabel(o.value);
    let l = blockOf.get(o.nr);
    if (!l) blockOf.set(o.nr, (l = asm.label()));
    return l;
  };
  const nrs = [...plan.bySyscall.keys()].sort((a, b) => a - b);
  const ranges: { start: number; target: Label }[] = [];
  const push = (start: number, target: Label) => {
    if (ranges.length && ranges[ranges.length - 1].target === target) return;
    ranges.push({ start, target });
  };
  let cursor = 0;
  for (const nr of nrs) {
    if (nr > cursor) push(cursor, deny);
    push(nr, targetOf(plan.bySyscall.get(nr)));
    cursor = nr + 1;
  }
  push(cursor, deny);

  // binary search: node = ranges[lo..hi); `jge ranges[mid].start` splits it
  const emitTree = (lo: number, hi: number) => {
    if (hi - lo === 1) {
      asm.ja(ranges[lo].target);
      return;
    }
    const mid = (lo + hi) >> 1;
    const right = hi - mid === 1 ? ranges[mid].target : asm.label();
    const left = mid - lo === 1 ? ranges[lo].target : asm.label();
    asm.j(BPF_JGE, ranges[mid].start, right, left);
    if (mid - lo > 1) {
      asm.place(left);
      emitTree(lo, mid);
    }
    if (hi - mid > 1) {
      asm.place(right);
      emitTree(mid, hi);
    }
  };
  emitTree(0, ranges.length);

  // 4. argument blocks
  for (const nr of nrs) {
    const o = plan.bySyscall.get(nr)!;
    if (o.kind !== 'cond') continue;
    asm.place(blockOf.get(nr)!);
    for (const rule of o.rules) {
      const nextRule = asm.label();
      for (const c of rule.args) {
        const pass = asm.label();
        emitCondition(asm, c, pass, nextRule);
        asm.place(pass);
      }
      asm.ret(rule.value);
      asm.place(nextRule);
    }
    asm.ret(o.fallback);
  }

  // 5. the shared returns
  for (const [value, l] of rets) {
    asm.place(l);
    asm.ret(value);
  }

  const program = asm.assemble();
  if (program.length > BPF_MAXINSNS) throw new InvalidArgument(`seccomp: program has ${program.length} instructions (kernel limit ${BPF_MAXINSNS})`);
  return { arch: resolved.arch, program, buffer: encodeFilter(program), plan };
}

/** The filter file's bytes: struct sock_filter[], 8 bytes each, little endian. */
export function compileSeccomp(profile: SeccompProfile, capNames: readonly string[], opts: CompileOptions = {}): Buffer {
  return compileSeccompProgram(profile, capNames, opts).buffer;
}

/** Write a compiled filter where the helper's `seccomp` directive will find it. */
export function writeSeccompFile(path: string, filter: Buffer): void {
  writeFileSync(path, filter, { mode: 0o644 });
}

// ---------------------------------------------------------------------------------------------
// Asking questions of a filter (tests, lesson UI)

/** The reference answer straight from the plan, without BPF: what the filter must say. */
export function expectedVerdict(plan: SyscallPlan, arch: TargetArch, data: SeccompData): number {
  if (data.arch >>> 0 !== ARCHES[arch].audit) return SECCOMP_RET_KILL_PROCESS;
  const nr = data.nr >>> 0;
  if (nr >= X32_SYSCALL_BIT) return (SECCOMP_RET_ERRNO | 1) >>> 0;
  const o = plan.bySyscall.get(nr);
  if (!o) return plan.defaultValue;
  if (o.kind === 'ret') return o.value;
  for (const rule of o.rules) {
    if (rule.args.every((c) => condHolds(c, u64(data.args?.[c.index] ?? 0)))) return rule.value;
  }
  return o.fallback;
}

/**
 * What a compiled filter says to a syscall, by name or number: runs the BPF in the interpreter.
 * `args` are the syscall's arguments (missing ones are 0).
 */
export function askFilter(filter: Buffer | readonly SockFilter[], syscall: string | number, args: (number | bigint)[] = [], arch: TargetArch = 'x86_64'): SeccompVerdict & { ret: number } {
  const info = ARCHES[arch];
  const nr = typeof syscall === 'number' ? syscall : info.nr(syscall);
  if (nr === undefined) throw new InvalidArgument(`no syscall ${JSON.stringify(syscall)} on ${arch}`);
  const { ret } = runBpf(filter, { nr, arch: info.audit, args });
  return { ...seccompVerdict(ret), ret };
}

/** Disassembly with syscall names, for the lesson UI. */
export function disassembleSeccomp(filter: Buffer | readonly SockFilter[], arch: TargetArch = 'x86_64'): string[] {
  return disassemble(filter, ARCHES[arch].name);
}
