//! The seccomp filter every lab sandbox runs under: a small classic-BPF program, assembled
//! here and handed to bubblewrap (`--seccomp FD`), that makes the system calls a lab never
//! needs and the kernel's riskiest surfaces fail with `EPERM`.
//!
//! Denied (each with `EPERM`, so programs see an ordinary refusal, not a crash):
//! * `io_uring_setup`, `io_uring_enter`, `io_uring_register`: a large, often-exploited
//!   interface that also bypasses per-syscall filtering;
//! * `keyctl`, `add_key`, `request_key`: the kernel keyring is not namespaced;
//! * `perf_event_open`, `bpf`, `userfaultfd`: kernel attack surface and timing primitives;
//! * `kexec_load`, `kexec_file_load`, `init_module`, `finit_module`, `delete_module`,
//!   `reboot`, `swapon`, `swapoff`, `acct`, `iopl`, `ioperm`, `quotactl`, `lookup_dcookie`,
//!   `open_by_handle_at`: host administration (bubblewrap already drops the capabilities they
//!   need; this is the second lock);
//! * `mount`, `umount2`, `pivot_root`, `open_tree`, `move_mount`, `fsopen`, `fsconfig`,
//!   `fsmount`, `fspick`, `mount_setattr`: the mount family (likewise);
//! * every x32-ABI call (numbers with bit 30 set), which would otherwise reach the calls above
//!   under other numbers, and every call made under another architecture's convention (32-bit
//!   `int 0x80`), for the same reason.
//!
//! `ptrace` stays allowed: the sandbox's own PID namespace confines it to the learner's own
//! processes, and `strace` and `gdb` are lab material.
//!
//! Only x86-64 has a filter; on other architectures [`program`] is `None` and the driver
//! refuses to start labs (fail closed) rather than run them unfiltered.

/// `AUDIT_ARCH_X86_64`: what `seccomp_data.arch` holds for native x86-64 calls.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;

/// x86-64 numbers of the denied calls (`arch/x86/entry/syscalls/syscall_64.tbl`).
#[cfg(target_arch = "x86_64")]
pub const DENIED: &[(&str, u32)] = &[
    ("iopl", 172),
    ("ioperm", 173),
    ("mount", 165),
    ("umount2", 166),
    ("swapon", 167),
    ("swapoff", 168),
    ("reboot", 169),
    ("pivot_root", 155),
    ("acct", 163),
    ("init_module", 175),
    ("delete_module", 176),
    ("quotactl", 179),
    ("lookup_dcookie", 212),
    ("kexec_load", 246),
    ("add_key", 248),
    ("request_key", 249),
    ("keyctl", 250),
    ("perf_event_open", 298),
    ("open_by_handle_at", 304),
    ("finit_module", 313),
    ("kexec_file_load", 320),
    ("bpf", 321),
    ("userfaultfd", 323),
    ("io_uring_setup", 425),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("open_tree", 428),
    ("move_mount", 429),
    ("fsopen", 430),
    ("fsconfig", 431),
    ("fsmount", 432),
    ("fspick", 433),
    ("mount_setattr", 442),
];

/// Numbers at or above this are x32-ABI calls (`__X32_SYSCALL_BIT`).
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Classic BPF, as `linux/filter.h` and `linux/seccomp.h` define it.
const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD (0) | BPF_W (0) | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP (5) | BPF_JEQ (0x10) | BPF_K (0)
const BPF_JGE_K: u16 = 0x35; // BPF_JMP (5) | BPF_JGE (0x30) | BPF_K (0)
const BPF_RET_K: u16 = 0x06; // BPF_RET (6) | BPF_K (0)
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const EPERM: u32 = 1;
/// Offsets in `struct seccomp_data`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;

/// One BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    /// The operation.
    pub code: u16,
    /// Instructions to skip when a jump's condition holds.
    pub jt: u8,
    /// Instructions to skip when it does not.
    pub jf: u8,
    /// The operand.
    pub k: u32,
}

impl Instruction {
    const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Self {
        Self { code, jt, jf, k }
    }
}

/// The filter as instructions, `None` where there is none for this architecture.
#[cfg(target_arch = "x86_64")]
pub fn program() -> Option<Vec<Instruction>> {
    // Layout: the checks, then `deny` (return EPERM) right after the last one, then `allow`.
    // Each jump to `deny` skips the instructions between it and `deny`.
    let checks = 5 + DENIED.len();
    let to_deny = |at: usize| u8::try_from(checks - at - 1).ok();
    let mut p = Vec::with_capacity(checks + 2);
    p.push(Instruction::new(BPF_LD_W_ABS, 0, 0, OFFSET_ARCH));
    // Another architecture's convention: deny.
    p.push(Instruction::new(BPF_JEQ_K, 1, 0, AUDIT_ARCH));
    p.push(Instruction::new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM));
    p.push(Instruction::new(BPF_LD_W_ABS, 0, 0, OFFSET_NR));
    let at = p.len();
    p.push(Instruction::new(
        BPF_JGE_K,
        to_deny(at)?,
        0,
        X32_SYSCALL_BIT,
    ));
    for (_, nr) in DENIED {
        let at = p.len();
        p.push(Instruction::new(BPF_JEQ_K, to_deny(at)?, 0, *nr));
    }
    // Nothing matched: jump over `deny`.
    let last = p.len() - 1;
    p[last].jf = 1;
    p.push(Instruction::new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM));
    p.push(Instruction::new(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
    Some(p)
}

/// The filter as instructions, `None` where there is none for this architecture.
#[cfg(not(target_arch = "x86_64"))]
pub fn program() -> Option<Vec<Instruction>> {
    None
}

/// The program as bubblewrap reads it from `--seccomp FD`: `struct sock_filter`s, native
/// byte order.
pub fn to_bytes(program: &[Instruction]) -> Vec<u8> {
    program
        .iter()
        .flat_map(|i| {
            let mut b = Vec::with_capacity(8);
            b.extend_from_slice(&i.code.to_ne_bytes());
            b.push(i.jt);
            b.push(i.jf);
            b.extend_from_slice(&i.k.to_ne_bytes());
            b
        })
        .collect()
}

#[cfg(all(test, target_arch = "x86_64"))]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    /// Runs the program on one call, as the kernel would: returns its verdict.
    fn verdict(program: &[Instruction], arch: u32, nr: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = program[pc];
            match i.code {
                BPF_LD_W_ABS => {
                    acc = match i.k {
                        OFFSET_NR => nr,
                        OFFSET_ARCH => arch,
                        other => panic!("loads offset {other}"),
                    };
                    pc += 1;
                }
                BPF_JEQ_K | BPF_JGE_K => {
                    let holds = if i.code == BPF_JEQ_K {
                        acc == i.k
                    } else {
                        acc >= i.k
                    };
                    pc += 1 + usize::from(if holds { i.jt } else { i.jf });
                }
                BPF_RET_K => return i.k,
                other => panic!("unknown instruction {other:#x}"),
            }
        }
    }

    #[test]
    fn the_filter_denies_its_list_and_allows_the_rest() {
        let p = program().unwrap();
        let denied = SECCOMP_RET_ERRNO | EPERM;
        for (name, nr) in DENIED {
            assert_eq!(verdict(&p, AUDIT_ARCH, *nr), denied, "{name}");
            // The same call through the x32 ABI, and under the i386 convention.
            assert_eq!(
                verdict(&p, AUDIT_ARCH, nr | X32_SYSCALL_BIT),
                denied,
                "{name}"
            );
            assert_eq!(verdict(&p, 0x4000_0003, *nr), denied, "{name}");
        }
        // read, write, openat, clone, clone3, execve, ptrace, getpid.
        for nr in [0, 1, 257, 56, 435, 59, 101, 39] {
            assert_eq!(verdict(&p, AUDIT_ARCH, nr), SECCOMP_RET_ALLOW, "{nr}");
        }
        assert_eq!(to_bytes(&p).len(), p.len() * 8);
    }
}
