/* seccomp_arch.h: what every system call filter of moat's starts with
 * (base/nospawn.c, daemon/probed.c).
 *
 * A filter compares the numbers of the build's architecture: a call made
 * by another (an x86-64 process can make i386 calls with int 0x80, or x32
 * ones, the same architecture with bit 30 in the number) would pass by
 * every test, so it kills the process.  A filter is written for x86-64
 * and arm64 only, and moat builds for no other: before, it built
 * anywhere and its children ran unconfined elsewhere, with a warning
 * (a firewall's proxy, console and feed process taken over, free to start
 * processes and open raw sockets).  Another architecture needs its own
 * look at these filters first (i386 and s390x make sockets through
 * socketcall, whose arguments a filter cannot read; s390x's clone takes
 * its flags second), then its line here. */
#ifndef MOAT_SECCOMP_ARCH_H
#define MOAT_SECCOMP_ARCH_H

#if defined(__x86_64__) && !defined(__ILP32__)
#define SECCOMP_ARCH	AUDIT_ARCH_X86_64
/* x32's numbers: this architecture's, with this bit */
#define SECCOMP_X32_BIT	0x40000000u
#elif defined(__aarch64__) && !defined(__ILP32__)
#define SECCOMP_ARCH	AUDIT_ARCH_AARCH64
#else
#error "moat's system call filters are written for x86-64 and arm64 only (see base/seccomp_arch.h)"
#endif

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

/* The filter's first instructions: a call of another architecture (or
 * x32's) kills the process; the call's number is loaded. */
#define SECCOMP_ARCH_AND_NR \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
	    offsetof(struct seccomp_data, arch)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
	    offsetof(struct seccomp_data, nr))
#ifdef SECCOMP_X32_BIT
#define SECCOMP_PROLOGUE \
	SECCOMP_ARCH_AND_NR, \
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SECCOMP_X32_BIT, 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
#define SECCOMP_PROLOGUE_LEN	6
#else
#define SECCOMP_PROLOGUE	SECCOMP_ARCH_AND_NR
#define SECCOMP_PROLOGUE_LEN	4
#endif

#endif
