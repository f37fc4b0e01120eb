/*
 * helCreateThread in the program's own space.  The emulator cannot make a
 * thread inside this process, so libhel makes a raw Linux thread (clone,
 * no C library, every signal blocked) that parks on a futex in a block of
 * its own; the emulator then ptraces it and turns it into the Hel thread
 * (src/native/ownthread.c), whatever its ip and sp.  A thread the emulator did not
 * take is told to leave and ends by itself.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define HH_STR_(x) #x
#define HH_STR(x) HH_STR_(x)

/*
 * long hh_own_clone(flags, stack, alive, park): clone(2) in the caller,
 * the parked thread's whole life in the child.  The child waits on *park
 * (kept in r9, which clone leaves as it was) without touching its stack,
 * and leaves through hh_own_exit once *park is set; the emulator sends a
 * thread it has taken to hh_own_exit to end it.
 */
long hh_own_clone(unsigned long flags, void *stack, int32_t *alive, int32_t *park);
void hh_own_exit(void);
__asm__(
	".text\n"
	".globl hh_own_clone\n"
	".hidden hh_own_clone\n"
	".type hh_own_clone, @function\n"
	"hh_own_clone:\n"
	"	mov %rdx, %r10\n"               /* child_tid: cleared when the thread is gone */
	"	mov %rcx, %r9\n"
	"	xor %edx, %edx\n"               /* no parent_tid */
	"	xor %r8d, %r8d\n"               /* no TLS */
	"	mov $" HH_STR(SYS_clone) ", %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 2f\n"
	"1:	mov $" HH_STR(SYS_futex) ", %eax\n"
	"	mov %r9, %rdi\n"
	"	mov $" HH_STR(FUTEX_WAIT_PRIVATE) ", %esi\n"
	"	xor %edx, %edx\n"
	"	xor %r10d, %r10d\n"
	"	syscall\n"
	"	cmpl $0, (%r9)\n"
	"	je 1b\n"
	".globl hh_own_exit\n"
	".hidden hh_own_exit\n"
	"hh_own_exit:\n"
	"	mov $" HH_STR(SYS_exit) ", %eax\n"
	"	xor %edi, %edi\n"
	"	syscall\n"
	"	ud2\n"
	"2:	ret\n"
	".size hh_own_clone, .-hh_own_clone\n"
	/* Where the emulator runs the syscalls that change the program's mappings for it. */
	".globl hh_own_gadget\n"
	".hidden hh_own_gadget\n"
	"hh_own_gadget:\n"
	"	syscall\n"
	"	int3\n");
void hh_own_gadget(void);

/*
 * A thread's block and the stack it parks on (it calls nothing and takes no
 * signal, so the stack stays unused until the emulator gives it its own).
 * From the heap, not a mapping of its own: a new mapping could land in a
 * hole the program has just made and expects to stay a hole.
 */
struct own_thread {
	struct hh_own_block block;
	_Alignas(16) unsigned char stack[256];
};

/* Threads made so far; one that is gone is used again.  sock: the memfds' way in (see hh_own_block). */
static struct {
	pthread_mutex_t lock;
	struct own_thread **all;
	size_t count;
	int sock[2];
} threads = { .lock = PTHREAD_MUTEX_INITIALIZER, .sock = { -1, -1 } };

static void prepare_block(struct hh_own_block *b)
{
	*b = (struct hh_own_block){ .magic = HH_OWN_MAGIC, .exit_ip = (uint64_t)(uintptr_t)hh_own_exit,
		.alive = 1, .gadget = (uint64_t)(uintptr_t)hh_own_gadget, .recv = threads.sock[0] };
	b->iov = (struct iovec){ .iov_base = &b->count, .iov_len = sizeof(b->count) };
	b->msg = (struct msghdr){ .msg_iov = &b->iov, .msg_iovlen = 1, .msg_control = b->control,
		.msg_controllen = sizeof(b->control) };
}

static struct own_thread *take_thread(void)
{
	struct own_thread *o = NULL;
	pthread_mutex_lock(&threads.lock);
	for (size_t i = 0; i < threads.count && !o; i++)
		if (__atomic_load_n(&threads.all[i]->block.alive, __ATOMIC_ACQUIRE) == 0)
			o = threads.all[i];
	if (threads.sock[0] < 0 && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, threads.sock) < 0)
		threads.sock[0] = threads.sock[1] = -1;
	if (!o && threads.sock[0] >= 0) {
		struct own_thread **all = realloc(threads.all, (threads.count + 1) * sizeof(*all));
		if (all)
			threads.all = all;
		if (all && (o = calloc(1, sizeof(*o))))
			threads.all[threads.count++] = o;
	}
	if (o)
		prepare_block(&o->block);
	pthread_mutex_unlock(&threads.lock);
	return o;
}

/* A raw thread parked on o's block, or -errno.  It inherits no signal: all are blocked in it. */
static long park_thread(struct own_thread *o)
{
	struct hh_own_block *b = &o->block;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long tid = hh_own_clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			CLONE_SYSVSEM | CLONE_CHILD_CLEARTID, o->stack + sizeof(o->stack), &b->alive, &b->park);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (tid < 0)
		b->alive = 0;
	return tid;
}

HelError hh_shim_own_thread(HelHandle universe, HelAbi abi, void *ip, void *sp, uint32_t flags,
		HelHandle *handle)
{
	/* A thread made for a handle that cannot be stored would live on unseen: check first. */
	HelError e = HH_STORE(kHelErrNone, handle, kHelNullHandle);
	if (e)
		return e;
	struct own_thread *o = take_thread();
	if (!o)
		return kHelErrNoMemory;
	long tid = park_thread(o);
	if (tid < 0)
		return kHelErrNoMemory;
	uint64_t out[2];
	e = hh_shim_call(kHelCallCreateThread, 9, HH_ARGS((uint64_t)(int64_t)universe,
			(uint64_t)(int64_t)kHelNullHandle, (uint64_t)(int64_t)abi, HH_U(ip), HH_U(sp),
			(uint64_t)flags, (uint64_t)tid, HH_U(&o->block), (uint64_t)threads.sock[1]), out);
	if (e) {
		/* Not taken (or taken and already sent to its exit): it leaves by itself. */
		__atomic_store_n(&o->block.park, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &o->block.park, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return HH_STORE(e, handle, out[0]);
}
