/*
 * The pointers a program passes to libhel.  Under the hosted rule
 * (OBJECTS.md §7) all of a program's memory is its Hel address space: a
 * pointer into memory mapped with the access a call needs works, anything
 * else is kHelErrFault, never a signal in the program.  libhel installs no
 * signal handler, so it must know an address is good before it touches it.
 *
 * Two ranges it knows for free: the calling thread's stack from the current
 * frame up (where most outputs live) and the Hel mappings it carried out
 * itself (maps.c, with their protection).  Any other address it asks Linux,
 * with a syscall that copies from or to the program's memory and answers
 * EFAULT instead of faulting: one per page for a read, one per page for a
 * write of 8 bytes or more (measured here: ~140 ns each in a plain process,
 * ~450 ns under helhost's seccomp filter, against ~1.2 µs for
 * process_vm_readv/writev on the own pid); a write of fewer than 8 bytes
 * is probed with getrandom.
 *
 * A probe and the access after it are two steps: another thread that
 * unmaps or protects the memory between them makes the access fault, as it
 * would in any program that races its own munmap against a use.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define PAGE 4096ul
#define PROBE_LEN 8     /* bytes rt_sigprocmask copies: the kernel's sigset_t */

/* This thread's stack, learnt at its first check; lo == hi means unknown. */
static __thread uintptr_t stack_lo, stack_hi;
static __thread bool stack_learnt;

/* A raw syscall: its error comes back as -errno, and errno stays the program's. */
static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			: "=a"(ret)
			: "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			: "rcx", "r11", "memory");
	return ret;
}

static void learn_stack(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	stack_learnt = true;
	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		stack_lo = (uintptr_t)addr;
		stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

/*
 * Everything between the current frame and the top of the thread's stack
 * is mapped read-write.  The frame must itself lie in that stack: on a
 * signal stack elsewhere, the range up to the thread's top could span holes.
 */
static bool on_stack(uintptr_t a, size_t len)
{
	uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
	if (!stack_learnt)
		learn_stack();
	return frame >= stack_lo && frame < stack_hi && a >= frame && a < stack_hi &&
			len <= stack_hi - a;
}

static bool known(const void *p, size_t len, uint32_t need)
{
	uintptr_t a = (uintptr_t)p;
	uint32_t prot;
	if (a + len < a)
		return false;
	if (on_stack(a, len))
		return true;
	return hh_shim_maps_lookup(a, len, &prot) && (prot & need) == need;
}

/*
 * rt_sigprocmask with an invalid `how` first copies the new set from the
 * program (EFAULT if it cannot) and only then refuses the `how` (EINVAL):
 * a read of 8 bytes with no effect.  Protection is per page, so 8 bytes
 * anywhere in a page answer for all of it; offset 8 avoids address 0,
 * where a NULL set would be taken as "no new set".
 */
static bool page_readable(uintptr_t page)
{
	return sys6(SYS_rt_sigprocmask, -1, (long)(page + 8), 0, PROBE_LEN, 0, 0) != -EFAULT;
}

bool hh_shim_readable(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	if (!len || known(p, len, PROT_READ))
		return true;
	if (a + len < a)
		return false;
	for (uintptr_t page = a & ~(PAGE - 1); page < a + len; page += PAGE)
		if (!page_readable(page))
			return false;
	return true;
}

HelError hh_shim_get(void *dst, const void *src, size_t len)
{
	if (!len)
		return kHelErrNone;     /* nothing to read, wherever src points */
	if (!hh_shim_readable(src, len))
		return kHelErrFault;
	memcpy(dst, src, len);
	return kHelErrNone;
}

/*
 * rt_sigprocmask with no new set writes the current mask (8 bytes) to
 * oset, or answers EFAULT: a write probe that changes nothing but the 8
 * bytes, so every window lies inside [a, a+len), which the caller
 * overwrites next.  Each page the range touches holds some window: the
 * first byte's, each page start, and the last 8 bytes.
 */
static bool range_writable(uintptr_t a, size_t len)
{
	uintptr_t last = a + len - PROBE_LEN;
	for (uintptr_t at = a;; ) {
		if (sys6(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)at, PROBE_LEN, 0, 0) == -EFAULT)
			return false;
		if (at == last)
			return true;
		uintptr_t next = (at & ~(PAGE - 1)) + PAGE;
		at = next < last ? next : last;
	}
}

/*
 * The kernel copies exactly these bytes, or answers EFAULT: for fewer than
 * 8 bytes, and at address 0, where rt_sigprocmask would take the NULL oset
 * for "no old set wanted" and succeed.
 */
static bool write_exact(void *dst, const void *src, size_t len)
{
	struct iovec local = { (void *)src, len }, remote = { dst, len };
	return sys6(SYS_process_vm_writev, getpid(), (long)&local, 1, (long)&remote, 1, 0) == (long)len;
}

/*
 * getrandom writes exactly len bytes or answers EFAULT (never fewer below
 * 256 bytes once the pool is ready): the write probe for fewer than 8
 * bytes, ~0.3 µs against ~1.7 µs for write_exact; the caller's bytes
 * replace the random ones before the call returns.  A pool not ready yet
 * (EAGAIN, only early at boot) leaves it to write_exact.
 */
static bool put_small(void *dst, const void *src, size_t len)
{
	long r = sys6(SYS_getrandom, (long)dst, (long)len, GRND_NONBLOCK, 0, 0, 0);
	if (r == -EAGAIN)
		return write_exact(dst, src, len);
	if (r != (long)len)
		return false;
	memcpy(dst, src, len);
	return true;
}

/* Copy to the program's dst; kHelErrFault if it is not writable. */
static HelError put(void *dst, const void *src, size_t len)
{
	uintptr_t a = (uintptr_t)dst;
	if (!len)
		return kHelErrNone;
	if (known(dst, len, PROT_WRITE)) {
		memcpy(dst, src, len);
		return kHelErrNone;
	}
	if (a + len < a)
		return kHelErrFault;
	if (!a)
		return write_exact(dst, src, len) ? kHelErrNone : kHelErrFault;
	if (len < PROBE_LEN)
		return put_small(dst, src, len) ? kHelErrNone : kHelErrFault;
	if (!range_writable(a, len))
		return kHelErrFault;
	memcpy(dst, src, len);
	return kHelErrNone;
}

/*
 * An output store after the call has done its work.  In thor the kernel
 * makes the handles (mapping, clock wait, ...) and hands them back in
 * registers; the stub in the program then stores them, and a bad pointer
 * faults there, after the fact.  So here too the effect stays and keeps
 * its handle numbers; only the answer becomes kHelErrFault.  A call that
 * failed keeps its own error: its outputs mean nothing (ABI.md §4).
 */
HelError hh_shim_store(HelError e, void *dst, const void *src, size_t len)
{
	HelError w = put(dst, src, len);
	return e ? e : w;
}

/*
 * A received message, written page by page as far as the pages are
 * writable: the bytes before the first page that is not stay written, as
 * they do when the emulator writes a message itself (src/host/usermem.c).
 */
HelError hh_shim_store_prefix(void *dst, const void *src, size_t len)
{
	uintptr_t a = (uintptr_t)dst;
	for (size_t done = 0; done < len;) {
		size_t n = PAGE - ((a + done) & (PAGE - 1));
		if (n > len - done)
			n = len - done;
		if (put((char *)dst + done, (const char *)src + done, n))
			return kHelErrFault;
		done += n;
	}
	return kHelErrNone;
}
