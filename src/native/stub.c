/*
 * helhost-stub: the process behind a thread made by helCreateThread.  Built
 * without a C library and linked at HH_STUB_BASE, so that all of its address
 * space below that belongs to the guest.  It maps its command page, then
 * loops: stop with int3, carry out the page's operations.  The emulator
 * (src/native/native.c) runs guest code in it with ptrace and points it back at the
 * loop when its mappings must change.
 */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/mman.h>
#include <asm/signal.h>
#include <asm/socket.h>
#include <linux/prctl.h>

#include "stubpage.h"

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret)
			: "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			: "rcx", "r11", "memory");
	return ret;
}

/* Linux's struct msghdr and cmsghdr, spelt out: there are no libc headers here. */
struct stub_iovec { void *base; size_t len; };
struct stub_msghdr {
	void *name; int namelen; struct stub_iovec *iov; size_t iovlen;
	void *control; size_t controllen; int flags;
};
struct stub_cmsg { size_t len; int level; int type; int fd; int pad; };

/* The memfd the emulator sent for the next MAP (callpage.h's hh_send_fds, one fd), or -errno. */
static long receive_fd(void)
{
	uint32_t count = 0;
	struct stub_iovec iov = { &count, sizeof(count) };
	struct stub_cmsg cmsg = { 0 };
	struct stub_msghdr msg = { .iov = &iov, .iovlen = 1, .control = &cmsg,
		.controllen = sizeof(cmsg) };
	long r = sys6(__NR_recvmsg, HH_STUB_SOCK_FD, (long)&msg, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if (r != sizeof(count) || count != 1 || cmsg.level != SOL_SOCKET ||
			cmsg.type != 1 /* SCM_RIGHTS */)
		return -22;
	return cmsg.fd;
}

static long map(const volatile struct hh_stub_op *op)
{
	long fd = receive_fd();
	if (fd < 0)
		return fd;
	long r = sys6(__NR_mmap, (long)op->addr, (long)op->len, op->prot, MAP_SHARED | MAP_FIXED,
			fd, (long)op->offset);
	sys6(__NR_close, fd, 0, 0, 0, 0, 0);
	return r < 0 ? r : 0;
}

static void serve(volatile struct hh_stub_page *p)
{
	uint32_t count = p->count;
	for (uint32_t i = 0; i < count && i < HH_STUB_MAX_OPS; i++) {
		volatile struct hh_stub_op *op = &p->ops[i];
		long r = -22;
		if (op->kind == HH_STUB_MAP)
			r = map(op);
		else if (op->kind == HH_STUB_UNMAP)
			r = sys6(__NR_munmap, (long)op->addr, (long)op->len, 0, 0, 0, 0);
		else if (op->kind == HH_STUB_PROTECT)
			r = sys6(__NR_mprotect, (long)op->addr, (long)op->len, op->prot, 0, 0, 0);
		op->result = r;
		p->done = i + 1;
	}
}

__attribute__((noreturn, used)) static void stub_loop(void)
{
	for (;;) {
		/* The emulator takes the registers here once and restores them for every batch. */
		__asm__ volatile("int3" ::: "memory");
		serve((volatile struct hh_stub_page *)HH_STUB_PAGE);
	}
}

__attribute__((noreturn, used)) static void stub_main(void)
{
	long page = sys6(__NR_mmap, (long)HH_STUB_PAGE, (long)HH_STUB_SIZE, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, HH_STUB_PAGE_FD, 0);
	if (page < 0)
		sys6(__NR_exit_group, 127, 0, 0, 0, 0, 0);
	sys6(__NR_close, HH_STUB_PAGE_FD, 0, 0, 0, 0, 0);
	/* Die with the emulator; if it is gone already, our parent is someone else. */
	volatile struct hh_stub_page *p = (volatile struct hh_stub_page *)page;
	if (sys6(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0) < 0 ||
			sys6(__NR_getppid, 0, 0, 0, 0, 0, 0) != p->emulator)
		sys6(__NR_exit_group, 127, 0, 0, 0, 0, 0);
	/* Wait here until the emulator has become our tracer. */
	sys6(__NR_kill, sys6(__NR_getpid, 0, 0, 0, 0, 0, 0), SIGSTOP, 0, 0, 0, 0);
	/* From here on the stub's stack is its own memfd's, out of the guest's way. */
	__asm__ volatile("mov %0, %%rsp\n\tcall stub_loop" :: "r"(HH_STUB_PAGE + HH_STUB_SIZE) : "memory");
	__builtin_unreachable();
}

__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call stub_main\n"
	"	hlt\n");
