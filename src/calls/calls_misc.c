/* Decoding of the logging, CPU, clock and randomness calls. */
#include <sched.h>
#include <string.h>
#include <sys/random.h>

#include "calls.h"
#include "native.h"
#include "klog.h"
#include "loop.h"
#include "process.h"
#include "thread.h"
#include "usermem.h"

#define LOG_PIECE 256
#define PANIC_MESSAGE_MAX 4096

HelError hh_call_Log(struct hh_call *c)
{
	int severity = (int)c->arg[0];
	uint64_t addr = c->arg[1], len = c->arg[2];
	char piece[LOG_PIECE];
	/* thor copies and logs piece by piece; a bad piece stops it with a fault. */
	for (uint64_t at = 0; at < len; at += LOG_PIECE) {
		size_t n = len - at < LOG_PIECE ? (size_t)(len - at) : LOG_PIECE;
		if (hh_user_read(&c->proc->mem, addr + at, piece, n))
			return hh_call_refuse(c, kHelErrFault, "string unreadable at offset %llu",
					(unsigned long long)at);
		hh_klog_piece(c->proc->name, c->proc->pid, severity, piece, n);
	}
	return kHelErrNone;
}

HelError hh_call_Nop(struct hh_call *c)
{
	(void)c;
	return kHelErrNone;
}

HelError hh_call_Panic(struct hh_call *c)
{
	uint64_t addr = c->arg[0], len = c->arg[1];
	char msg[PANIC_MESSAGE_MAX];
	size_t n = len < sizeof(msg) ? (size_t)len : sizeof(msg);
	if (hh_user_read(&c->proc->mem, addr, msg, n))
		n = 0;  /* thor does not read it at all; an unreadable message is no error */
	hh_klog_panic(c->proc->name, c->proc->pid, c->thread->tid, msg, n);
	return kHelErrNone;
}

HelError hh_call_Yield(struct hh_call *c)
{
	(void)c;        /* the caller is rescheduled when the reply wakes it */
	return kHelErrNone;
}

HelError hh_call_GetCurrentCpu(struct hh_call *c)
{
	int cpu = sched_getcpu();
	c->out[0] = cpu < 0 ? 0 : (uint64_t)cpu;
	return kHelErrNone;
}

HelError hh_call_GetClock(struct hh_call *c)
{
	c->out[0] = hh_now();
	return kHelErrNone;
}

HelError hh_call_GetRandomBytes(struct hh_call *c)
{
	uint64_t addr = c->arg[0], wanted = c->arg[1];
	unsigned char bytes[128];
	/* At most 128 bytes per call; callers loop for more (OBJECTS.md §2.5). */
	size_t n = wanted < sizeof(bytes) ? (size_t)wanted : sizeof(bytes);
	if (n && getrandom(bytes, n, 0) != (ssize_t)n)
		return hh_call_refuse(c, kHelErrNoMemory, "getrandom failed");
	if (hh_user_write(&c->proc->mem, addr, bytes, n))
		return hh_call_refuse(c, kHelErrFault, "buffer unwritable");
	c->out[0] = n;
	return kHelErrNone;
}

/* Sizes of the register images (ABI.md §3.5): those threads have, and the vCPU's. */
static int register_set_size(int set)
{
	if (set == kHelRegsVirtualization)
		return 424;
	size_t size = hh_native_set_size(set);
	return size ? (int)size : -1;
}

HelError hh_call_QueryRegisterInfo(struct hh_call *c)
{
	int set = (int)c->arg[0];
	int size = register_set_size(set);
	if (size < 0)
		return hh_call_refuse(c, kHelErrIllegalArgs, "register set %d has no size", set);
	struct HelRegisterInfo info = { .setSize = size };
	if (hh_user_write(&c->proc->mem, c->arg[1], &info, sizeof(info)))
		return hh_call_refuse(c, kHelErrFault, "info unwritable");
	return kHelErrNone;
}
