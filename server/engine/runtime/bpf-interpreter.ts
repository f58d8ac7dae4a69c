// A tiny classic-BPF interpreter for seccomp programs: runs a compiled filter against one
// seccomp_data {nr, arch, instruction_pointer, args[6]} and says what the kernel would answer.
// Used by the tests (every syscall number, every argument case) and by the lesson UI ("what would
// the filter say to reboot()?"). It implements what seccomp-bpf.ts emits and a bit more; anything
// else is an error, like the kernel's checker refusing the program.

/** struct sock_filter */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// instruction classes and fields (linux/bpf_common.h)
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IMM = 0x00;
export const BPF_MEM = 0x60;
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** The kernel's limit on classic BPF programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// seccomp return values (linux/seccomp.h)
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** struct seccomp_data: nr @0 (u32), arch @4 (u32), instruction_pointer @8 (u64), args[6] @16 (u64). */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: number | bigint;
  args?: (number | bigint)[];
}

export const SECCOMP_DATA_SIZE = 64;

/** The 64 bytes the kernel hands the filter, little endian (x86_64, aarch64). */
export function seccompDataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(SECCOMP_DATA_SIZE);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(d.instructionPointer ?? 0)), 8);
  const args = d.args ?? [];
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(args[i] ?? 0)), 16 + 8 * i);
  return b;
}

export function decodeFilter(buf: Buffer): SockFilter[] {
  if (buf.length % 8 !== 0) throw new Error(`BPF program length ${buf.length} is not a multiple of 8`);
  const out: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

export function encodeFilter(prog: readonly SockFilter[]): Buffer {
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    b.writeUInt16LE(ins.code, i * 8);
    b.writeUInt8(ins.jt, i * 8 + 2);
    b.writeUInt8(ins.jf, i * 8 + 3);
    b.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return b;
}

export interface BpfRun {
  /** the u32 the program returned */
  ret: number;
  /** instructions executed */
  steps: number;
  /** indexes of the instructions executed, in order (for the lesson UI's trace) */
  trace: number[];
}

/** Run a program on one seccomp_data. Throws on anything the kernel's checker would refuse. */
export function runBpf(program: Buffer | readonly SockFilter[], data: SeccompData): BpfRun {
  const prog = Buffer.isBuffer(program) ? decodeFilter(program) : program;
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) throw new Error(`BPF program has ${prog.length} instructions (1..${BPF_MAXINSNS})`);
  const mem = seccompDataBytes(data);
  const scratch = new Uint32Array(16);
  let A = 0;
  let X = 0;
  let pc = 0;
  const trace: number[] = [];
  // Classic BPF only jumps forward, so a program ends within prog.length steps.
  while (pc < prog.length) {
    trace.push(pc);
    const ins = prog[pc];
    const cls = ins.code & 0x07;
    switch (cls) {
      case BPF_LD: {
        const mode = ins.code & 0xe0;
        if (mode === BPF_ABS && (ins.code & 0x18) === BPF_W) {
          if (ins.k % 4 !== 0 || ins.k + 4 > SECCOMP_DATA_SIZE) throw new Error(`pc ${pc}: load at ${ins.k} outside seccomp_data`);
          A = mem.readUInt32LE(ins.k);
        } else if (mode === BPF_IMM) A = ins.k >>> 0;
        else if (mode === BPF_MEM) A = scratch[ins.k & 15];
        else throw new Error(`pc ${pc}: unsupported load 0x${ins.code.toString(16)}`);
        pc++;
        break;
      }
      case BPF_LDX:
        if ((ins.code & 0xe0) === BPF_IMM) X = ins.k >>> 0;
        else if ((ins.code & 0xe0) === BPF_MEM) X = scratch[ins.k & 15];
        else throw new Error(`pc ${pc}: unsupported ldx 0x${ins.code.toString(16)}`);
        pc++;
        break;
      case 0x02: // BPF_ST
        scratch[ins.k & 15] = A;
        pc++;
        break;
      case 0x03: // BPF_STX
        scratch[ins.k & 15] = X;
        pc++;
        break;
      case BPF_ALU: {
        const src = ins.code & BPF_X ? X : ins.k >>> 0;
        switch (ins.code & 0xf0) {
          case BPF_AND: A = (A & src) >>> 0; break;
          case BPF_OR: A = (A | src) >>> 0; break;
          case BPF_ADD: A = (A + src) >>> 0; break;
          case BPF_SUB: A = (A - src) >>> 0; break;
          case BPF_LSH: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case BPF_RSH: A = src >= 32 ? 0 : A >>> src; break;
          default: throw new Error(`pc ${pc}: unsupported alu 0x${ins.code.toString(16)}`);
        }
        pc++;
        break;
      }
      case BPF_JMP: {
        const op = ins.code & 0xf0;
        if (op === BPF_JA) {
          pc += 1 + (ins.k >>> 0);
          break;
        }
        const src = ins.code & BPF_X ? X : ins.k >>> 0;
        let cond: boolean;
        if (op === BPF_JEQ) cond = A === src;
        else if (op === BPF_JGT) cond = A > src;
        else if (op === BPF_JGE) cond = A >= src;
        else if (op === BPF_JSET) cond = (A & src) !== 0;
        else throw new Error(`pc ${pc}: unsupported jump 0x${ins.code.toString(16)}`);
        pc += 1 + (cond ? ins.jt : ins.jf);
        break;
      }
      case BPF_RET:
        if ((ins.code & 0x18) === 0x10) return { ret: A >>> 0, steps: trace.length, trace }; // BPF_A
        return { ret: ins.k >>> 0, steps: trace.length, trace };
      case BPF_MISC:
        if ((ins.code & 0xf8) === BPF_TXA) A = X;
        else X = A;
        pc++;
        break;
      default:
        throw new Error(`pc ${pc}: unsupported instruction 0x${ins.code.toString(16)}`);
    }
  }
  throw new Error('BPF program ran off its end (the kernel requires a final return)');
}

export type SeccompVerdict =
  | { action: 'allow' }
  | { action: 'errno'; errno: number }
  | { action: 'kill_process' }
  | { action: 'kill_thread' }
  | { action: 'trap'; data: number }
  | { action: 'trace'; data: number }
  | { action: 'log' }
  | { action: 'user_notif' };

/** What a seccomp return value means. */
export function seccompVerdict(ret: number): SeccompVerdict {
  const r = ret >>> 0;
  const action = (r & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = r & SECCOMP_RET_DATA;
  // the kernel treats values above KILL_PROCESS in signed order; a filter only returns these
  if (action === SECCOMP_RET_KILL_PROCESS) return { action: 'kill_process' };
  if (action === SECCOMP_RET_KILL_THREAD) return { action: 'kill_thread' };
  if (action === SECCOMP_RET_TRAP) return { action: 'trap', data };
  if (action === SECCOMP_RET_ERRNO) return { action: 'errno', errno: Math.min(data, 4095) };
  if (action === SECCOMP_RET_USER_NOTIF) return { action: 'user_notif' };
  if (action === SECCOMP_RET_TRACE) return { action: 'trace', data };
  if (action === SECCOMP_RET_LOG) return { action: 'log' };
  if (action === SECCOMP_RET_ALLOW) return { action: 'allow' };
  return { action: 'kill_process' }; // unknown actions are treated as KILL_PROCESS by the kernel
}

const JMP_NAME: Record<number, string> = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' };
const DATA_FIELD: Record<number, string> = { 0: 'nr', 4: 'arch', 8: 'ip_lo', 12: 'ip_hi' };

function hex(n: number) {
  return '0x' + (n >>> 0).toString(16);
}

function retName(k: number): string {
  const v = seccompVerdict(k);
  if (v.action === 'errno') return `ERRNO(${v.errno})`;
  return v.action.toUpperCase();
}

/**
 * One line per instruction, in the style of `seccomp-tools dump` / bpf_dbg, with absolute targets:
 *   0003: jeq #0x27 jt 0010 jf 0004
 * `nrName` turns syscall numbers into names where a jump compares the loaded nr.
 */
export function disassemble(program: Buffer | readonly SockFilter[], nrName?: (nr: number) => string | undefined): string[] {
  const prog = Buffer.isBuffer(program) ? decodeFilter(program) : program;
  const pad = (n: number) => String(n).padStart(4, '0');
  let loaded = '';
  return prog.map((ins, pc) => {
    const cls = ins.code & 0x07;
    let text: string;
    if (cls === BPF_LD && (ins.code & 0xe0) === BPF_ABS) {
      const f = DATA_FIELD[ins.k] ?? (ins.k >= 16 ? `args[${(ins.k - 16) >> 3}]${(ins.k - 16) % 8 ? '.hi' : '.lo'}` : `[${ins.k}]`);
      loaded = f;
      text = `ld ${f}`;
    } else if (cls === BPF_ALU && (ins.code & 0xf0) === BPF_AND) {
      text = `and #${hex(ins.k)}`;
    } else if (cls === BPF_JMP && (ins.code & 0xf0) === BPF_JA) {
      text = `ja ${pad(pc + 1 + ins.k)}`;
    } else if (cls === BPF_JMP) {
      const name = loaded === 'nr' && nrName ? nrName(ins.k) : undefined;
      text = `${JMP_NAME[ins.code & 0xf0] ?? `j?${ins.code}`} #${hex(ins.k)}${name ? ` (${name})` : ''} jt ${pad(pc + 1 + ins.jt)} jf ${pad(pc + 1 + ins.jf)}`;
    } else if (cls === BPF_RET) {
      text = `ret ${retName(ins.k)}`;
    } else {
      text = `op 0x${ins.code.toString(16)} jt ${ins.jt} jf ${ins.jf} k ${hex(ins.k)}`;
    }
    return `${pad(pc)}: ${text}`;
  });
}
