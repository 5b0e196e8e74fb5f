//! Classic BPF (cBPF): the checked form of a capture filter and its
//! interpreter, run by the engine on each frame of a captured port.
//!
//! The filter arrives compiled, as the instructions `tcpdump -ddd` prints
//! (`struct sock_filter`), so the daemon needs no filter compiler; what it
//! must not do is trust them. [`Program::new`] applies the Linux kernel's
//! rules (`bpf_check_classic`): 1 to 4096 instructions, known opcodes only,
//! scratch memory slots 0-15, no division or modulo by a constant 0, no
//! constant shift of 32 or more, every jump forward and inside the program,
//! and a return as the last instruction. Jumps only go forward, so a checked
//! program ends after at most as many steps as it has instructions.
//!
//! The interpreter follows the kernel's semantics where a program can tell:
//! a load outside the frame ends the program with 0 (reject), so do a
//! division or modulo by an X of 0; `len` is the frame's length on the
//! wire; the scratch memory starts zeroed (the kernel proves instead that
//! no slot is read before it is written; zeroing gives such a program a
//! defined result rather than refusing it). Linux's ancillary loads
//! (negative offsets, `SKF_AD_*`: VLAN tag present, protocol...) are refused
//! at check time: libpcap only emits them for a live Linux capture, never
//! for `tcpdump -d`, and here tags are in the frame's bytes anyway.
//!
//! Instructions are decoded once into [`Op`] at check time, so the per-frame
//! loop matches on a small enum with no validity checks left in it.

use proto::BpfInsn;

// Instruction classes, sizes, modes, operations and sources (linux/filter.h).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;

const W: u16 = 0x00;
const H: u16 = 0x08;
const B: u16 = 0x10;

const IMM: u16 = 0x00;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const MEM: u16 = 0x60;
const LEN: u16 = 0x80;
const MSH: u16 = 0xa0;

const ADD: u16 = 0x00;
const SUB: u16 = 0x10;
const MUL: u16 = 0x20;
const DIV: u16 = 0x30;
const OR: u16 = 0x40;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const RSH: u16 = 0x70;
const NEG: u16 = 0x80;
const MOD: u16 = 0x90;
const XOR: u16 = 0xa0;

const JA: u16 = 0x00;
const JEQ: u16 = 0x10;
const JGT: u16 = 0x20;
const JGE: u16 = 0x30;
const JSET: u16 = 0x40;

const SRC_K: u16 = 0x00;
const SRC_X: u16 = 0x08;
const RVAL_A: u16 = 0x10;

const TAX: u16 = 0x00;
const TXA: u16 = 0x80;

/// Scratch memory words (`BPF_MEMWORDS`).
const MEMWORDS: u32 = 16;

/// Where a load takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    /// `size` bytes (1, 2 or 4) at offset `k` of the frame.
    Abs { size: u8, k: u32 },
    /// `size` bytes at offset X + `k`.
    Ind { size: u8, k: u32 },
    /// The constant.
    Imm(u32),
    /// The frame's length on the wire.
    Len,
    /// A scratch memory word.
    Mem(u8),
    /// `4 * (frame[k] & 0xf)` (an IPv4 header length; X only).
    Msh(u32),
}

/// The second operand of an ALU or jump instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    K(u32),
    X,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Or,
    And,
    Xor,
    Lsh,
    Rsh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
}

/// One checked instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    LdA(Load),
    LdX(Load),
    St(u8),
    Stx(u8),
    Alu(AluOp, Operand),
    Neg,
    Ja(u32),
    Jump {
        cond: Cond,
        src: Operand,
        jt: u8,
        jf: u8,
    },
    RetK(u32),
    RetA,
    Tax,
    Txa,
}

/// A checked classic BPF program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    ops: Box<[Op]>,
}

fn size_of(code: u16) -> Option<u8> {
    match code & 0x18 {
        W => Some(4),
        H => Some(2),
        B => Some(1),
        _ => None,
    }
}

/// Decodes one instruction at index `pc` of a program of `len`, with every
/// check that needs only the instruction and its place.
fn decode(pc: usize, len: usize, i: BpfInsn) -> Result<Op, String> {
    let code = i.code;
    let k = i.k;
    let unknown = || format!("instruction {pc}: unknown opcode {code:#06x}");
    let slot = |k: u32| {
        if k < MEMWORDS {
            Ok(k as u8)
        } else {
            Err(format!(
                "instruction {pc}: memory slot {k} does not exist (0-{})",
                MEMWORDS - 1
            ))
        }
    };
    // A jump by `off` from `pc` lands at pc + 1 + off.
    let target = |off: u64| {
        if pc as u64 + 1 + off < len as u64 {
            Ok(())
        } else {
            Err(format!(
                "instruction {pc}: jump to {} is past the end of the program ({len} instructions)",
                pc as u64 + 1 + off
            ))
        }
    };
    if code > 0xff {
        return Err(unknown());
    }
    let op = match code & 0x07 {
        LD => {
            let size = size_of(code).ok_or_else(unknown)?;
            let load = match code & 0xe0 {
                ABS if (k as i32) < 0 => {
                    return Err(format!(
                        "instruction {pc}: Linux ancillary loads (offset {}) are not supported",
                        k as i32
                    ))
                }
                ABS => Load::Abs { size, k },
                IND => Load::Ind { size, k },
                IMM if size == 4 => Load::Imm(k),
                LEN if size == 4 => Load::Len,
                MEM if size == 4 => Load::Mem(slot(k)?),
                _ => return Err(unknown()),
            };
            Op::LdA(load)
        }
        LDX => match code {
            c if c == LDX | W | IMM => Op::LdX(Load::Imm(k)),
            c if c == LDX | W | MEM => Op::LdX(Load::Mem(slot(k)?)),
            c if c == LDX | W | LEN => Op::LdX(Load::Len),
            c if c == LDX | B | MSH => Op::LdX(Load::Msh(k)),
            _ => return Err(unknown()),
        },
        ST if code == ST => Op::St(slot(k)?),
        STX if code == STX => Op::Stx(slot(k)?),
        ALU => {
            if code & 0xf0 == NEG {
                if code != ALU | NEG {
                    return Err(unknown());
                }
                Op::Neg
            } else {
                let src = if code & SRC_X != 0 {
                    Operand::X
                } else {
                    Operand::K(k)
                };
                if code & !0xf8 != ALU {
                    return Err(unknown());
                }
                let op = match code & 0xf0 {
                    ADD => AluOp::Add,
                    SUB => AluOp::Sub,
                    MUL => AluOp::Mul,
                    DIV => AluOp::Div,
                    MOD => AluOp::Mod,
                    OR => AluOp::Or,
                    AND => AluOp::And,
                    XOR => AluOp::Xor,
                    LSH => AluOp::Lsh,
                    RSH => AluOp::Rsh,
                    _ => return Err(unknown()),
                };
                if matches!(op, AluOp::Div | AluOp::Mod) && src == Operand::K(0) {
                    return Err(format!("instruction {pc}: division by the constant 0"));
                }
                if matches!(op, AluOp::Lsh | AluOp::Rsh) && matches!(src, Operand::K(s) if s >= 32) {
                    return Err(format!("instruction {pc}: shift by {k} (at most 31)"));
                }
                Op::Alu(op, src)
            }
        }
        JMP => {
            if code & !0xf8 != JMP {
                return Err(unknown());
            }
            if code & 0xf0 == JA {
                if code != JMP | JA {
                    return Err(unknown());
                }
                target(u64::from(k))?;
                Op::Ja(k)
            } else {
                let cond = match code & 0xf0 {
                    JEQ => Cond::Eq,
                    JGT => Cond::Gt,
                    JGE => Cond::Ge,
                    JSET => Cond::Set,
                    _ => return Err(unknown()),
                };
                let src = if code & SRC_X != 0 {
                    Operand::X
                } else {
                    Operand::K(k)
                };
                target(u64::from(i.jt))?;
                target(u64::from(i.jf))?;
                Op::Jump {
                    cond,
                    src,
                    jt: i.jt,
                    jf: i.jf,
                }
            }
        }
        RET => match code {
            c if c == RET | SRC_K => Op::RetK(k),
            c if c == RET | RVAL_A => Op::RetA,
            _ => return Err(unknown()),
        },
        MISC => match code {
            c if c == MISC | TAX => Op::Tax,
            c if c == MISC | TXA => Op::Txa,
            _ => return Err(unknown()),
        },
        _ => return Err(unknown()),
    };
    Ok(op)
}

/// `size` bytes (big-endian) at `off` of `pkt`, or `None` outside it.
#[inline]
fn load_bytes(pkt: &[u8], off: u64, size: u8) -> Option<u32> {
    let start = usize::try_from(off).ok()?;
    let b = pkt.get(start..start.checked_add(usize::from(size))?)?;
    Some(match *b {
        [a] => u32::from(a),
        [a, b] => u32::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => return None,
    })
}

impl Program {
    /// Checks `insns` as the Linux kernel would before attaching them to a
    /// socket. The error names the first offending instruction.
    pub fn new(insns: &[BpfInsn]) -> Result<Program, String> {
        if insns.is_empty() || insns.len() > proto::capture::BPF_MAXINSNS {
            return Err(format!(
                "a filter has 1-{} instructions, this one {}",
                proto::capture::BPF_MAXINSNS,
                insns.len()
            ));
        }
        let len = insns.len();
        let ops = insns
            .iter()
            .enumerate()
            .map(|(pc, i)| decode(pc, len, *i))
            .collect::<Result<Box<[Op]>, String>>()?;
        if !matches!(ops[len - 1], Op::RetK(_) | Op::RetA) {
            return Err(format!(
                "instruction {}: the last instruction must be a return",
                len - 1
            ));
        }
        Ok(Program { ops })
    }

    /// Runs the program on `frame` (the bytes available), whose length on
    /// the wire is `wire_len`. Returns what the program returns: 0 rejects
    /// the frame, anything else accepts it and caps the bytes to keep.
    pub fn run(&self, frame: &[u8], wire_len: u32) -> u32 {
        let mut a: u32 = 0;
        let mut x: u32 = 0;
        let mut mem = [0u32; MEMWORDS as usize];
        let mut pc = 0usize;
        // Termination: every jump goes forward and the last op returns
        // (both checked in `new`), so `pc` stays in range and only grows.
        loop {
            let op = self.ops[pc];
            pc += 1;
            let load = |l: Load, x: u32, mem: &[u32; MEMWORDS as usize]| match l {
                Load::Abs { size, k } => load_bytes(frame, u64::from(k), size),
                Load::Ind { size, k } => load_bytes(frame, u64::from(x) + u64::from(k), size),
                Load::Imm(k) => Some(k),
                Load::Len => Some(wire_len),
                Load::Mem(s) => Some(mem[usize::from(s)]),
                Load::Msh(k) => load_bytes(frame, u64::from(k), 1).map(|b| (b & 0xf) << 2),
            };
            match op {
                Op::LdA(l) => match load(l, x, &mem) {
                    Some(v) => a = v,
                    None => return 0,
                },
                Op::LdX(l) => match load(l, x, &mem) {
                    Some(v) => x = v,
                    None => return 0,
                },
                Op::St(s) => mem[usize::from(s)] = a,
                Op::Stx(s) => mem[usize::from(s)] = x,
                Op::Alu(op, src) => {
                    let v = match src {
                        Operand::K(k) => k,
                        Operand::X => x,
                    };
                    a = match op {
                        AluOp::Add => a.wrapping_add(v),
                        AluOp::Sub => a.wrapping_sub(v),
                        AluOp::Mul => a.wrapping_mul(v),
                        AluOp::Div if v == 0 => return 0,
                        AluOp::Div => a / v,
                        AluOp::Mod if v == 0 => return 0,
                        AluOp::Mod => a % v,
                        AluOp::Or => a | v,
                        AluOp::And => a & v,
                        AluOp::Xor => a ^ v,
                        // As libpcap's interpreter: a shift by 32 or more
                        // (only possible from X) gives 0.
                        AluOp::Lsh => a.checked_shl(v).unwrap_or(0),
                        AluOp::Rsh => a.checked_shr(v).unwrap_or(0),
                    };
                }
                Op::Neg => a = a.wrapping_neg(),
                Op::Ja(k) => pc += k as usize,
                Op::Jump { cond, src, jt, jf } => {
                    let v = match src {
                        Operand::K(k) => k,
                        Operand::X => x,
                    };
                    let taken = match cond {
                        Cond::Eq => a == v,
                        Cond::Gt => a > v,
                        Cond::Ge => a >= v,
                        Cond::Set => a & v != 0,
                    };
                    pc += usize::from(if taken { jt } else { jf });
                }
                Op::RetK(k) => return k,
                Op::RetA => return a,
                Op::Tax => x = a,
                Op::Txa => a = x,
            }
        }
    }

    /// Whether the program accepts `frame` (whose length on the wire is
    /// `wire_len`).
    pub fn matches(&self, frame: &[u8], wire_len: u32) -> bool {
        self.run(frame, wire_len) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

    fn insn(code: u16, jt: u8, jf: u8, k: u32) -> BpfInsn {
        BpfInsn::new(code, jt, jf, k)
    }

    /// `EXPR` compiled by the installed tcpdump, or `None` (with a visible
    /// SKIP line) when there is no tcpdump.
    fn tcpdump(expr: &str) -> Option<Program> {
        let out = match Command::new("tcpdump")
            .args(["-ddd", "-y", "EN10MB", "--", expr])
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "SKIP bpf vs tcpdump: cannot run tcpdump: {e}");
                return None;
            }
        };
        assert!(
            out.status.success(),
            "tcpdump refused {expr:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let insns = proto::capture::parse_ddd(&String::from_utf8_lossy(&out.stdout)).unwrap();
        Some(Program::new(&insns).unwrap_or_else(|e| panic!("{expr:?}: {e}")))
    }

    fn eth(src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = MAC_B.to_vec();
        f.extend_from_slice(&src);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn vlan(f: &[u8], vid: u16) -> Vec<u8> {
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0x00]);
        t.extend_from_slice(&vid.to_be_bytes());
        t.extend_from_slice(&f[12..]);
        t
    }

    /// An IPv4 header (20 bytes, no options) for `proto`, then `l4`.
    fn ipv4(proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let total = (20 + l4.len()) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h.extend_from_slice(l4);
        h
    }

    fn ipv6(next: u8, l4: &[u8]) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        h.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h.extend_from_slice(l4);
        h
    }

    fn ports(src: u16, dst: u16, rest: usize) -> Vec<u8> {
        let mut l4 = src.to_be_bytes().to_vec();
        l4.extend_from_slice(&dst.to_be_bytes());
        l4.resize(4 + rest, 0);
        l4
    }

    struct Frames {
        icmp: Vec<u8>,
        ssh: Vec<u8>,
        ssh_reply: Vec<u8>,
        ssh6: Vec<u8>,
        http: Vec<u8>,
        udp: Vec<u8>,
        udp6: Vec<u8>,
        arp: Vec<u8>,
        icmp_vlan10: Vec<u8>,
        icmp_vlan20: Vec<u8>,
        from_b: Vec<u8>,
        runt: Vec<u8>,
    }

    fn frames() -> Frames {
        let icmp = eth(MAC_A, 0x0800, &ipv4(1, &[8, 0, 0, 0, 0, 1, 0, 1]));
        Frames {
            ssh: eth(MAC_A, 0x0800, &ipv4(6, &ports(40000, 22, 16))),
            ssh_reply: eth(MAC_A, 0x0800, &ipv4(6, &ports(22, 40000, 16))),
            ssh6: eth(MAC_A, 0x86dd, &ipv6(6, &ports(40000, 22, 16))),
            http: eth(MAC_A, 0x0800, &ipv4(6, &ports(40000, 80, 16))),
            udp: eth(MAC_A, 0x0800, &ipv4(17, &ports(5353, 53, 4))),
            udp6: eth(MAC_A, 0x86dd, &ipv6(17, &ports(5353, 53, 4))),
            arp: eth(MAC_A, 0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]),
            icmp_vlan10: vlan(&icmp, 10),
            icmp_vlan20: vlan(&icmp, 20),
            from_b: eth(MAC_B, 0x0800, &ipv4(1, &[8, 0, 0, 0, 0, 1, 0, 1])),
            runt: MAC_B.to_vec(),
            icmp,
        }
    }

    /// Runs `expr` (compiled by tcpdump) on every frame and compares with
    /// the expected verdicts.
    fn check(expr: &str, expect: &[(&str, &[u8], bool)]) {
        let Some(p) = tcpdump(expr) else { return };
        for (name, f, want) in expect {
            assert_eq!(
                p.matches(f, f.len() as u32),
                *want,
                "{expr:?} on the {name} frame"
            );
        }
    }

    #[test]
    fn tcpdump_programs_select_the_expected_frames() {
        let f = frames();
        check(
            "icmp",
            &[
                ("icmp", &f.icmp, true),
                ("ssh", &f.ssh, false),
                ("arp", &f.arp, false),
                // A tagged frame is not `icmp` to tcpdump without `vlan`.
                ("icmp vlan 10", &f.icmp_vlan10, false),
                ("runt", &f.runt, false),
            ],
        );
        check(
            "tcp port 22",
            &[
                ("ssh", &f.ssh, true),
                ("ssh reply", &f.ssh_reply, true),
                ("ssh over IPv6", &f.ssh6, true),
                ("http", &f.http, false),
                ("udp", &f.udp, false),
                ("icmp", &f.icmp, false),
            ],
        );
        check(
            "vlan 10",
            &[
                ("icmp vlan 10", &f.icmp_vlan10, true),
                ("icmp vlan 20", &f.icmp_vlan20, false),
                ("icmp", &f.icmp, false),
            ],
        );
        check(
            "vlan 10 and icmp",
            &[("icmp vlan 10", &f.icmp_vlan10, true), ("icmp", &f.icmp, false)],
        );
        check(
            "arp",
            &[
                ("arp", &f.arp, true),
                ("icmp", &f.icmp, false),
                ("runt", &f.runt, false),
            ],
        );
        check(
            "ether src 02:00:00:00:00:01",
            &[
                ("icmp", &f.icmp, true),
                ("arp", &f.arp, true),
                ("from b", &f.from_b, false),
                ("runt", &f.runt, false),
            ],
        );
        check(
            "not udp",
            &[
                ("udp", &f.udp, false),
                ("udp6", &f.udp6, false),
                ("icmp", &f.icmp, true),
                ("ssh6", &f.ssh6, true),
                ("arp", &f.arp, true),
            ],
        );
        // MSH (the IPv4 header length), an indexed load and `len`.
        check(
            "tcp dst port 22 and len > 50",
            &[("ssh", &f.ssh, true), ("ssh reply", &f.ssh_reply, false)],
        );
        check(
            "ip[2:2] * 3 / 2 > 50 and ip[9] & 0x7 = 6",
            &[("ssh", &f.ssh, true), ("icmp", &f.icmp, false)],
        );
    }

    #[test]
    fn snaplen_is_the_accept_value() {
        let Some(p) = tcpdump("icmp") else { return };
        let f = frames();
        assert_eq!(p.run(&f.icmp, f.icmp.len() as u32), 262_144);
        assert_eq!(p.run(&f.arp, f.arp.len() as u32), 0);
    }

    #[test]
    fn loads_outside_the_frame_reject() {
        // ld [k]; ret #1: with k past the end, the program returns 0.
        let p = Program::new(&[insn(LD | W | ABS, 0, 0, 10), insn(RET, 0, 0, 1)]).unwrap();
        assert!(p.matches(&[0; 14], 14));
        assert!(!p.matches(&[0; 13], 13));
        // ldx #u32::MAX; ldb [x + 2]: no overflow, just out of range.
        let p = Program::new(&[
            insn(LDX | W | IMM, 0, 0, u32::MAX),
            insn(LD | B | IND, 0, 0, 2),
            insn(RET, 0, 0, 1),
        ])
        .unwrap();
        assert!(!p.matches(&[0; 64], 64));
        // ldxb 4*([k]&0xf) past the end.
        let p = Program::new(&[insn(LDX | B | MSH, 0, 0, 64), insn(RET, 0, 0, 1)]).unwrap();
        assert!(!p.matches(&[0; 64], 64));
    }

    #[test]
    fn arithmetic_memory_and_returns() {
        let p = Program::new(&[
            insn(LD | W | LEN, 0, 0, 0),      // A = wire length (1000)
            insn(ST, 0, 0, 3),                // M[3] = A
            insn(LDX | W | IMM, 0, 0, 0),     // X = 0
            insn(ALU | DIV | SRC_X, 0, 0, 0), // A / X: rejects
            insn(RET | RVAL_A, 0, 0, 0),
        ])
        .unwrap();
        assert_eq!(p.run(&[0; 10], 1000), 0, "division by X = 0");
        let p = Program::new(&[
            insn(LD | W | LEN, 0, 0, 0),
            insn(ST, 0, 0, 15),
            insn(LD | IMM, 0, 0, 7),
            insn(LDX | W | MEM, 0, 0, 15),       // X = 1000
            insn(ALU | ADD | SRC_X, 0, 0, 0),    // 1007
            insn(ALU | MOD | SRC_K, 0, 0, 1000), // 7
            insn(ALU | LSH | SRC_K, 0, 0, 4),    // 112
            insn(ALU | NEG, 0, 0, 0),
            insn(ALU | NEG, 0, 0, 0),
            insn(MISC | TAX, 0, 0, 0),
            insn(LD | W | MEM, 0, 0, 0), // the zeroed M[0]
            insn(MISC | TXA, 0, 0, 0),
            insn(JMP | JSET | SRC_K, 1, 0, 0x10), // 112 has 0x10: skip one
            insn(RET, 0, 0, 0),
            insn(JMP | JA, 0, 0, 1),
            insn(RET, 0, 0, 0),
            insn(RET | RVAL_A, 0, 0, 0),
        ])
        .unwrap();
        assert_eq!(p.run(&[], 1000), 112);
        // A shift by X >= 32 gives 0.
        let p = Program::new(&[
            insn(LD | IMM, 0, 0, 1),
            insn(LDX | W | IMM, 0, 0, 40),
            insn(ALU | LSH | SRC_X, 0, 0, 0),
            insn(RET | RVAL_A, 0, 0, 0),
        ])
        .unwrap();
        assert_eq!(p.run(&[], 0), 0);
    }

    #[test]
    fn invalid_programs_are_refused_with_the_instruction() {
        let ret = insn(RET, 0, 0, 1);
        let refused = |p: &[BpfInsn]| Program::new(p).unwrap_err();
        assert_eq!(refused(&[]), "a filter has 1-4096 instructions, this one 0");
        assert!(refused(&vec![ret; 4097]).contains("this one 4097"));
        assert!(Program::new(&vec![ret; 4096]).is_ok());
        assert_eq!(
            refused(&[insn(LD | IMM, 0, 0, 1)]),
            "instruction 0: the last instruction must be a return"
        );
        assert_eq!(
            refused(&[insn(0xff, 0, 0, 0), ret]),
            "instruction 0: unknown opcode 0x00ff"
        );
        // Unknown sizes, modes and operations within known classes.
        for code in [
            LD | 0x18 | ABS,
            LD | H | IMM,
            LD | B | LEN,
            LD | 0xe0,
            LDX | H | IMM,
            LDX | W | MSH,
            ST | 0x08,
            ALU | 0xb0,
            ALU | NEG | SRC_X,
            JMP | 0x50,
            JMP | JA | SRC_X,
            RET | SRC_X,
            MISC | 0x08,
            0x100 | RET,
        ] {
            assert!(
                refused(&[insn(code, 0, 0, 1), ret]).contains("unknown opcode"),
                "{code:#x} accepted"
            );
        }
        assert_eq!(
            refused(&[insn(ST, 0, 0, 16), ret]),
            "instruction 0: memory slot 16 does not exist (0-15)"
        );
        assert!(refused(&[insn(LD | W | MEM, 0, 0, 99), ret]).contains("memory slot 99"));
        assert_eq!(
            refused(&[insn(ALU | DIV | SRC_K, 0, 0, 0), ret]),
            "instruction 0: division by the constant 0"
        );
        assert!(refused(&[insn(ALU | MOD | SRC_K, 0, 0, 0), ret]).contains("division"));
        assert_eq!(
            refused(&[insn(ALU | RSH | SRC_K, 0, 0, 32), ret]),
            "instruction 0: shift by 32 (at most 31)"
        );
        assert_eq!(
            refused(&[insn(JMP | JA, 0, 0, 1), ret]),
            "instruction 0: jump to 2 is past the end of the program (2 instructions)"
        );
        assert!(refused(&[insn(JMP | JA, 0, 0, u32::MAX), ret]).contains("past the end"));
        assert!(refused(&[insn(JMP | JEQ, 0, 1, 0), ret]).contains("jump to 2"));
        assert!(refused(&[insn(JMP | JGT, 1, 0, 0), ret]).contains("jump to 2"));
        assert_eq!(
            refused(&[insn(LD | W | ABS, 0, 0, 0xffff_f000), ret]),
            "instruction 0: Linux ancillary loads (offset -4096) are not supported"
        );
    }
}
