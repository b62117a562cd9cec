/* nospawn.c: a process that may start no other; see nospawn.h.
 *
 * A seccomp filter (BPF, no libseccomp): clone only with CLONE_THREAD (a
 * thread), clone3 answered ENOSYS (glibc's pthread_create then takes
 * clone), fork, vfork, execve and execveat refused with EPERM, and with
 * them unshare, setns, io_uring and the FREEBIND options; every other
 * call as before.  A call of another architecture than the build's
 * (an x86-64 process can make i386 calls) kills the process: the numbers
 * above would not be its numbers (base/seccomp_arch.h, which also says
 * why moat builds for x86-64 and arm64 only).
 */
#include "base/nospawn.h"

#include <errno.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "base/seccomp_arch.h"

#if defined(__SANITIZE_ADDRESS__)
#define NOSPAWN_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOSPAWN_ASAN	1
#endif
#endif
#ifndef NOSPAWN_ASAN
#define NOSPAWN_ASAN	0
#endif

/* clone's flags: its first argument, the low 32 bits (little endian) */
#define FLAGS	offsetof(struct seccomp_data, args[0])
/* setsockopt's level and option */
#define LEVEL	offsetof(struct seccomp_data, args[1])
#define OPTNAME	offsetof(struct seccomp_data, args[2])

#define REFUSE(nr, err) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

/* Filter f of n instructions on this process from now on, with no new
 * privileges. */
static int
install(struct sock_filter *f, size_t n)
{
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int
nospawn(void)
{
	struct sock_filter f[] = {
		SECCOMP_PROLOGUE,
#ifdef __NR_fork			/* (arm64 has neither) */
		REFUSE(__NR_fork, EPERM),
		REFUSE(__NR_vfork, EPERM),
#endif
		REFUSE(__NR_execve, EPERM),
		REFUSE(__NR_execveat, EPERM),
		/* nor a namespace of its own (a user namespace would open
		 * the kernel's nf_tables and more to it; systemd's
		 * RestrictNamespaces says so only under the unit) */
		REFUSE(__NR_unshare, EPERM),
		REFUSE(__NR_setns, EPERM),
		REFUSE(__NR_clone3, ENOSYS),
		/* io_uring makes sockets and sets their options without
		 * the calls below */
		REFUSE(__NR_io_uring_setup, ENOSYS),
		REFUSE(__NR_io_uring_enter, ENOSYS),
		REFUSE(__NR_io_uring_register, ENOSYS),
		/* nor send from an address not the gateway's: IP_FREEBIND
		 * and IPV6_FREEBIND need no capability, and with either an
		 * IPv6 socket sends from any address (either level sets
		 * the one flag; a review, 2026-12-08).  moatd's parent sets
		 * it on the listeners it hands over. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 0, 9),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LEVEL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IP, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OPTNAME),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IP_FREEBIND, 4, 3),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IPV6, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OPTNAME),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPV6_FREEBIND, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, FLAGS),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#if NOSPAWN_ASAN
		/* the tests' builds: LeakSanitizer stops the world at exit
		 * from a task of its own (CLONE_VM | CLONE_UNTRACED) */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, CLONE_VM | CLONE_UNTRACED),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CLONE_VM | CLONE_UNTRACED,
		    0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}

/* socket's arguments: the family, the type (with SOCK_CLOEXEC and
 * SOCK_NONBLOCK above its low four bits) */
#define DOMAIN	offsetof(struct seccomp_data, args[0])
#define TYPE	offsetof(struct seccomp_data, args[1])

int
noraw(void)
{
	struct sock_filter f[] = {
		SECCOMP_PROLOGUE,	/* (x32 too: it does not lean on nospawn's) */
		/* io_uring makes sockets without socket(2) */
		REFUSE(__NR_io_uring_setup, ENOSYS),
		REFUSE(__NR_io_uring_enter, ENOSYS),
		REFUSE(__NR_io_uring_register, ENOSYS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* the families the proxy's libraries use, and no other (a
		 * packet socket, AF_XDP ...: a second review) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DOMAIN),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 8, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 7, 0),
		/* IP: streams and datagrams only (not SOCK_RAW, nor
		 * SOCK_PACKET, which the kernel makes a packet socket of);
		 * netlink's sockets are SOCK_RAW (getifaddrs) and stay */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, TYPE),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}

int
nosocket(void)
{
	struct sock_filter f[] = {
		SECCOMP_PROLOGUE,	/* (x32 too, as noraw's) */
		REFUSE(__NR_io_uring_setup, ENOSYS),
		REFUSE(__NR_io_uring_enter, ENOSYS),
		REFUSE(__NR_io_uring_register, ENOSYS),
		REFUSE(__NR_socket, EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}
