/*
 * Threads of their own (OBJECTS.md §5): helCreateThread in spaces from
 * helCreateSpace, observations and their sequence, register access,
 * supercalls, faults, Hel calls in Managarm's register convention, killing
 * and the lifetime of the stub process behind each thread.  Guest code is a
 * few hand-assembled x86-64 instructions placed in a memory object.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <hel.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callpage.h"
#include "hq.h"
#include "slot.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL     /* Linux 6.9; not in these headers yet */
#endif

enum { PAGE = 4096 };
#define CODE 0x400000ull
#define DATA 0x500000ull
/* The stub's own ranges in every space (src/native/stubpage.h). */
#define STUB_CODE 0x7ff000000000ull
#define STUB_PAGE 0x7ff100000000ull

static struct hq q;

/*
 * Set by the "own" case's fixture: guests run in the test program's own
 * space (helCreateThread with space kHelNullHandle), their code and data
 * mapped at the same addresses there, which a PIE test program leaves free.
 */
static bool own_space;

static void setup(void)
{
	ck_assert_int_eq(hq_open(&q, 4, 4, 512), kHelErrNone);
}

static void own_only(void)
{
	own_space = true;
}

static void setup_own(void)
{
	setup();
	own_only();
}

/* ---- a tiny assembler ---- */

struct code {
	unsigned char bytes[256];
	size_t len;
};

static void emit(struct code *c, const void *bytes, size_t n)
{
	ck_assert_uint_le(c->len + n, sizeof(c->bytes));
	memcpy(c->bytes + c->len, bytes, n);
	c->len += n;
}

/* mov $imm32, %edi (zero-extends into rdi) */
static void mov_edi(struct code *c, uint32_t imm)
{
	unsigned char b[5] = { 0xbf };
	memcpy(b + 1, &imm, 4);
	emit(c, b, 5);
}

/* mov $imm64, reg for rsi (0xbe), rdx (0xba), rax (0xb8) */
static void mov64(struct code *c, unsigned char opcode, uint64_t imm)
{
	unsigned char b[10] = { 0x48, opcode };
	memcpy(b + 2, &imm, 8);
	emit(c, b, 10);
}
#define RSI 0xbe
#define RDX 0xba
#define RAX 0xb8

static void syscall_insn(struct code *c) { emit(c, "\x0f\x05", 2); }
static void int3(struct code *c) { emit(c, "\xcc", 1); }
static void spin(struct code *c) { emit(c, "\xeb\xfe", 2); }
/* mov %rdi, %r15 and mov %rsi, %r14: keep a call's results for the supervisor */
static void keep_results(struct code *c) { emit(c, "\x49\x89\xff\x49\x89\xf6", 6); }
/* Supercall n: mov $0x80000000+n, %edi; syscall */
static void supercall(struct code *c, uint32_t n)
{
	mov_edi(c, 0x80000000u + n);
	syscall_insn(c);
}

/* Spin until the supervisor writes a word other than 0 at DATA: cmpl $0, DATA; je back */
static void until_word(struct code *c)
{
	uint32_t word = (uint32_t)DATA;
	emit(c, "\x83\x3c\x25", 3);
	emit(c, &word, 4);
	emit(c, "\x00\x74\xf6", 3);
}

/* Make the call set up so far, then show its results to the supervisor (supercall 0). */
static void report_call(struct code *c)
{
	syscall_insn(c);
	keep_results(c);
	supercall(c, 0);
}

/* helAllocateMemory(size=PAGE, flags=0, restrictions=NULL), reported: the handle in rsi and r14 */
static void allocate_page(struct code *c)
{
	mov_edi(c, kHelCallAllocateMemory);
	mov64(c, RSI, PAGE);
	mov64(c, RDX, 0);
	mov64(c, RAX, 0);
	report_call(c);
}

/* ---- the supervisor's side ---- */

struct guest {
	HelHandle space, code, data, thread;
	uint64_t seq;
};

/* A space with c at CODE (r-x) and a data page at DATA (rw-). */
static void guest_space(struct guest *g, const struct code *c)
{
	void *mine, *at;
	g->space = kHelNullHandle;
	if (!own_space)
		ck_assert_int_eq(helCreateSpace(&g->space), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &g->code), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &g->data), kHelErrNone);
	ck_assert_int_eq(helMapMemory(g->code, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, &mine), kHelErrNone);
	memcpy(mine, c->bytes, c->len);
	ck_assert_int_eq(helMapMemory(g->code, g->space, (void *)CODE, 0, PAGE,
			kHelMapProtRead | kHelMapProtExecute | kHelMapFixed, &at), kHelErrNone);
	ck_assert_int_eq(helMapMemory(g->data, g->space, (void *)DATA, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite | kHelMapFixed, &at), kHelErrNone);
}

static HelError guest_create(struct guest *g)
{
	g->thread = kHelNullHandle;
	g->seq = 1;
	return helCreateThread(kHelNullHandle, g->space, 0, (void *)CODE, (void *)(DATA + PAGE),
			kHelThreadStopped, &g->thread);
}

/* guest_space, and the thread made stopped. */
static void guest_load(struct guest *g, const struct code *c)
{
	guest_space(g, c);
	ck_assert_int_eq(guest_create(g), kHelErrNone);
}

/* A page of memory holding word, mapped into g's space at addr. */
static void map_word(struct guest *g, uint64_t addr, uint64_t word)
{
	HelHandle page;
	void *mine, *at;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &page), kHelErrNone);
	ck_assert_int_eq(helMapMemory(page, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, &mine), kHelErrNone);
	*(volatile uint64_t *)mine = word;
	ck_assert_int_eq(helMapMemory(page, g->space, (void *)addr, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &at), kHelErrNone);
}

/* Observe with seq and wait for the result (generous deadline). */
/* helSubmitRead/WriteMemory through any handle, waited for. */
static HelError copy(HelHandle h, uint64_t address, void *buf, size_t len, int write)
{
	HelError e = write ? helSubmitWriteMemory(h, address, len, buf, q.handle, 0xc0)
			: helSubmitReadMemory(h, address, len, buf, q.handle, 0xc0);
	if (e)
		return e;
	struct HelElement *el = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, 0xc0);
	return ((struct HelSimpleResult *)hq_payload(el))->error;
}

static struct HelObserveResult observe(HelHandle thread, uint64_t seq)
{
	ck_assert_int_eq(helSubmitObserve(thread, seq, q.handle, 0x0b5), kHelErrNone);
	struct HelElement *el = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, 0x0b5);
	return *(struct HelObserveResult *)hq_payload(el);
}

/* The next element is an observation with context that says the thread ended. */
static void expect_terminated(uintptr_t context)
{
	struct HelElement *el = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, context);
	ck_assert_int_eq(((struct HelObserveResult *)hq_payload(el))->error, kHelErrThreadTerminated);
}

/* Resume g and wait for its next stop, which must be `observation`. */
static void run_until(struct guest *g, unsigned observation)
{
	ck_assert_int_eq(helResume(g->thread), kHelErrNone);
	struct HelObserveResult r = observe(g->thread, g->seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, observation);
	ck_assert_uint_eq(r.sequence, g->seq + 1);
	g->seq = r.sequence;
}

/* A thread stopped at its first instruction, supercall n (then it would spin). */
static void stopped_at_supercall(struct guest *g, uint32_t n)
{
	struct code c = { .len = 0 };
	supercall(&c, n);
	spin(&c);
	guest_load(g, &c);
	run_until(g, kHelObserveSuperCall + n);
}

static uintptr_t reg(HelHandle thread, int index)
{
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(thread, kHelRegsGeneral, gprs), kHelErrNone);
	return gprs[index];
}

/* Run code that reports two calls (report_call) and then spins: check both errors. */
static void expect_two_results(struct code *c, HelError first, HelError second)
{
	spin(c);
	struct guest g;
	guest_load(&g, c);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), first);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), second);
}

static uintptr_t ip(HelHandle thread)
{
	uintptr_t pc[2];
	ck_assert_int_eq(helLoadRegisters(thread, kHelRegsProgram, pc), kHelErrNone);
	return pc[kHelRegIp];
}

/* ---- tests ---- */

START_TEST(test_threads_supercall_stops_with_registers)
{
	/* should succeed: a supercall stops the thread after the syscall with its arguments */
	struct code c = { .len = 0 };
	mov64(&c, RSI, 0x1122334455667788ull);
	mov64(&c, RAX, 0xabcdull);
	supercall(&c, 7);
	size_t after = c.len;
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 7);
	ck_assert_uint_eq(reg(g.thread, kHelRegNumber), 0x80000007u);
	ck_assert_uint_eq(reg(g.thread, kHelRegArg0), 0x1122334455667788ull);
	ck_assert_uint_eq(reg(g.thread, kHelRegArg2), 0xabcd);
	ck_assert_uint_eq(ip(g.thread), CODE + after);
}
END_TEST

START_TEST(test_threads_supervisor_results_reach_the_guest)
{
	/* should succeed: values stored at a supercall are what the guest sees after it */
	struct code c = { .len = 0 };
	supercall(&c, 1);
	keep_results(&c);
	supercall(&c, 2);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 1);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	gprs[kHelRegError] = 0x5151;
	gprs[kHelRegOut0] = 0xfeedface;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), 0x5151);
	ck_assert_uint_eq(reg(g.thread, kHelRegR14), 0xfeedface);
}
END_TEST

START_TEST(test_threads_hel_calls_in_managarm_convention)
{
	/* should succeed: helNop gives kHelErrNone in rdi; an unknown number kHelErrIllegalSyscall */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallNop);
	report_call(&c);
	mov_edi(&c, 5000);
	report_call(&c);
	allocate_page(&c);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrIllegalSyscall);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	ck_assert_uint_gt(reg(g.thread, kHelRegR14), 0);
}
END_TEST

START_TEST(test_threads_call_with_two_results)
{
	/*
	 * should succeed: helCreateStream from a guest gives its error in rdi
	 * and both lanes in rsi and rdx (ABI.md §5), handles of the creator's
	 * universe, two different ones that each close once
	 */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallCreateStream);
	mov64(&c, RSI, 0);
	report_call(&c);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_uint_eq(gprs[kHelRegR15], kHelErrNone);
	HelHandle lane1 = (HelHandle)gprs[kHelRegR14], lane2 = (HelHandle)gprs[kHelRegRdx];
	ck_assert_int_gt(lane1, 0);
	ck_assert_int_gt(lane2, 0);
	ck_assert_int_ne(lane1, lane2);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, lane1), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, lane2), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, lane2), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_threads_guest_passes_garbage)
{
	/* should fail: a guest's bad pointer is kHelErrFault, a handle it does not have kHelErrNoDescriptor */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallLog);
	mov64(&c, RSI, 6);
	mov64(&c, RDX, 0x900000);          /* unmapped in both spaces (ASan shadow lies above it) */
	mov64(&c, RAX, 4096);
	report_call(&c);
	mov_edi(&c, kHelCallCloseDescriptor);
	mov64(&c, RSI, (uint64_t)kHelThisUniverse);
	mov64(&c, RDX, 9999);
	report_call(&c);
	expect_two_results(&c, kHelErrFault, kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_threads_guest_closes_its_last_handle)
{
	/* should succeed: a thread that closes the last handle to itself dies mid-call */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallCloseDescriptor);
	mov64(&c, RSI, (uint64_t)kHelThisUniverse);
	size_t handle_at = c.len + 2;
	mov64(&c, RDX, 0);              /* patched below: the thread's own handle */
	syscall_insn(&c);
	supercall(&c, 6);               /* never reached */
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	/* The handle is known only now: patch it into the code. */
	uint64_t h = (uint64_t)g.thread;
	void *mine;
	ck_assert_int_eq(helMapMemory(g.code, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, &mine), kHelErrNone);
	memcpy((char *)mine + handle_at, &h, sizeof(h));
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, q.handle, 0x66), kHelErrNone);
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	expect_terminated(0x66);
}
END_TEST

START_TEST(test_threads_guest_creates_a_thread)
{
	/* should succeed: a guest makes a thread in its own space; it runs its code there */
	struct code c = { .len = 0 };
	/* helCreateThread(universe 0, space 0, abi 0, ip, sp, flags 0) */
	mov_edi(&c, kHelCallCreateThread);
	mov64(&c, RSI, 0);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, 0);
	size_t ip_at = c.len + 2;
	emit(&c, "\x49\xb8", 2);                      /* mov $imm64, %r8: patched below */
	emit(&c, "\0\0\0\0\0\0\0\0", 8);
	emit(&c, "\x4d\x31\xc9\x4d\x31\xd2", 6);   /* xor %r9, %r9; xor %r10, %r10 */
	syscall_insn(&c);
	keep_results(&c);
	supercall(&c, 1);
	spin(&c);
	size_t second = c.len;
	supercall(&c, 2);               /* what the new thread runs */
	spin(&c);
	uint64_t entry = CODE + second;
	memcpy(c.bytes + ip_at, &entry, sizeof(entry));
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 1);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	HelHandle made = (HelHandle)reg(g.thread, kHelRegR14);
	/* The guest's universe is ours (kHelNullHandle at creation): the handle is ours too. */
	struct HelObserveResult r = observe(made, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(ip(made), CODE + second + 7);
	ck_assert_int_eq(helKillThread(made), kHelErrNone);
}
END_TEST

START_TEST(test_threads_faults_are_observed)
{
	/* should succeed: int3, #UD, #DE, #GP and a page fault stop the thread at the right rip */
	struct code c = { .len = 0 };
	int3(&c);
	size_t after_int3 = c.len;
	size_t ud = c.len;
	emit(&c, "\x0f\x0b", 2);                        /* ud2 */
	size_t de = c.len;
	emit(&c, "\x31\xc9\xf7\xf1", 4);                /* xor %ecx,%ecx; div %ecx */
	de += 2;
	size_t gp = c.len;
	emit(&c, "\xfa", 1);                            /* cli: privileged */
	size_t pf = c.len;
	emit(&c, "\x48\x8b\x04\x25\x00\x00\x90\x00", 8); /* mov 0x900000, %rax: unmapped */
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveBreakpoint);
	ck_assert_uint_eq(ip(g.thread), CODE + after_int3);
	run_until(&g, kHelObserveIllegalInstruction);
	ck_assert_uint_eq(ip(g.thread), CODE + ud);
	/* The supervisor skips the faulting instruction by storing a new rip. */
	uintptr_t pc[2] = { CODE + ud + 2, DATA + PAGE };
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	run_until(&g, kHelObserveDivByZero);
	ck_assert_uint_eq(ip(g.thread), CODE + de);
	pc[0] = CODE + gp;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	run_until(&g, kHelObserveGeneralFault);
	ck_assert_uint_eq(ip(g.thread), CODE + gp);
	pc[0] = CODE + pf;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	run_until(&g, kHelObservePageFault);
	ck_assert_uint_eq(ip(g.thread), CODE + pf);
}
END_TEST

START_TEST(test_threads_memory_through_the_thread_handle)
{
	/* should succeed: a thread's handle reaches its space's memory; the guest sees the bytes */
	struct code c = { .len = 0 };
	emit(&c, "\x4c\x8b\x3c\x25\x00\x00\x50\x00", 8);   /* mov 0x500000, %r15 */
	supercall(&c, 4);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	uint64_t word = 0x0123456789abcdefull, back = 0;
	ck_assert_int_eq(copy(g.thread, DATA, &word, sizeof(word), 1), kHelErrNone);
	ck_assert_int_eq(copy(g.data, 0, &back, sizeof(back), 0), kHelErrNone);
	ck_assert_uint_eq(back, word);
	run_until(&g, kHelObserveSuperCall + 4);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), word);
	/* should fail: unmapped addresses of the thread's space */
	ck_assert_int_eq(copy(g.thread, 0x900000, &back, sizeof(back), 0), kHelErrFault);
}
END_TEST

START_TEST(test_threads_mapping_while_it_runs)
{
	/* should succeed: memory mapped into the space of a running thread reaches it */
	struct code c = { .len = 0 };
	emit(&c, "\x48\x83\x3c\x25\x00\x00\x50\x00\x00", 9);       /* cmpq $0, 0x500000 */
	emit(&c, "\x74\xf5", 2);                                         /* je back to the cmp */
	emit(&c, "\x4c\x8b\x3c\x25\x00\x00\x60\x00", 8);           /* mov 0x600000, %r15 */
	supercall(&c, 5);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	/* The guest spins on DATA; the new page appears under it, then the flag is set. */
	HelHandle more;
	void *at;
	uint64_t word = 0x5eed, flag = 1;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &more), kHelErrNone);
	ck_assert_int_eq(helMapMemory(more, g.space, (void *)0x600000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &at), kHelErrNone);
	ck_assert_int_eq(copy(g.space, 0x600000, &word, sizeof(word), 1), kHelErrNone);
	ck_assert_int_eq(copy(g.space, DATA, &flag, sizeof(flag), 1), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 5);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), 0x5eed);
}
END_TEST

START_TEST(test_threads_initial_registers)
{
	/* should succeed: a new thread has ip, sp, IF and nothing else (OBJECTS.md §5.1) */
	struct code c = { .len = 0 };
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	uintptr_t gprs[kHelNumGprs], pc[2], tls[2], sig[19];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	for (int i = 0; i < kHelNumGprs; i++)
		ck_assert_uint_eq(gprs[i], 0);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	ck_assert_uint_eq(pc[0], CODE);
	ck_assert_uint_eq(pc[1], DATA + PAGE);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsThread, tls), kHelErrNone);
	ck_assert_uint_eq(tls[0], 0);
	ck_assert_uint_eq(tls[1], 0);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSignal, sig), kHelErrNone);
	ck_assert_uint_eq(sig[17] & ~0x2ull, 0x200);    /* rflags: IF (bit 1 always reads 1) */
	unsigned char simd[512];
	struct HelRegisterInfo info;
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsSimd, &info), kHelErrNone);
	ck_assert_int_eq(info.setSize, sizeof(simd));
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSimd, simd), kHelErrNone);
	uint16_t fcw;
	uint32_t mxcsr;
	memcpy(&fcw, simd, 2);
	memcpy(&mxcsr, simd + 24, 4);
	ck_assert_uint_eq(fcw, 0x33f);
	ck_assert_uint_eq(mxcsr, 0x1f80);
}
END_TEST

START_TEST(test_threads_sequence_rules)
{
	/* should succeed: an old sequence of a stopped thread answers at once; a future one is refused */
	struct guest g;
	stopped_at_supercall(&g, 3);
	struct HelObserveResult r = observe(g.thread, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 3);
	ck_assert_uint_eq(r.sequence, 2);
	r = observe(g.thread, 5);
	ck_assert_int_eq(r.error, kHelErrIllegalArgs);
	/* should fail: resuming a running thread */
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	ck_assert_int_eq(helResume(g.thread), kHelErrIllegalState);
	/* should fail: registers of a running thread */
	uintptr_t pc[2];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrIllegalState);
}
END_TEST

START_TEST(test_threads_several_observers_and_kill)
{
	/* should succeed: every waiting observer learns of the end; later calls see it too */
	struct code c = { .len = 0 };
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, q.handle, 1), kHelErrNone);
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, q.handle, 2), kHelErrNone);
	ck_assert_int_eq(helKillThread(g.thread), kHelErrNone);
	/* An interrupt of a thread that has ended is no observation (§5.7: it is only a request). */
	ck_assert_int_eq(helInterruptThread(g.thread), kHelErrNone);
	expect_terminated(1);
	expect_terminated(2);
	ck_assert_int_eq(observe(g.thread, 1).error, kHelErrThreadTerminated);
	ck_assert_int_eq(helResume(g.thread), kHelErrThreadTerminated);
	uintptr_t pc[2];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrThreadTerminated);
	/* killing again does nothing */
	ck_assert_int_eq(helKillThread(g.thread), kHelErrNone);
}
END_TEST

START_TEST(test_threads_bad_handles_and_arguments)
{
	struct code c = { .len = 0 };
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	HelHandle t;
	/* should fail: unknown flags come first */
	ck_assert_int_eq(helCreateThread(kHelNullHandle, g.space, 0, (void *)CODE, NULL, 2, &t),
			kHelErrIllegalArgs);
	/* should fail: a wrong-type space or universe, a closed handle */
	ck_assert_int_eq(helCreateThread(kHelNullHandle, g.code, 0, (void *)CODE, NULL, 0, &t),
			kHelErrBadDescriptor);
	ck_assert_int_eq(helCreateThread(g.code, g.space, 0, (void *)CODE, NULL, 0, &t),
			kHelErrBadDescriptor);
	ck_assert_int_eq(helCreateThread(kHelNullHandle, 9999, 0, (void *)CODE, NULL, 0, &t),
			kHelErrNoDescriptor);
	/* should fail: kHelThisThread and other types where a created thread is needed */
	ck_assert_int_eq(helResume(kHelThisThread), kHelErrNoDescriptor);
	ck_assert_int_eq(helKillThread(kHelThisThread), kHelErrNoDescriptor);
	ck_assert_int_eq(helResume(g.code), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitObserve(g.code, 1, q.handle, 0), kHelErrBadDescriptor);
	/* should fail: an observation into a queue that does not exist, or is no queue */
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, 9999, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, g.code, 0), kHelErrBadDescriptor);
	uintptr_t pc[2] = { CODE, 0 };
	ck_assert_int_eq(helStoreRegisters(kHelThisThread, kHelRegsProgram, pc), kHelErrIllegalArgs);
	/* should fail: register sets threads do not have; images that cannot be moved */
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsVirtualization, pc), kHelErrIllegalArgs);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsDebug, pc), kHelErrIllegalArgs);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, (void *)16), kHelErrFault);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, (void *)16), kHelErrFault);
	/* a closed thread handle */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, g.thread), kHelErrNone);
	ck_assert_int_eq(helResume(g.thread), kHelErrNoDescriptor);
}
END_TEST

/* A line "key\tvalue" of /proc/pid/<file>, as a number, or -1. */
static long proc_field(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	long value = -1;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			value = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return value;
}

/* True if the emulator emu holds a pidfd of program pid (so it serves it). */
static int serves(pid_t emu, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)emu);
	DIR *d = opendir(path);
	int found = 0;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		char file[300];
		snprintf(file, sizeof(file), "fdinfo/%s", e->d_name);
		found = proc_field(emu, file, "Pid") == pid;
	}
	if (d)
		closedir(d);
	return found;
}

/* True if /proc/cand is a helhost-stub process. */
static int is_stub(pid_t cand)
{
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)cand);
	FILE *f = cand > 0 ? fopen(path, "re") : NULL;
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strcmp(comm, "helhost-stub\n");
}

/* The stub process of the one created thread whose emulator serves program pid. */
static pid_t stub_serving(pid_t pid)
{
	DIR *d = opendir("/proc");
	pid_t stub = 0;
	for (struct dirent *e; d && !stub && (e = readdir(d));) {
		pid_t cand = (pid_t)atoi(e->d_name);
		if (!is_stub(cand))
			continue;
		long tracer = proc_field(cand, "status", "TracerPid");
		if (tracer > 0 && serves((pid_t)tracer, pid))
			stub = cand;
	}
	if (d)
		closedir(d);
	return stub;
}

/* A child of this test and a pipe for it to report on: its pid, 0 in the child. */
static pid_t fork_with_pipe(int pipefd[2])
{
	ck_assert_int_eq(pipe(pipefd), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	return child;
}

/* Wait up to 20 s for pid (an own-space thread's task) to exit (it is not our child: poll a pidfd). */
static int exits(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, own_space ? PIDFD_THREAD : 0);
	if (fd < 0)
		return 1;       /* already gone and reaped */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, 20000);
	close(fd);
	return r == 1;
}

/*
 * The task behind the test program's newest own-space thread: the one its
 * emulator traces that this function has not named before.
 */
static pid_t own_task(void)
{
	static pid_t named[16];
	static size_t count;
	DIR *d = opendir("/proc/self/task");
	pid_t task = 0;
	for (struct dirent *e; d && !task && (e = readdir(d));) {
		char file[300];
		snprintf(file, sizeof(file), "task/%s/status", e->d_name);
		if (e->d_name[0] == '.' || proc_field(getpid(), file, "TracerPid") <= 0)
			continue;
		task = (pid_t)atoi(e->d_name);
		for (size_t i = 0; i < count; i++)
			if (named[i] == task)
				task = 0;
	}
	if (d)
		closedir(d);
	if (task && count < 16)
		named[count++] = task;
	return task;
}

/* g made of c and resumed; returns the pid of its stub (the tid of an own-space thread). */
static pid_t started(struct guest *g, const struct code *c)
{
	guest_load(g, c);
	ck_assert_int_eq(helResume(g->thread), kHelErrNone);
	pid_t stub = own_space ? own_task() : stub_serving(getpid());
	ck_assert_int_gt(stub, 0);
	return stub;
}

/* A running thread that spins forever; returns its stub's pid. */
static pid_t spinning(struct guest *g)
{
	struct code c = { .len = 0 };
	spin(&c);
	return started(g, &c);
}

START_TEST(test_threads_stub_dies_with_its_supervisor)
{
	/* should succeed: the stub of a running thread ends when the program that made it dies */
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0) {
		/* Shares the test's emulator (the fixture made a call): only the supervisor dies. */
		struct guest g;
		pid_t stub = spinning(&g);
		if (write(pipefd[1], &stub, sizeof(stub)) != sizeof(stub))
			_exit(2);
		pause();        /* killed by the parent mid-way */
		_exit(3);
	}
	pid_t stub = 0;
	ck_assert_int_eq(read(pipefd[0], &stub, sizeof(stub)), sizeof(stub));
	ck_assert_int_gt(stub, 0);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_msg(exits(stub), "stub %d still runs 20 s after its supervisor died", (int)stub);
}
END_TEST

START_TEST(test_threads_stub_dies_with_the_emulator)
{
	/*
	 * should succeed: nothing outlives the emulator.  Its watchdog ends its
	 * programs too, so this process stays no program of it: a child makes
	 * the thread (auto-starting its own emulator) and reports the pids.
	 */
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0) {
		struct guest g;
		pid_t pids[2] = { spinning(&g), 0 };
		pids[1] = (pid_t)proc_field(pids[0], "status", "TracerPid");
		if (write(pipefd[1], pids, sizeof(pids)) != sizeof(pids))
			_exit(2);
		pause();        /* ended by the watchdog once the emulator is gone */
		_exit(3);
	}
	pid_t pids[2] = { 0, 0 };
	ck_assert_int_eq(read(pipefd[0], pids, sizeof(pids)), sizeof(pids));
	ck_assert_int_gt(pids[0], 0);
	ck_assert_int_gt(pids[1], 0);
	ck_assert_int_eq(kill(pids[1], SIGKILL), 0);
	ck_assert_msg(exits(pids[0]), "stub %d still runs 20 s after the emulator died", (int)pids[0]);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
}
END_TEST

START_TEST(test_threads_register_sets_stored_and_loaded)
{
	/*
	 * should succeed: Thread, Simd and Signal images stored on a stopped
	 * thread are what it holds after (Signal: rflags through 0x218DFF, cs
	 * kept); the Debug set cannot be stored hosted, unknown sets are refused
	 */
	struct guest g;
	stopped_at_supercall(&g, 3);
	uintptr_t tls[2] = { 0x7f0000001000ull, 0x7f0000002000ull }, tls_back[2];
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsThread, tls), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsThread, tls_back), kHelErrNone);
	ck_assert_uint_eq(tls_back[0], tls[0]);
	ck_assert_uint_eq(tls_back[1], tls[1]);

	unsigned char simd[512];
	uint32_t mxcsr = 0x7f80;        /* round toward zero, all exceptions masked */
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSimd, simd), kHelErrNone);
	memcpy(simd + 24, &mxcsr, 4);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsSimd, simd), kHelErrNone);
	memset(simd, 0, sizeof(simd));
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSimd, simd), kHelErrNone);
	uint32_t mxcsr_back;
	memcpy(&mxcsr_back, simd + 24, 4);
	ck_assert_uint_eq(mxcsr_back, mxcsr);

	uintptr_t sig[19], sig_back[19];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSignal, sig), kHelErrNone);
	uintptr_t flags = sig[17], cs = sig[18];
	sig[0] = 0x1111;                /* r8 */
	sig[17] = ~(uintptr_t)0;
	sig[18] = 0;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsSignal, sig), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSignal, sig_back), kHelErrNone);
	ck_assert_uint_eq(sig_back[0], 0x1111);
	ck_assert_uint_eq(sig_back[16], sig[16]);
	ck_assert_uint_eq(sig_back[17], (flags & ~0x218DFFull) | 0x218DFFull);
	ck_assert_uint_eq(sig_back[18], cs);

	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsDebug, tls), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helStoreRegisters(g.thread, 99, tls), kHelErrIllegalArgs);
	ck_assert_int_eq(helLoadRegisters(g.thread, 99, tls), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_threads_affinity_and_stats_of_created_threads)
{
	/*
	 * should succeed: a created thread's affinity and CPU time are its
	 * stub's; unwritable masks and sizes are faults; once the thread has
	 * ended its affinity is kHelErrThreadTerminated and stats still answer
	 */
	struct guest g;
	spinning(&g);
	unsigned char mask[128];
	size_t size = 0, want = ((size_t)sysconf(_SC_NPROCESSORS_CONF) + 7) / 8;
	ck_assert_int_eq(helGetAffinity(g.thread, (void *)16, sizeof(mask), &size), kHelErrFault);
	ck_assert_int_eq(helGetAffinity(g.thread, mask, sizeof(mask), (void *)16), kHelErrFault);
	ck_assert_int_eq(helGetAffinity(g.thread, mask, sizeof(mask), &size), kHelErrNone);
	ck_assert_uint_eq(size, want);
	ck_assert_int_eq(helSetAffinity(g.thread, mask, size), kHelErrNone);
	/* Any priority is accepted (§5.12), beyond the range of nice values too. */
	ck_assert_int_eq(helSetPriority(g.thread, 1), kHelErrNone);
	ck_assert_int_eq(helSetPriority(g.thread, 100), kHelErrNone);
	ck_assert_int_eq(helSetPriority(g.thread, -100), kHelErrNone);
	/* It spins: its CPU time grows past zero. */
	struct HelThreadStats stats = { 0 };
	int64_t deadline = hq_deadline_ms(20000);
	do
		ck_assert_int_eq(helQueryThreadStats(g.thread, &stats), kHelErrNone);
	while (!stats.userTime && hq_deadline_ms(0) < deadline);
	ck_assert_uint_gt(stats.userTime, 0);

	ck_assert_int_eq(helKillThread(g.thread), kHelErrNone);
	/* The stub is reaped soon after the kill; from then on it has no affinity. */
	HelError e;
	deadline = hq_deadline_ms(20000);
	while ((e = helGetAffinity(g.thread, mask, sizeof(mask), NULL)) == kHelErrNone &&
			hq_deadline_ms(0) < deadline)
		usleep(1000);
	ck_assert_int_eq(e, kHelErrThreadTerminated);
	ck_assert_int_eq(helQueryThreadStats(g.thread, &stats), kHelErrNone);
	ck_assert_int_eq(helSetPriority(g.thread, 1), kHelErrNone);
	ck_assert_int_eq(helSetAffinity(g.thread, mask, size), kHelErrThreadTerminated);
}
END_TEST

START_TEST(test_threads_affinity_of_cpus_that_do_not_exist)
{
	/*
	 * should fail: a mask that names only CPUs the machine does not have
	 * (the bits of the last byte past the last CPU) is refused with
	 * kHelErrIllegalArgs, and the thread's affinity stays what it was
	 */
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	if (cpus % 8 == 0)
		return;         /* no such bit: every bit of the mask names a CPU */
	struct guest g;
	spinning(&g);
	unsigned char mask[128] = { 0 }, before[128], after[128];
	size_t size = ((size_t)cpus + 7) / 8;
	ck_assert_int_eq(helGetAffinity(g.thread, before, sizeof(before), NULL), kHelErrNone);
	mask[size - 1] = (unsigned char)(0x80u);
	ck_assert_int_eq(helSetAffinity(g.thread, mask, size), kHelErrIllegalArgs);
	ck_assert_int_eq(helGetAffinity(g.thread, after, sizeof(after), NULL), kHelErrNone);
	ck_assert_mem_eq(after, before, size);
}
END_TEST

START_TEST(test_threads_old_sequence_while_it_runs)
{
	/*
	 * should succeed: an old sequence observed while the thread runs again
	 * waits for its next stop ([emu]): it completes with the supercall that
	 * comes after the supervisor writes the word the guest waits for, never
	 * with the stop it had already seen
	 */
	struct code c = { .len = 0 };
	supercall(&c, 1);
	until_word(&c);
	supercall(&c, 2);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 1);
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, q.handle, 0x01d), kHelErrNone);
	uint32_t one = 1;
	ck_assert_int_eq(copy(g.thread, DATA, &one, sizeof(one), 1), kHelErrNone);
	struct HelElement *el = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, 0x01d);
	struct HelObserveResult *r = hq_payload(el);
	ck_assert_int_eq(r->error, kHelErrNone);
	ck_assert_uint_eq(r->observation, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(r->sequence, 3);
}
END_TEST

START_TEST(test_threads_in_an_empty_space)
{
	/* should succeed: a thread in a space with nothing mapped faults at its first instruction */
	HelHandle space;
	struct guest g = { .seq = 1 };
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(helCreateThread(kHelNullHandle, space, 0, (void *)CODE, (void *)(DATA + PAGE),
			kHelThreadStopped, &g.thread), kHelErrNone);
	run_until(&g, kHelObservePageFault);
	ck_assert_uint_eq(ip(g.thread), CODE);
}
END_TEST

START_TEST(test_threads_space_of_many_mappings)
{
	/*
	 * should succeed: a space of more mappings than one batch of the stub
	 * carries (96) is all there when the thread starts: it reads the last
	 */
	enum { MAPS = 120 };
	const uint64_t base = DATA + 2 * PAGE, last = base + (MAPS - 1) * 2 * PAGE;
	struct code c = { .len = 0 };
	emit(&c, "\x48\xa1", 2);        /* movabs last, %rax */
	emit(&c, &last, 8);
	supercall(&c, 4);
	spin(&c);
	struct guest g;
	guest_space(&g, &c);
	HelHandle pages;
	uint64_t *mine;
	ck_assert_int_eq(helAllocateMemory(MAPS * PAGE, 0, NULL, &pages), kHelErrNone);
	ck_assert_int_eq(helMapMemory(pages, kHelNullHandle, NULL, 0, MAPS * PAGE,
			kHelMapProtRead | kHelMapProtWrite, (void **)&mine), kHelErrNone);
	for (int i = 0; i < MAPS; i++) {
		void *at;
		mine[i * PAGE / 8] = 0xabc000 + (uint64_t)i;
		/* A page apart, so that no two mappings touch. */
		ck_assert_int_eq(helMapMemory(pages, g.space, (void *)(base + (uint64_t)i * 2 * PAGE),
				(uintptr_t)i * PAGE, PAGE, kHelMapProtRead | kHelMapFixed, &at), kHelErrNone);
	}
	ck_assert_int_eq(guest_create(&g), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 4);
	ck_assert_uint_eq(reg(g.thread, kHelRegRax), 0xabc000 + MAPS - 1);
}
END_TEST

START_TEST(test_threads_mapping_above_the_stub)
{
	/* should succeed: memory mapped above the stub's ranges (below the top of user space) is the guest's */
	const uint64_t high = STUB_PAGE + 0x100000000ull;
	struct code c = { .len = 0 };
	emit(&c, "\x48\xa1", 2);        /* movabs high, %rax */
	emit(&c, &high, 8);
	supercall(&c, 4);
	spin(&c);
	struct guest g;
	guest_space(&g, &c);
	map_word(&g, high, 0x4149);
	ck_assert_int_eq(guest_create(&g), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 4);
	ck_assert_uint_eq(reg(g.thread, kHelRegRax), 0x4149);
}
END_TEST

START_TEST(test_threads_guest_sets_its_own_bases)
{
	/* should succeed: helWriteFsBase/GsBase work in a created thread and Read gives them back */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallWriteFsBase);
	mov64(&c, RSI, 0x10000);
	syscall_insn(&c);
	mov_edi(&c, kHelCallWriteGsBase);
	mov64(&c, RSI, 0x20000);
	syscall_insn(&c);
	mov_edi(&c, kHelCallReadFsBase);
	syscall_insn(&c);
	keep_results(&c);
	supercall(&c, 6);
	mov_edi(&c, kHelCallReadGsBase);
	syscall_insn(&c);
	keep_results(&c);
	supercall(&c, 7);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 6);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	ck_assert_uint_eq(reg(g.thread, kHelRegR14), 0x10000);
	uintptr_t tls[2];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsThread, tls), kHelErrNone);
	ck_assert_uint_eq(tls[0], 0x10000);
	ck_assert_uint_eq(tls[1], 0x20000);
	run_until(&g, kHelObserveSuperCall + 7);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	ck_assert_uint_eq(reg(g.thread, kHelRegR14), 0x20000);
}
END_TEST

START_TEST(test_threads_guest_panics)
{
	/* should succeed: helPanic in a created thread stops it with kHelObservePanic */
	static const char message[] = "guest gives up";
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallPanic);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, sizeof(message) - 1);
	syscall_insn(&c);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	ck_assert_int_eq(copy(g.thread, DATA, (void *)message, sizeof(message), 1), kHelErrNone);
	run_until(&g, kHelObservePanic);
}
END_TEST

START_TEST(test_threads_signals_from_outside_are_dropped)
{
	/*
	 * should succeed: SIGUSR1, SIGSTOP and SIGCONT sent to a running
	 * thread's stub neither end nor stop it: it still sees the word the
	 * supervisor writes afterwards and makes its supercall
	 */
	struct code c = { .len = 0 };
	until_word(&c);
	supercall(&c, 8);
	spin(&c);
	struct guest g;
	pid_t stub = started(&g, &c);
	ck_assert_int_eq(kill(stub, SIGUSR1), 0);
	ck_assert_int_eq(kill(stub, SIGSTOP), 0);
	ck_assert_int_eq(kill(stub, SIGCONT), 0);
	uint32_t one = 1;
	ck_assert_int_eq(copy(g.thread, DATA, &one, sizeof(one), 1), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, g.seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 8);
}
END_TEST

/* The helhost-stub processes that are children of emu (traced or not). */
static int stubs_of(pid_t emu)
{
	DIR *d = opendir("/proc");
	int count = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		pid_t cand = (pid_t)atoi(e->d_name);
		count += is_stub(cand) && proc_field(cand, "status", "PPid") == emu;
	}
	if (d)
		closedir(d);
	return count;
}

/*
 * The stubs of the emulator that serves this program, once that number is 1
 * (the stub of the one live thread) or after 20 s: ended stubs are reaped.
 */
static int stubs_left(void)
{
	pid_t stub = stub_serving(getpid());
	ck_assert_int_gt(stub, 0);
	pid_t emu = (pid_t)proc_field(stub, "status", "TracerPid");
	ck_assert_int_gt(emu, 0);
	int64_t deadline = hq_deadline_ms(20000);
	while (stubs_of(emu) != 1 && hq_deadline_ms(0) < deadline)
		usleep(1000);
	return stubs_of(emu);
}

/* True when faults.sh made one step of starting a stub fail in the emulator (its only words here). */
static int creation_fails(void)
{
	const char *faults = getenv("HELHOST_FAULTS");
	return faults && (strstr(faults, "ptrace:") || strstr(faults, "fail:"));
}

START_TEST(test_threads_creation_failure_leaves_nothing)
{
	/*
	 * should fail under faults.sh: when a step of starting the stub fails
	 * (its socket pair, posix_spawn or its setup, or one ptrace request),
	 * helCreateThread answers kHelErrNoMemory with no handle, the stub of
	 * that attempt ends, and the next helCreateThread gives a thread that
	 * runs.  Alone: both work.
	 */
	struct code c = { .len = 0 };
	supercall(&c, 5);
	spin(&c);
	struct guest failed, g;
	guest_space(&failed, &c);
	HelError e = guest_create(&failed);
	if (creation_fails()) {
		ck_assert_int_eq(e, kHelErrNoMemory);
		ck_assert_uint_eq(failed.thread, kHelNullHandle);
	} else {
		ck_assert_int_eq(e, kHelErrNone);
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, failed.thread), kHelErrNone);
	}
	guest_space(&g, &c);
	ck_assert_int_eq(guest_create(&g), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 5);
	ck_assert_int_eq(stubs_left(), 1);
}
END_TEST

/* The tasks of this program (zombies included: an unreaped one counts). */
static int tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	ck_assert_ptr_nonnull(d);
	int count = 0;
	for (struct dirent *e; (e = readdir(d));)
		count += e->d_name[0] != '.';
	closedir(d);
	return count;
}

/* The tasks of this program, once there are `want` or after 20 s. */
static int tasks_become(int want)
{
	int64_t deadline = hq_deadline_ms(20000);
	while (tasks() != want && hq_deadline_ms(0) < deadline)
		usleep(1000);
	return tasks();
}

START_TEST(test_threads_own_creation_failure_leaves_nothing)
{
	/*
	 * should fail under faults.sh: when the emulator cannot take the Linux
	 * thread libhel made (seize it, stop it, read or set its registers),
	 * helCreateThread answers kHelErrNoMemory with no handle, that thread
	 * is gone from the program, and the next own-space thread runs.
	 * Alone: both work.
	 */
	struct code c = { .len = 0 };
	supercall(&c, 5);
	spin(&c);
	struct guest g;
	guest_space(&g, &c);
	int before = tasks();
	HelError e = guest_create(&g);
	if (creation_fails()) {
		ck_assert_int_eq(e, kHelErrNoMemory);
		ck_assert_uint_eq(g.thread, kHelNullHandle);
	} else {
		ck_assert_int_eq(e, kHelErrNone);
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, g.thread), kHelErrNone);
	}
	ck_assert_int_eq(tasks_become(before), before);
	ck_assert_int_eq(guest_create(&g), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 5);
	ck_assert_int_eq(tasks_become(before + 1), before + 1);
}
END_TEST

/* Wait up to 20 s until pid sleeps in futex(2) (its /proc syscall line starts with 202). */
static int sleeps_in_futex(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	int64_t deadline = hq_deadline_ms(20000);
	do {
		FILE *f = fopen(path, "re");
		int found = f && fgets(line, sizeof(line), f) && !strncmp(line, "202 ", 4);
		if (f)
			fclose(f);
		if (found)
			return 1;
		usleep(1000);
	} while (hq_deadline_ms(0) < deadline);
	return 0;
}

START_TEST(test_threads_futex_wait_sleeps_until_woken)
{
	/* should succeed: a guest's helFutexWait sleeps until a wake on the same memory object */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, (uint64_t)kHelWaitInfinite);
	syscall_insn(&c);
	emit(&c, "\x4c\x8b\x3c\x25\x00\x00\x50\x00", 8);   /* mov 0x500000, %r15 */
	supercall(&c, 7);
	spin(&c);
	struct guest g;
	pid_t stub = started(&g, &c);
	ck_assert_msg(sleeps_in_futex(stub), "the guest never slept in its wait");
	/* Our own mapping of the same object: the same futex (OBJECTS.md §7). */
	uint32_t *word;
	ck_assert_int_eq(helMapMemory(g.data, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, (void **)&word), kHelErrNone);
	__atomic_store_n(word, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(helFutexWake((int *)word), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 7);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), 1);
}
END_TEST

START_TEST(test_threads_futex_wait_past_deadline)
{
	/* should succeed: a deadline already passed ends the wait; a bad pointer is kHelErrFault */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, 1);
	report_call(&c);
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, 0x900000);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, 1);
	report_call(&c);
	expect_two_results(&c, kHelErrNone, kHelErrFault);
}
END_TEST

START_TEST(test_threads_mapping_while_it_waits)
{
	/* should succeed: a guest asleep in helFutexWait when its space changes wakes (spuriously) and goes on */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, (uint64_t)kHelWaitInfinite);
	syscall_insn(&c);
	keep_results(&c);
	supercall(&c, 8);
	spin(&c);
	struct guest g;
	pid_t stub = started(&g, &c);
	ck_assert_msg(sleeps_in_futex(stub), "the guest never slept in its wait");
	HelHandle more;
	void *at;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &more), kHelErrNone);
	ck_assert_int_eq(helMapMemory(more, g.space, (void *)0x600000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &at), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 8);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
}
END_TEST

START_TEST(test_threads_interrupt_cuts_a_futex_wait_short)
{
	/* should succeed: an interrupt ends a sleeping helFutexWait with kHelErrNone, then stops the thread */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, (uint64_t)kHelWaitInfinite);
	syscall_insn(&c);
	size_t after = c.len;
	keep_results(&c);
	supercall(&c, 2);
	spin(&c);
	struct guest g;
	pid_t stub = started(&g, &c);
	ck_assert_msg(sleeps_in_futex(stub), "the guest never slept in its wait");
	ck_assert_int_eq(helInterruptThread(g.thread), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, 1);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveInterrupt);
	g.seq = r.sequence;
	ck_assert_uint_eq(ip(g.thread), CODE + after);
	ck_assert_uint_eq(reg(g.thread, kHelRegError), kHelErrNone);
	/* Resumed, it goes on after the wait. */
	run_until(&g, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
}
END_TEST

START_TEST(test_threads_interrupt_at_the_next_call)
{
	/* should succeed: a thread making calls stops after one; a stopped thread keeps the request */
	struct code c = { .len = 0 };
	supercall(&c, 1);
	size_t loop = c.len;
	mov_edi(&c, kHelCallNop);
	syscall_insn(&c);
	size_t after = c.len;
	emit(&c, "\xeb", 1);
	unsigned char back = (unsigned char)(loop - (c.len + 1));
	emit(&c, &back, 1);             /* jmp loop */
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 1);
	/* Stopped: the request waits until the thread runs and makes its next call. */
	ck_assert_int_eq(helInterruptThread(g.thread), kHelErrNone);
	run_until(&g, kHelObserveInterrupt);
	ck_assert_uint_eq(ip(g.thread), CODE + after);
	/* Running its loop of helNops: taken at the end of one of them. */
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	ck_assert_int_eq(helInterruptThread(g.thread), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, g.seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveInterrupt);
	ck_assert_uint_eq(ip(g.thread), CODE + after);
	/* should fail: kHelThisThread and other types */
	ck_assert_int_eq(helInterruptThread(kHelThisThread), kHelErrNoDescriptor);
	ck_assert_int_eq(helInterruptThread(g.code), kHelErrBadDescriptor);
}
END_TEST

START_TEST(test_threads_scheduling_calls_and_credentials)
{
	/* should succeed: stats, affinity, priority and credentials on a created thread's handle */
	struct guest g;
	stopped_at_supercall(&g, 1);
	struct HelThreadStats stats = { 0 };
	ck_assert_int_eq(helQueryThreadStats(g.thread, &stats), kHelErrNone);
	unsigned char mask[128] = { 0 };
	size_t actual = 0;
	ck_assert_int_eq(helGetAffinity(g.thread, mask, sizeof(mask), &actual), kHelErrNone);
	ck_assert_uint_gt(actual, 0);
	ck_assert_uint_ne(mask[0], 0);
	ck_assert_int_eq(helSetAffinity(g.thread, mask, actual), kHelErrNone);
	ck_assert_int_eq(helSetPriority(g.thread, 0), kHelErrNone);
	/* fresh credentials: not the creator's */
	char mine[16], theirs[16];
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, mine), kHelErrNone);
	ck_assert_int_eq(helGetCredentials(g.thread, 0, theirs), kHelErrNone);
	ck_assert_int_ne(memcmp(mine, theirs, sizeof(mine)), 0);
}
END_TEST

/*
 * Run c (a guest's scribbling) up to supercall 1, then map a page holding
 * 0x5eed at 0x600000 into its space; the guest goes on to load it into r15
 * and make supercall 2.  Returns the page's memory.
 */
static HelHandle scribbled_then_mapped(struct guest *g, struct code *c)
{
	supercall(c, 1);
	emit(c, "\x4c\x8b\x3c\x25\x00\x00\x60\x00", 8); /* mov 0x600000, %r15 */
	supercall(c, 2);
	spin(c);
	guest_load(g, c);
	run_until(g, kHelObserveSuperCall + 1);
	HelHandle more;
	void *at;
	uint64_t word = 0x5eed;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &more), kHelErrNone);
	ck_assert_int_eq(helMapMemory(more, g->space, (void *)0x600000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &at), kHelErrNone);
	ck_assert_int_eq(copy(g->space, 0x600000, &word, sizeof(word), 1), kHelErrNone);
	return more;
}

START_TEST(test_threads_guest_scribbles_over_its_stub)
{
	/* should succeed: garbage a guest writes over its stub's command page changes nothing */
	struct code c = { .len = 0 };
	mov64(&c, RAX, STUB_PAGE);
	mov64(&c, RDX, ~0ull);
	emit(&c, "\x48\x89\x10", 3);                  /* mov %rdx, (%rax): op count, ops done */
	emit(&c, "\x48\x89\x50\x08", 4);              /* mov %rdx, 8(%rax) */
	emit(&c, "\x48\x89\x50\x20", 4);              /* mov %rdx, 32(%rax): the first op */
	struct guest g;
	HelHandle more = scribbled_then_mapped(&g, &c);
	run_until(&g, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), 0x5eed);
	/* should fail: a space that maps over the stub's code ends its thread, and takes no new one */
	ck_assert_int_eq(helSubmitObserve(g.thread, g.seq, q.handle, 0x5c), kHelErrNone);
	void *at;
	ck_assert_int_eq(helMapMemory(more, g.space, (void *)STUB_CODE, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite | kHelMapFixed, &at), kHelErrNone);
	expect_terminated(0x5c);
	ck_assert_int_eq(helResume(g.thread), kHelErrThreadTerminated);
	ck_assert_int_eq(guest_create(&g), kHelErrNoMemory);
	/* The emulator lives on: a thread in a clean space runs. */
	struct guest other;
	stopped_at_supercall(&other, 3);
}
END_TEST

START_TEST(test_threads_guest_scribbles_over_its_stub_stack)
{
	/* should succeed: garbage over the stack the stub runs batches on never stops the emulator */
	struct code c = { .len = 0 };
	mov64(&c, 0xbf, STUB_PAGE + PAGE);      /* mov $imm64, %rdi */
	mov64(&c, RAX, 0x4141414141414141ull);
	mov64(&c, 0xb9, 2 * PAGE / 8);          /* mov $imm64, %rcx */
	emit(&c, "\xf3\x48\xab", 3);           /* rep stosq */
	struct guest g;
	scribbled_then_mapped(&g, &c);
	/* The stub either carried the mapping out or faulted on the garbage and ended. */
	ck_assert_int_eq(helSubmitObserve(g.thread, g.seq, q.handle, 0x5d), kHelErrNone);
	HelError resumed = helResume(g.thread);
	struct HelElement *el = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, 0x5d);
	struct HelObserveResult *r = hq_payload(el);
	if (resumed == kHelErrNone) {
		ck_assert_int_eq(r->error, kHelErrNone);
		ck_assert_uint_eq(r->observation, kHelObserveSuperCall + 2);
		ck_assert_uint_eq(reg(g.thread, kHelRegR15), 0x5eed);
	} else {
		ck_assert_int_eq(resumed, kHelErrThreadTerminated);
		ck_assert_int_eq(r->error, kHelErrThreadTerminated);
	}
	/* The emulator lives on: a thread in a clean space runs. */
	struct guest other;
	stopped_at_supercall(&other, 3);
}
END_TEST

START_TEST(test_threads_stub_refuses_a_mapping)
{
	/*
	 * should succeed: a stub whose address-space limit was lowered from
	 * outside (RLIMIT_AS, to what it uses now) cannot carry out a mapping
	 * made while its thread runs: the thread goes on without it, and its
	 * read at that address is its page fault there
	 */
	struct code c = { .len = 0 };
	until_word(&c);
	size_t read_at = c.len;
	emit(&c, "\x48\x8b\x04\x25\x00\x00\x60\x00", 8);   /* mov 0x600000, %rax */
	supercall(&c, 8);
	spin(&c);
	struct guest g;
	pid_t stub = started(&g, &c);
	long kib = proc_field(stub, "status", "VmSize");
	ck_assert_int_gt(kib, 0);
	struct rlimit now = { (rlim_t)kib * 1024, RLIM_INFINITY };
	ck_assert_int_eq(prlimit(stub, RLIMIT_AS, &now, NULL), 0);
	map_word(&g, 0x600000, 0x77);
	uint32_t one = 1;
	ck_assert_int_eq(copy(g.thread, DATA, &one, sizeof(one), 1), kHelErrNone);
	struct HelObserveResult r = observe(g.thread, g.seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObservePageFault);
	ck_assert_uint_eq(ip(g.thread), CODE + read_at);
}
END_TEST

START_TEST(test_threads_stub_killed_from_outside)
{
	/* should succeed: a stub killed by someone else is a terminated thread to its observers */
	struct guest g;
	pid_t stub = spinning(&g);
	ck_assert_int_eq(helSubmitObserve(g.thread, 1, q.handle, 0x99), kHelErrNone);
	ck_assert_int_eq(kill(stub, SIGKILL), 0);
	expect_terminated(0x99);
	ck_assert_int_eq(helResume(g.thread), kHelErrThreadTerminated);
	ck_assert_int_eq(helInterruptThread(g.thread), kHelErrNone);
	ck_assert_int_eq(observe(g.thread, 1).error, kHelErrThreadTerminated);
}
END_TEST

START_TEST(test_threads_last_handle_closed_kills)
{
	/* should succeed: closing the only handle ends the thread; a copy keeps it alive */
	struct code c = { .len = 0 };
	supercall(&c, 9);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(g.thread, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, g.thread), kHelErrNone);
	g.thread = copy;
	run_until(&g, kHelObserveSuperCall + 9);
	ck_assert_int_eq(helSubmitObserve(copy, g.seq, q.handle, 0x77), kHelErrNone);
	ck_assert_int_eq(helResume(copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	expect_terminated(0x77);
}
END_TEST

START_TEST(test_threads_bad_ip_and_sp)
{
	/* should succeed: garbage ip or sp is the guest's page fault, not the creator's */
	struct code c = { .len = 0 };
	emit(&c, "\x50", 1);            /* push %rax: needs the stack */
	spin(&c);
	struct guest g;
	guest_space(&g, &c);
	g.seq = 1;
	ck_assert_int_eq(helCreateThread(kHelNullHandle, g.space, 0, (void *)0x900000, (void *)(DATA + PAGE),
			kHelThreadStopped, &g.thread), kHelErrNone);
	run_until(&g, kHelObservePageFault);
	ck_assert_uint_eq(ip(g.thread), 0x900000);
	struct guest h = g;
	h.seq = 1;
	ck_assert_int_eq(helCreateThread(kHelNullHandle, g.space, 0, (void *)CODE, (void *)0x900000,
			kHelThreadStopped, &h.thread), kHelErrNone);
	run_until(&h, kHelObservePageFault);
	ck_assert_uint_eq(ip(h.thread), CODE);
}
END_TEST

/* Wait up to 20 s for task tid of this program to be gone. */
static int task_gone(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	int64_t deadline = hq_deadline_ms(20000);
	while (access(path, F_OK) == 0 && hq_deadline_ms(0) < deadline)
		usleep(1000);
	return access(path, F_OK) != 0;
}

static void *nop_from_a_pthread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)helNop();
}

START_TEST(test_threads_own_kill_spares_the_program)
{
	/*
	 * should succeed: own-space threads that are killed while they run, while
	 * they sleep in helFutexWait, or whose last handle is closed while they
	 * are stopped end alone: their tasks go, the program and its other
	 * threads (the main thread, a new pthread) go on making calls.
	 */
	struct guest running, sleeping, stopped;
	pid_t t1 = spinning(&running);
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, (uint64_t)kHelWaitInfinite);
	syscall_insn(&c);
	spin(&c);
	pid_t t2 = started(&sleeping, &c);
	ck_assert_msg(sleeps_in_futex(t2), "the guest never slept in its wait");
	stopped_at_supercall(&stopped, 3);
	pid_t t3 = own_task();
	ck_assert_int_gt(t1, 0);
	ck_assert_int_gt(t3, 0);
	ck_assert_int_eq(helSubmitObserve(running.thread, 1, q.handle, 0x71), kHelErrNone);
	ck_assert_int_eq(helKillThread(running.thread), kHelErrNone);
	expect_terminated(0x71);
	ck_assert_int_eq(helSubmitObserve(sleeping.thread, 1, q.handle, 0x72), kHelErrNone);
	ck_assert_int_eq(helKillThread(sleeping.thread), kHelErrNone);
	expect_terminated(0x72);
	ck_assert_int_eq(helSubmitObserve(stopped.thread, stopped.seq, q.handle, 0x73), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, stopped.thread), kHelErrNone);
	expect_terminated(0x73);
	ck_assert_msg(task_gone(t1), "the killed running thread %d still exists", (int)t1);
	ck_assert_msg(task_gone(t2), "the killed sleeping thread %d still exists", (int)t2);
	ck_assert_msg(task_gone(t3), "the closed stopped thread %d still exists", (int)t3);
	ck_assert_int_eq(helNop(), kHelErrNone);
	pthread_t other;
	void *result = (void *)(intptr_t)-1;
	ck_assert_int_eq(pthread_create(&other, NULL, nop_from_a_pthread, NULL), 0);
	ck_assert_int_eq(pthread_join(other, &result), 0);
	ck_assert_int_eq((int)(intptr_t)result, kHelErrNone);
	/* And a new own-space thread works as the first did. */
	struct guest again;
	stopped_at_supercall(&again, 4);
}
END_TEST

/* The state letter of process pid (its main thread) in /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* A child that waits up to 20 s for pid to stop (state T), continues it, and exits 0 if it did. */
static pid_t continuer(pid_t pid)
{
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		for (int i = 0; i < 20000; i++) {
			if (proc_state(pid) == 'T')
				_exit(kill(pid, SIGCONT) == 0 ? 0 : 2);
			usleep(1000);
		}
		_exit(1);
	}
	return child;
}

/*
 * The "own" fixture, and under thread_faults.sh a child that continues this
 * program once the SIGSTOP injected into its own-space thread has stopped it.
 */
static void setup_own_continued(void)
{
	setup_own();
	if (getenv("HELHOST_FAULTS"))
		continuer(getpid());
}

START_TEST(test_threads_own_signals_from_outside)
{
	/*
	 * should succeed: SIGUSR1 sent to an own-space thread's task does not
	 * end its program (the thread blocks every signal it can); SIGSTOP is
	 * passed on, so that the whole
	 * program stops as job control stops it, and runs again after SIGCONT;
	 * the guest then still sees the word written afterwards and makes its
	 * supercall
	 */
	struct code c = { .len = 0 };
	until_word(&c);
	supercall(&c, 8);
	spin(&c);
	struct guest g;
	pid_t task = started(&g, &c);
	ck_assert_int_eq(syscall(SYS_tgkill, getpid(), task, SIGUSR1), 0);
	pid_t helper = continuer(getpid());
	ck_assert_int_eq(syscall(SYS_tgkill, getpid(), task, SIGSTOP), 0);
	int status;
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"the program never stopped for the SIGSTOP its thread passed on");
	*(volatile uint32_t *)(uintptr_t)DATA = 1;
	struct HelObserveResult r = observe(g.thread, g.seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 8);
}
END_TEST

START_TEST(test_threads_own_program_exits_with_its_threads)
{
	/* should succeed: a program that exits with an own-space thread stopped and one running ends whole */
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0) {
		struct guest g1, g2;
		stopped_at_supercall(&g1, 1);
		pid_t tids[2] = { own_task(), spinning(&g2) };
		if (write(pipefd[1], tids, sizeof(tids)) != sizeof(tids))
			_exit(2);
		exit(7);
	}
	pid_t tids[2] = { 0, 0 };
	ck_assert_int_eq(read(pipefd[0], tids, sizeof(tids)), sizeof(tids));
	ck_assert_int_gt(tids[0], 0);
	ck_assert_int_gt(tids[1], 0);
	/* The exit is reported only once every task of the child is gone. */
	int status = 0;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 7);
	ck_assert_int_ne(kill(tids[0], 0), 0);
	ck_assert_int_ne(kill(tids[1], 0), 0);
}
END_TEST

START_TEST(test_threads_own_handle_pointer_garbage)
{
	/* should fail before any thread is made: a handle pointer libhel cannot write */
	ck_assert_int_eq(helCreateThread(kHelNullHandle, kHelNullHandle, 0, (void *)CODE, NULL, 0,
			(HelHandle *)16), kHelErrFault);
	ck_assert_int_eq(own_task(), 0);
}
END_TEST

START_TEST(test_threads_own_thread_makes_no_own_threads)
{
	/* should fail: only the program (through libhel) makes threads in its own space */
	struct code c = { .len = 0 };
	mov_edi(&c, kHelCallCreateThread);
	mov64(&c, RSI, 0);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, 0);
	report_call(&c);
	mov_edi(&c, kHelCallNop);
	report_call(&c);
	expect_two_results(&c, kHelErrUnsupportedOperation, kHelErrNone);
}
END_TEST

/* mov $imm32, %r8d / %r9d / %r10d (zero-extended) */
static void mov_r8_r10(struct code *c, uint32_t r8, uint32_t r9, uint32_t r10)
{
	unsigned char b[18] = { 0x41, 0xb8, 0, 0, 0, 0, 0x41, 0xb9, 0, 0, 0, 0, 0x41, 0xba };
	memcpy(b + 2, &r8, 4);
	memcpy(b + 8, &r9, 4);
	memcpy(b + 14, &r10, 4);
	emit(c, b, sizeof(b));
}

START_TEST(test_threads_guest_maps_into_its_space)
{
	/*
	 * should succeed: a guest allocates memory, maps it into its space, writes
	 * it (the supervisor sees the word) and unmaps it (touching it then is a
	 * page fault) — in a stub's space, and in its program's own
	 */
	struct code c = { .len = 0 };
	allocate_page(&c);              /* the handle stays in rsi: the next call's first argument */
	mov_edi(&c, kHelCallMapMemory);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, 0);
	mov_r8_r10(&c, 0, PAGE, kHelMapProtRead | kHelMapProtWrite);
	report_call(&c);                /* the pointer in r14 */
	emit(&c, "\x49\xc7\x06\xed\x5e\x00\x00", 7);      /* movq $0x5eed, (%r14) */
	supercall(&c, 1);
	mov_edi(&c, kHelCallUnmapMemory);
	mov64(&c, RSI, 0);
	emit(&c, "\x4c\x89\xf2", 3);                  /* mov %r14, %rdx */
	mov64(&c, RAX, PAGE);
	report_call(&c);
	size_t touch = c.len;
	emit(&c, "\x49\x8b\x06", 3);                  /* mov (%r14), %rax */
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	uint64_t at = reg(g.thread, kHelRegR14), word = 0;
	run_until(&g, kHelObserveSuperCall + 1);
	if (own_space)
		word = *(volatile uint64_t *)(uintptr_t)at;     /* the program's own memory */
	else
		ck_assert_int_eq(copy(g.thread, at, &word, sizeof(word), 0), kHelErrNone);
	ck_assert_uint_eq(word, 0x5eed);
	run_until(&g, kHelObserveSuperCall);
	ck_assert_uint_eq(reg(g.thread, kHelRegR15), kHelErrNone);
	run_until(&g, kHelObservePageFault);
	ck_assert_uint_eq(ip(g.thread), CODE + touch);
}
END_TEST

/* The child of a traced-program test: its result as its exit code. */
static int create_while_traced(int go)
{
	char byte;
	if (read(go, &byte, 1) != 1)
		return 2;
	struct code c = { .len = 0 };
	spin(&c);
	struct guest g;
	guest_space(&g, &c);
	if (guest_create(&g) != kHelErrIllegalState)
		return 3;
	return helNop() == kHelErrNone ? 0 : 4;
}

START_TEST(test_threads_own_creation_in_a_traced_program)
{
	/*
	 * should fail: in a program under a debugger (here: this test, tracing
	 * its child with PTRACE_O_TRACECLONE as gdb does) the new thread is the
	 * debugger's, so helCreateThread answers kHelErrIllegalState; the
	 * program goes on.
	 */
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0)
		_exit(create_while_traced(pipefd[0]));
	ck_assert_int_eq(ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL), 0);
	ck_assert_int_eq(write(pipefd[1], "g", 1), 1);
	for (;;) {
		int status;
		pid_t who = waitpid(-1, &status, __WALL);
		ck_assert_int_gt(who, 0);
		if (who == child && (WIFEXITED(status) || WIFSIGNALED(status))) {
			ck_assert(WIFEXITED(status));
			ck_assert_int_eq(WEXITSTATUS(status), 0);
			break;
		}
		if (!WIFSTOPPED(status))
			continue;
		/* Hand a signal back to its task; event stops carry none. */
		int sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
		ptrace(PTRACE_CONT, who, 0, sig == SIGTRAP ? 0 : sig);
	}
}
END_TEST

/* ---- register images answered in libhel (callpage.h, struct hh_image_page) ---- */

/* x86 register numbers of the General image's words, in HelRegisterIndex order. */
static const int gpr_x86[kHelNumGprs] = { 0, 3, 1, 2, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15, 5 };
#define X86_RCX 1
#define X86_RSP 4
#define X86_R11 11

/* mov $imm, reg (x86 number 0-15) */
static void mov_reg(struct code *c, int reg, uint64_t imm)
{
	unsigned char b[10] = { (unsigned char)(0x48 | (reg >= 8)), (unsigned char)(0xb8 + (reg & 7)) };
	memcpy(b + 2, &imm, 8);
	emit(c, b, 10);
}

/* mov reg, (addr), addr below 2 GiB */
static void store_reg(struct code *c, int reg, uint32_t addr)
{
	unsigned char b[8] = { (unsigned char)(0x48 | (reg >= 8 ? 4 : 0)), 0x89,
		(unsigned char)(((reg & 7) << 3) | 4), 0x25 };
	memcpy(b + 4, &addr, 4);
	emit(c, b, 8);
}

/* A value per General slot, different in every slot and for every salt. */
static uint64_t pattern(int slot, uint64_t salt)
{
	return salt * 0x100000001ull + (uint64_t)slot * 0x1111;
}

START_TEST(test_threads_image_loads_what_the_guest_set)
{
	/*
	 * should succeed: every set libhel answers from the image page holds the
	 * guest's registers at its supercall, the same through a second handle
	 * and around a Simd load, which the emulator answers
	 */
	struct code c = { .len = 0 };
	for (int i = 0; i < kHelNumGprs; i++)
		if (i != kHelRegNumber)
			mov_reg(&c, gpr_x86[i], pattern(i, 7));
	supercall(&c, 4);
	size_t after = c.len;
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 4);
	uintptr_t gprs[kHelNumGprs], sig[19], pc[2], again[kHelNumGprs];
	unsigned char simd[512];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSimd, simd), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSignal, sig), kHelErrNone);
	/* syscall leaves the return address in rcx and rflags in r11, as on Managarm */
	for (int i = 0; i < kHelNumGprs; i++)
		if (i != kHelRegNumber && gpr_x86[i] != X86_RCX && gpr_x86[i] != X86_R11)
			ck_assert_uint_eq(gprs[i], pattern(i, 7));
	ck_assert_uint_eq(gprs[kHelRegNumber], 0x80000004u);
	ck_assert_uint_eq(pc[kHelRegIp], CODE + after);
	ck_assert_uint_eq(pc[kHelRegSp], DATA + PAGE);
	ck_assert_uint_eq(gprs[kHelRegRcx], pc[kHelRegIp]);
	/* Signal: r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, then rsp, rip, rflags, cs */
	static const int sig_slot[15] = { kHelRegR8, kHelRegR9, kHelRegR10, kHelRegR11, kHelRegR12,
		kHelRegR13, kHelRegR14, kHelRegR15, kHelRegRdi, kHelRegRsi, kHelRegRbp, kHelRegRbx,
		kHelRegRdx, kHelRegRax, kHelRegRcx };
	for (int i = 0; i < 15; i++)
		ck_assert_uint_eq(sig[i], gprs[sig_slot[i]]);
	ck_assert_uint_eq(sig[15], pc[kHelRegSp]);
	ck_assert_uint_eq(sig[16], pc[kHelRegIp]);
	ck_assert_uint_eq(sig[17], gprs[kHelRegR11]);
	ck_assert_uint_eq(sig[18], 0x33);       /* the user code selector */
	HelHandle second;
	ck_assert_int_eq(helTransferDescriptor(g.thread, kHelThisUniverse, &second), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(second, kHelRegsGeneral, again), kHelErrNone);
	ck_assert_mem_eq(again, gprs, sizeof(gprs));
}
END_TEST

/* Loads and a store of General made by another thread of ours while the emulator is stopped. */
struct image_calls {
	HelHandle thread;
	uintptr_t before[kHelNumGprs], after[kHelNumGprs];
	HelError load, store, reload;
	int ready, go, done;
};

static void *image_calls_run(void *arg)
{
	struct image_calls *ic = arg;
	/* A thread's first Hel call registers it with the emulator: made before the stop. */
	ck_assert_int_eq(helNop(), kHelErrNone);
	__atomic_store_n(&ic->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ic->go, __ATOMIC_ACQUIRE))
		usleep(100);
	ic->load = helLoadRegisters(ic->thread, kHelRegsGeneral, ic->before);
	memcpy(ic->after, ic->before, sizeof(ic->after));
	ic->after[kHelRegRbx] ^= 0x5a5a;
	ic->store = helStoreRegisters(ic->thread, kHelRegsGeneral, ic->after);
	ic->reload = helLoadRegisters(ic->thread, kHelRegsGeneral, ic->after);
	__atomic_store_n(&ic->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_threads_image_answered_while_the_emulator_is_stopped)
{
	/*
	 * should succeed: once libhel holds a stopped thread's image page, its
	 * General loads and stores need no emulator: they complete while the
	 * emulator is stopped (SIGSTOP), which a trapped call could not
	 */
	struct code c = { .len = 0 };
	mov_reg(&c, gpr_x86[kHelRegRbx], 0x1234);
	supercall(&c, 5);
	spin(&c);
	struct guest g;
	guest_load(&g, &c);
	run_until(&g, kHelObserveSuperCall + 5);
	uintptr_t first[kHelNumGprs];
	/* The first load fetches the page from the emulator. */
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, first), kHelErrNone);
	struct image_calls ic = { .thread = g.thread };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, image_calls_run, &ic), 0);
	int64_t deadline = hq_deadline_ms(20000);
	while (!__atomic_load_n(&ic.ready, __ATOMIC_ACQUIRE) && hq_deadline_ms(0) < deadline)
		usleep(1000);
	ck_assert_int_eq(ic.ready, 1);
	pid_t emu = emulator_pid();
	ck_assert_int_gt(emu, 0);
	ck_assert_int_eq(kill(emu, SIGSTOP), 0);
	deadline = hq_deadline_ms(20000);
	while (state_of(emu) != 'T' && hq_deadline_ms(0) < deadline)
		usleep(1000);
	char state = state_of(emu);
	__atomic_store_n(&ic.go, 1, __ATOMIC_RELEASE);
	deadline = hq_deadline_ms(20000);
	while (!__atomic_load_n(&ic.done, __ATOMIC_ACQUIRE) && hq_deadline_ms(0) < deadline)
		usleep(1000);
	int done = __atomic_load_n(&ic.done, __ATOMIC_ACQUIRE);
	/* Continued before any assertion, so a failure cannot leave it stopped. */
	ck_assert_int_eq(kill(emu, SIGCONT), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(state, 'T');
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(ic.load, kHelErrNone);
	ck_assert_int_eq(ic.store, kHelErrNone);
	ck_assert_int_eq(ic.reload, kHelErrNone);
	ck_assert_mem_eq(ic.before, first, sizeof(first));
	ck_assert_uint_eq(ic.before[kHelRegRbx], 0x1234);
	ck_assert_uint_eq(ic.after[kHelRegRbx], 0x1234 ^ 0x5a5a);
}
END_TEST

/* Guest code that writes all 15 General registers and rsp to DATA, in HelRegisterIndex order. */
static void dump_registers(struct code *c)
{
	for (int i = 0; i < kHelNumGprs; i++)
		store_reg(c, gpr_x86[i], (uint32_t)(DATA + 8 * i));
	store_reg(c, X86_RSP, (uint32_t)(DATA + 8 * kHelNumGprs));
}

/*
 * g runs middle between supercalls 1 and 2 (then spins): made, and
 * stopped at supercall 1.
 */
static void between_supercalls(struct guest *g, const struct code *middle)
{
	struct code c = { .len = 0 };
	supercall(&c, 1);
	emit(&c, middle->bytes, middle->len);
	supercall(&c, 2);
	spin(&c);
	guest_load(g, &c);
	run_until(g, kHelObserveSuperCall + 1);
}

START_TEST(test_threads_image_store_reaches_the_guest)
{
	/*
	 * should succeed: General and Program images stored through the page at
	 * one stop are the registers the guest runs with after helResume: it
	 * writes them to memory, and the supervisor reads them there
	 */
	struct code c = { .len = 0 };
	dump_registers(&c);
	struct guest g;
	between_supercalls(&g, &c);
	uintptr_t gprs[kHelNumGprs], pc[2];
	for (int i = 0; i < kHelNumGprs; i++)
		gprs[i] = pattern(i, 9);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	pc[kHelRegSp] = DATA + PAGE - 64;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 2);
	uint64_t seen[kHelNumGprs + 1];
	ck_assert_int_eq(copy(g.thread, DATA, seen, sizeof(seen), 0), kHelErrNone);
	for (int i = 0; i < kHelNumGprs; i++)
		ck_assert_uint_eq(seen[i], pattern(i, 9));
	ck_assert_uint_eq(seen[kHelNumGprs], DATA + PAGE - 64);
}
END_TEST

static void *resume_thread(void *arg)
{
	return (void *)(intptr_t)helResume(*(HelHandle *)arg);
}

START_TEST(test_threads_image_is_never_stale)
{
	/*
	 * should succeed: a store applies once, at the stop it was made at;
	 * the next stop shows the guest's own registers.  should fail: the
	 * image of a stop that is over, whether this thread, another thread of
	 * the supervisor or a kill ended it
	 */
	struct code c = { .len = 0 };
	mov_reg(&c, 12, 0x12121212);
	struct guest g;
	between_supercalls(&g, &c);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	gprs[kHelRegR12] = 0xaaaa;
	gprs[kHelRegR13] = 0xbbbb;
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	run_until(&g, kHelObserveSuperCall + 2);
	ck_assert_uint_eq(reg(g.thread, kHelRegR12), 0x12121212);
	ck_assert_uint_eq(reg(g.thread, kHelRegR13), 0xbbbb);
	/* another thread of the supervisor resumes it between the observation and the load */
	pthread_t other;
	void *resumed;
	ck_assert_int_eq(pthread_create(&other, NULL, resume_thread, &g.thread), 0);
	ck_assert_int_eq(pthread_join(other, &resumed), 0);
	ck_assert_int_eq((int)(intptr_t)resumed, kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrIllegalState);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrIllegalState);
	ck_assert_int_eq(helKillThread(g.thread), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrThreadTerminated);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrThreadTerminated);
}
END_TEST

START_TEST(test_threads_image_of_a_reused_handle)
{
	/*
	 * should succeed: a handle closed and given to another thread shows the
	 * new thread's registers, never the page libhel had for the old one;
	 * should fail: the closed handle itself
	 */
	struct guest a, b;
	stopped_at_supercall(&a, 5);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(a.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_uint_eq(gprs[kHelRegNumber], 0x80000005u);
	HelHandle old = a.thread;
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, old), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(old, kHelRegsGeneral, gprs), kHelErrNoDescriptor);
	ck_assert_int_eq(helStoreRegisters(old, kHelRegsGeneral, gprs), kHelErrNoDescriptor);
	stopped_at_supercall(&b, 6);
	ck_assert_int_eq(helLoadRegisters(b.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_uint_eq(gprs[kHelRegNumber], 0x80000006u);
}
END_TEST

START_TEST(test_threads_image_resume_by_a_dying_supervisor)
{
	/*
	 * should succeed: a resume stands even if the supervisor that made it
	 * (a fork holding a copy of the handle and of libhel's image pages)
	 * dies right after it, and the pages still show the thread's state.
	 * should fail: a second resume from another thread of the supervisor
	 */
	struct code c = { .len = 0 };
	struct guest g;
	between_supercalls(&g, &c);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0) {
		if (helResume(g.thread) == kHelErrNone)
			raise(SIGKILL);
		_exit(2);
	}
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	struct HelObserveResult r = observe(g.thread, g.seq);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, kHelObserveSuperCall + 2);
	g.seq = r.sequence;
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	pthread_t other;
	void *second;
	ck_assert_int_eq(pthread_create(&other, NULL, resume_thread, &g.thread), 0);
	ck_assert_int_eq(pthread_join(other, &second), 0);
	ck_assert_int_eq((int)(intptr_t)second, kHelErrIllegalState);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrIllegalState);
}
END_TEST

/* libhel's mapping of an image page (there is one per thread it asked about), or NULL. */
static struct hh_image_page *mapped_image_page(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long start = 0;
	while (f && !start && fgets(line, sizeof(line), f))
		if (strstr(line, "helhost-image") && sscanf(line, "%lx-", &start) != 1)
			start = 0;
	if (f)
		fclose(f);
	return (struct hh_image_page *)start;
}

START_TEST(test_threads_image_page_scribbled_over)
{
	/*
	 * should succeed: a supervisor that writes garbage into its image page
	 * changes at most the sets a store may change: marking Thread stored
	 * with garbage elsewhere in the page gives the thread those bases and
	 * nothing else (cs, ss and rflags stay valid: the guest runs on)
	 */
	struct code c = { .len = 0 };
	struct guest g;
	between_supercalls(&g, &c);
	uintptr_t pc[2];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsProgram, pc), kHelErrNone);
	struct hh_image_page *page = mapped_image_page();
	ck_assert_ptr_nonnull(page);
	ck_assert(page->state & HH_IMAGE_STOPPED);
	page->regs.cs = 0;
	page->regs.ss = 0;
	page->regs.eflags = ~0ull;
	page->regs.orig_rax = 0x1234;
	page->regs.fs_base = 0x7f0000003000ull;
	page->state |= HH_IMAGE_DIRTY(kHelRegsThread);
	run_until(&g, kHelObserveSuperCall + 2);
	uintptr_t tls[2];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsThread, tls), kHelErrNone);
	ck_assert_uint_eq(tls[0], 0x7f0000003000ull);
	uintptr_t sig[19];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsSignal, sig), kHelErrNone);
	ck_assert_uint_eq(sig[18], 0x33);
	ck_assert_uint_eq(sig[17] & 0x200, 0x200);      /* interrupts still on */
}
END_TEST

/* Two supervisor threads load, store and resume one guest at once. */
struct racer {
	HelHandle thread;
	uint64_t salt;
	volatile int *done;
	int loads, torn, odd;
};

/* Every General word but rdi, rcx and r11 (the supercall's number and syscall's clobbers) is the same. */
static bool coherent(const uintptr_t *gprs)
{
	for (int i = 0; i < kHelNumGprs; i++)
		if (i != kHelRegRdi && i != kHelRegRcx && i != kHelRegR11 && gprs[i] != gprs[kHelRegRax])
			return false;
	return true;
}

static void race_once(struct racer *r, uint64_t value)
{
	uintptr_t gprs[kHelNumGprs];
	HelError e = helLoadRegisters(r->thread, kHelRegsGeneral, gprs);
	if (e == kHelErrNone) {
		r->loads++;
		r->torn += !coherent(gprs);
	}
	r->odd += e != kHelErrNone && e != kHelErrIllegalState;
	for (int i = 0; i < kHelNumGprs; i++)
		gprs[i] = value;
	e = helStoreRegisters(r->thread, kHelRegsGeneral, gprs);
	r->odd += e != kHelErrNone && e != kHelErrIllegalState;
	e = helResume(r->thread);
	r->odd += e != kHelErrNone && e != kHelErrIllegalState;
}

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	for (uint64_t i = 0; !*r->done; i++)
		race_once(r, r->salt + i);
	return NULL;
}

START_TEST(test_threads_image_two_supervisor_threads_race)
{
	/*
	 * should succeed: whichever thread wins each stop, every load shows one
	 * whole image (all its words stored together), and every call answers
	 * kHelErrNone or kHelErrIllegalState
	 */
	struct code c = { .len = 0 };
	size_t start = c.len;
	supercall(&c, 1);
	emit(&c, (unsigned char[]){ 0xeb, (unsigned char)(start - c.len - 2) }, 2);
	struct guest g;
	guest_load(&g, &c);
	volatile int done = 0;
	struct racer main_r = { g.thread, 1ull << 40, &done, 0, 0, 0 };
	struct racer other_r = { g.thread, 2ull << 40, &done, 0, 0, 0 };
	pthread_t other;
	ck_assert_int_eq(pthread_create(&other, NULL, racer_main, &other_r), 0);
	for (int i = 0; i < 300; i++) {
		race_once(&main_r, main_r.salt + (uint64_t)i);
		/* Wait for a stop made after this resume (or the other thread's). */
		struct HelObserveResult r = observe(g.thread, g.seq);
		ck_assert_int_eq(r.error, kHelErrNone);
		g.seq = r.sequence;
	}
	done = 1;
	ck_assert_int_eq(pthread_join(other, NULL), 0);
	ck_assert_int_eq(main_r.odd + other_r.odd, 0);
	ck_assert_int_eq(main_r.torn + other_r.torn, 0);
	ck_assert_int_gt(main_r.loads, 0);
}
END_TEST

/* Memfds of the emulator that are image pages. */
static int image_pages(pid_t emu)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)emu);
	DIR *d = opendir(path);
	int count = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		char link[400], target[256];
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			count += strstr(target, "helhost-image") != NULL;
		}
	}
	if (d)
		closedir(d);
	return count;
}

START_TEST(test_threads_image_supervisor_killed_between_store_and_resume)
{
	/*
	 * should succeed: a supervisor (a fork of the creator, holding a copy of
	 * the handle) dies after its store and before its resume: the guest
	 * stays stopped, the store stays made, the creator resumes it, and no
	 * image page outlives the last handle
	 */
	struct code c = { .len = 0 };
	store_reg(&c, 12, (uint32_t)DATA);
	struct guest g;
	between_supercalls(&g, &c);
	pid_t emu = (pid_t)proc_field(stub_serving(getpid()), "status", "TracerPid");
	ck_assert_int_gt(emu, 0);
	uintptr_t gprs[kHelNumGprs];
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	int pipefd[2];
	pid_t child = fork_with_pipe(pipefd);
	if (child == 0) {
		gprs[kHelRegR12] = 0x5eed;
		char ok = helStoreRegisters(g.thread, kHelRegsGeneral, gprs) == kHelErrNone;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(2);
		pause();        /* killed by the parent before it resumes anything */
		_exit(3);
	}
	char ok = 0;
	ck_assert_int_eq(read(pipefd[0], &ok, 1), 1);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_uint_eq(reg(g.thread, kHelRegR12), 0x5eed);
	ck_assert_int_le(image_pages(emu), 1);
	run_until(&g, kHelObserveSuperCall + 2);
	uint64_t seen = 0;
	ck_assert_int_eq(copy(g.thread, DATA, &seen, sizeof(seen), 0), kHelErrNone);
	ck_assert_uint_eq(seen, 0x5eed);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, g.thread), kHelErrNone);
	ck_assert_int_eq(image_pages(emu), 0);
}
END_TEST

START_TEST(test_threads_image_garbage)
{
	/*
	 * should fail, in the emulator's order: handles that name no thread,
	 * sets threads do not have, images libhel cannot read or write (and
	 * the caller's memory stays as it was); the thread stays stopped
	 */
	struct guest g;
	stopped_at_supercall(&g, 3);
	uintptr_t gprs[kHelNumGprs] = { 0 };
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, gprs), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(9999, kHelRegsGeneral, gprs), kHelErrNoDescriptor);
	ck_assert_int_eq(helStoreRegisters(9999, kHelRegsGeneral, gprs), kHelErrNoDescriptor);
	ck_assert_int_eq(helLoadRegisters(g.code, kHelRegsGeneral, gprs), kHelErrBadDescriptor);
	ck_assert_int_eq(helStoreRegisters(g.code, kHelRegsGeneral, gprs), kHelErrBadDescriptor);
	ck_assert_int_eq(helLoadRegisters(g.thread, -1, gprs), kHelErrIllegalArgs);
	ck_assert_int_eq(helStoreRegisters(g.thread, 1 << 20, gprs), kHelErrIllegalArgs);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, (void *)16), kHelErrFault);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, (void *)16), kHelErrFault);
	void *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	ck_assert_ptr_ne(none, MAP_FAILED);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, ro), kHelErrFault);
	ck_assert_int_eq(*(volatile uint64_t *)ro, 0);
	/* an image that ends in a page libhel cannot read */
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, (char *)none - 8), kHelErrFault);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, none), kHelErrFault);
	ck_assert_uint_eq(reg(g.thread, kHelRegNumber), 0x80000003u);
	/* a running thread: its state comes before the buffer for a load, after it for a store */
	ck_assert_int_eq(helResume(g.thread), kHelErrNone);
	ck_assert_int_eq(helLoadRegisters(g.thread, kHelRegsGeneral, (void *)16), kHelErrIllegalState);
	ck_assert_int_eq(helStoreRegisters(g.thread, kHelRegsGeneral, (void *)16), kHelErrFault);
	munmap(ro, PAGE);
	munmap(none, PAGE);
}
END_TEST

/*
 * For tests/programs/thread_faults.sh: true when its injection kills the
 * stub (kill:REQ:NTH or killafter:REQ:NTH, signal 9 or none given), not when
 * it only signals it.
 */
static bool stub_is_killed(void)
{
	const char *faults = getenv("HELHOST_FAULTS");
	const char *k = faults ? strstr(faults, "kill") : NULL;
	unsigned long request, nth, sig = SIGKILL;
	return k && sscanf(k, "%*[a-z]:%lu:%lu:%lu", &request, &nth, &sig) >= 2 && sig == SIGKILL;
}

/* A step of a thread that may be killed under it: false once it has ended. */
static bool answers(HelError e, HelError want)
{
	if (e == kHelErrThreadTerminated)
		return false;
	ck_assert_int_eq(e, want);
	return true;
}

/* An observation of g, the expected one or its end. */
static bool observed(struct guest *g, struct HelObserveResult r, unsigned observation)
{
	if (r.error == kHelErrThreadTerminated)
		return false;
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_uint_eq(r.observation, observation);
	ck_assert_uint_eq(r.sequence, g->seq + 1);
	g->seq = r.sequence;
	return true;
}

/* Wait up to 20 s until stub sleeps in futex(2) or an element arrives (false then). */
static bool sleeps_or_ends(pid_t stub, struct HelElement **el)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)stub);
	int64_t deadline = hq_deadline_ms(20000);
	do {
		if ((*el = hq_next(&q, 0)))
			return false;
		FILE *f = fopen(path, "re");
		int found = f && fgets(line, sizeof(line), f) && !strncmp(line, "202 ", 4);
		if (f)
			fclose(f);
		if (found)
			return true;
		usleep(1000);
	} while (hq_deadline_ms(0) < deadline);
	ck_abort_msg("the guest neither slept in its wait nor ended");
	return false;
}

/*
 * The guest's life that thread_faults.sh cuts at one ptrace request: a
 * supercall, register images, a Hel call, a futex wait that a mapping
 * interrupts, a breakpoint, a mapping while it runs, a last supercall.
 * False once the thread is seen to end.
 */
static bool guest_life(struct guest *g, pid_t *stub)
{
	struct code c = { .len = 0 };
	supercall(&c, 1);
	mov_edi(&c, kHelCallNop);
	syscall_insn(&c);
	mov_edi(&c, kHelCallFutexWait);
	mov64(&c, RSI, DATA);
	mov64(&c, RDX, 0);
	mov64(&c, RAX, (uint64_t)kHelWaitInfinite);
	syscall_insn(&c);
	emit(&c, "\x4c\x8b\x3c\x25\x00\x00\x60\x00", 8);   /* mov 0x600000, %r15 */
	int3(&c);
	emit(&c, "\x83\x3c\x25\x08\x00\x50\x00\x00\x74\xf6", 10);  /* cmpl $0, DATA+8; je back */
	supercall(&c, 2);
	spin(&c);
	guest_space(g, &c);
	HelError e = guest_create(g);
	if (e == kHelErrNoMemory && stub_is_killed())
		return false;   /* killed while it was made: no thread (as in the creation case) */
	ck_assert_int_eq(e, kHelErrNone);
	*stub = stub_serving(getpid());
	ck_assert_int_gt(*stub, 0);

	if (!answers(helResume(g->thread), kHelErrNone) ||
			!observed(g, observe(g->thread, g->seq), kHelObserveSuperCall + 1))
		return false;
	unsigned char simd[512];
	if (!answers(helLoadRegisters(g->thread, kHelRegsSimd, simd), kHelErrNone) ||
			!answers(helStoreRegisters(g->thread, kHelRegsSimd, simd), kHelErrNone) ||
			!answers(helResume(g->thread), kHelErrNone))
		return false;
	/* It makes its Nop and sleeps; the mapping wakes it (a spurious wake-up, §7). */
	ck_assert_int_eq(helSubmitObserve(g->thread, g->seq, q.handle, 0xd1), kHelErrNone);
	struct HelElement *el;
	bool sleeping = sleeps_or_ends(*stub, &el);
	if (sleeping) {
		map_word(g, 0x600000, 0x77);
		el = hq_next(&q, hq_deadline_ms(20000));
	}
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq((uintptr_t)el->context, 0xd1);
	if (!observed(g, *(struct HelObserveResult *)hq_payload(el), kHelObserveBreakpoint))
		return false;
	uintptr_t gprs[kHelNumGprs];
	if (!answers(helLoadRegisters(g->thread, kHelRegsGeneral, gprs), kHelErrNone))
		return false;
	ck_assert_uint_eq(gprs[kHelRegR15], 0x77);
	/* It spins until the word; a mapping comes meanwhile. */
	if (!answers(helResume(g->thread), kHelErrNone))
		return false;
	map_word(g, 0x601000, 0x78);
	uint32_t one = 1;
	HelError w = copy(g->thread, DATA + 8, &one, sizeof(one), 1);
	if (!answers(w, kHelErrNone))
		return false;
	return observed(g, observe(g->thread, g->seq), kHelObserveSuperCall + 2);
}

START_TEST(test_threads_stub_dies_between_requests)
{
	/*
	 * should fail under thread_faults.sh: a stub killed between two ptrace
	 * requests (while it is made, mid-batch, while it is held or resumed,
	 * during a futex wait, a register access) is a thread that ended: every
	 * later step answers kHelErrThreadTerminated or its observers do, the
	 * stub is reaped, and the next thread runs.  A stub that is only
	 * signalled lives on unchanged.  Alone: the whole life runs.
	 */
	struct guest g;
	pid_t stub = 0;
	bool lived = guest_life(&g, &stub);
	ck_assert_int_eq(lived, !stub_is_killed());
	if (lived) {
		ck_assert_int_eq(helSubmitObserve(g.thread, g.seq, q.handle, 0xd2), kHelErrNone);
		ck_assert_int_eq(helKillThread(g.thread), kHelErrNone);
		expect_terminated(0xd2);
	} else if (stub) {
		/* Its end may still be on its way (SIGCHLD): an observer waits for it. */
		ck_assert_int_eq(helSubmitObserve(g.thread, g.seq, q.handle, 0xd3), kHelErrNone);
		expect_terminated(0xd3);
		ck_assert_int_eq(helResume(g.thread), kHelErrThreadTerminated);
	}
	struct guest next;
	stopped_at_supercall(&next, 3);
	ck_assert_int_eq(stubs_left(), 1);
}
END_TEST

START_TEST(test_threads_priority_linux_refuses)
{
	/*
	 * should fail under thread_faults.sh (fail:setprio): a priority that
	 * Linux refuses for another reason than privilege or an ended thread is
	 * kHelErrIllegalArgs; the next one is taken.  Alone: both are.
	 */
	HelError want = getenv("HELHOST_FAULTS") ? kHelErrIllegalArgs : kHelErrNone;
	ck_assert_int_eq(helSetPriority(kHelThisThread, 1), want);
	ck_assert_int_eq(helSetPriority(kHelThisThread, 1), kHelErrNone);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads_supercall_stops_with_registers);
	tcase_add_test(tc, test_threads_supervisor_results_reach_the_guest);
	tcase_add_test(tc, test_threads_hel_calls_in_managarm_convention);
	tcase_add_test(tc, test_threads_call_with_two_results);
	tcase_add_test(tc, test_threads_faults_are_observed);
	tcase_add_test(tc, test_threads_guest_creates_a_thread);
	tcase_add_test(tc, test_threads_guest_passes_garbage);
	tcase_add_test(tc, test_threads_guest_closes_its_last_handle);
	tcase_add_test(tc, test_threads_initial_registers);
	tcase_add_test(tc, test_threads_memory_through_the_thread_handle);
	tcase_add_test(tc, test_threads_mapping_while_it_runs);
	tcase_add_test(tc, test_threads_sequence_rules);
	tcase_add_test(tc, test_threads_several_observers_and_kill);
	tcase_add_test(tc, test_threads_bad_handles_and_arguments);
	tcase_add_test(tc, test_threads_last_handle_closed_kills);
	tcase_add_test(tc, test_threads_stub_dies_with_its_supervisor);
	tcase_add_test(tc, test_threads_stub_killed_from_outside);
	tcase_add_test(tc, test_threads_stub_refuses_a_mapping);
	tcase_add_test(tc, test_threads_guest_scribbles_over_its_stub);
	tcase_add_test(tc, test_threads_guest_scribbles_over_its_stub_stack);
	tcase_add_test(tc, test_threads_futex_wait_sleeps_until_woken);
	tcase_add_test(tc, test_threads_futex_wait_past_deadline);
	tcase_add_test(tc, test_threads_mapping_while_it_waits);
	tcase_add_test(tc, test_threads_interrupt_cuts_a_futex_wait_short);
	tcase_add_test(tc, test_threads_interrupt_at_the_next_call);
	tcase_add_test(tc, test_threads_scheduling_calls_and_credentials);
	tcase_add_test(tc, test_threads_register_sets_stored_and_loaded);
	tcase_add_test(tc, test_threads_affinity_and_stats_of_created_threads);
	tcase_add_test(tc, test_threads_affinity_of_cpus_that_do_not_exist);
	tcase_add_test(tc, test_threads_old_sequence_while_it_runs);
	tcase_add_test(tc, test_threads_in_an_empty_space);
	tcase_add_test(tc, test_threads_space_of_many_mappings);
	tcase_add_test(tc, test_threads_mapping_above_the_stub);
	tcase_add_test(tc, test_threads_guest_sets_its_own_bases);
	tcase_add_test(tc, test_threads_guest_panics);
	tcase_add_test(tc, test_threads_signals_from_outside_are_dropped);
	tcase_add_test(tc, test_threads_bad_ip_and_sp);
	tcase_add_test(tc, test_threads_guest_maps_into_its_space);
	tcase_add_test(tc, test_threads_image_loads_what_the_guest_set);
	tcase_add_test(tc, test_threads_image_store_reaches_the_guest);
	tcase_add_test(tc, test_threads_image_is_never_stale);
	tcase_add_test(tc, test_threads_image_of_a_reused_handle);
	tcase_add_test(tc, test_threads_image_two_supervisor_threads_race);
	tcase_add_test(tc, test_threads_image_supervisor_killed_between_store_and_resume);
	tcase_add_test(tc, test_threads_image_garbage);
	tcase_add_test(tc, test_threads_image_resume_by_a_dying_supervisor);
	tcase_add_test(tc, test_threads_image_page_scribbled_over);
	tcase_add_test(tc, test_threads_image_answered_while_the_emulator_is_stopped);
	suite_add_tcase(s, tc);
	/* The same contract for threads in the test program's own space. */
	TCase *own = tcase_create("own");
	tcase_add_checked_fixture(own, setup_own, NULL);
	tcase_set_timeout(own, 60);
	tcase_add_test(own, test_threads_supercall_stops_with_registers);
	tcase_add_test(own, test_threads_bad_ip_and_sp);
	tcase_add_test(own, test_threads_guest_maps_into_its_space);
	tcase_add_test(own, test_threads_own_kill_spares_the_program);
	tcase_add_test(own, test_threads_own_program_exits_with_its_threads);
	tcase_add_test(own, test_threads_own_signals_from_outside);
	tcase_add_test(own, test_threads_own_thread_makes_no_own_threads);
	tcase_add_test(own, test_threads_own_handle_pointer_garbage);
	tcase_add_test(own, test_threads_own_creation_in_a_traced_program);
	tcase_add_test(own, test_threads_stub_dies_with_its_supervisor);
	tcase_add_test(own, test_threads_supervisor_results_reach_the_guest);
	tcase_add_test(own, test_threads_hel_calls_in_managarm_convention);
	tcase_add_test(own, test_threads_call_with_two_results);
	tcase_add_test(own, test_threads_faults_are_observed);
	tcase_add_test(own, test_threads_guest_passes_garbage);
	tcase_add_test(own, test_threads_guest_closes_its_last_handle);
	tcase_add_test(own, test_threads_initial_registers);
	tcase_add_test(own, test_threads_sequence_rules);
	tcase_add_test(own, test_threads_several_observers_and_kill);
	tcase_add_test(own, test_threads_bad_handles_and_arguments);
	tcase_add_test(own, test_threads_last_handle_closed_kills);
	tcase_add_test(own, test_threads_futex_wait_sleeps_until_woken);
	tcase_add_test(own, test_threads_futex_wait_past_deadline);
	tcase_add_test(own, test_threads_interrupt_cuts_a_futex_wait_short);
	tcase_add_test(own, test_threads_interrupt_at_the_next_call);
	tcase_add_test(own, test_threads_scheduling_calls_and_credentials);
	tcase_add_test(own, test_threads_register_sets_stored_and_loaded);
	tcase_add_test(own, test_threads_affinity_and_stats_of_created_threads);
	tcase_add_test(own, test_threads_guest_sets_its_own_bases);
	tcase_add_test(own, test_threads_guest_panics);
	tcase_add_test(own, test_threads_memory_through_the_thread_handle);
	tcase_add_test(own, test_threads_image_loads_what_the_guest_set);
	tcase_add_test(own, test_threads_image_store_reaches_the_guest);
	tcase_add_test(own, test_threads_image_two_supervisor_threads_race);
	tcase_add_test(own, test_threads_image_resume_by_a_dying_supervisor);
	suite_add_tcase(s, own);
	/* Its own case: tests/programs/faults.sh runs it alone (CK_RUN_CASE) under faults. */
	TCase *creation = tcase_create("creation");
	tcase_add_checked_fixture(creation, setup, NULL);
	tcase_set_timeout(creation, 60);
	tcase_add_test(creation, test_threads_creation_failure_leaves_nothing);
	suite_add_tcase(s, creation);
	TCase *own_creation = tcase_create("own-creation");
	tcase_add_checked_fixture(own_creation, setup_own, NULL);
	tcase_set_timeout(own_creation, 60);
	tcase_add_test(own_creation, test_threads_own_creation_failure_leaves_nothing);
	suite_add_tcase(s, own_creation);
	/* thread_faults.sh runs it with SIGSTOP sent while the emulator maps through the thread. */
	TCase *own_maps = tcase_create("own-maps");
	tcase_add_checked_fixture(own_maps, setup_own_continued, NULL);
	tcase_set_timeout(own_maps, 60);
	tcase_add_test(own_maps, test_threads_guest_maps_into_its_space);
	suite_add_tcase(s, own_maps);
	TCase *priority = tcase_create("priority");
	tcase_add_checked_fixture(priority, setup, NULL);
	tcase_add_test(priority, test_threads_priority_linux_refuses);
	suite_add_tcase(s, priority);
	/* tests/programs/thread_faults.sh runs it alone with the stub killed at one request. */
	TCase *dying = tcase_create("dying");
	tcase_add_checked_fixture(dying, setup, NULL);
	tcase_set_timeout(dying, 60);
	tcase_add_test(dying, test_threads_stub_dies_between_requests);
	suite_add_tcase(s, dying);
	/* No fixture: the test process must not be a program of the emulator it kills. */
	TCase *alone = tcase_create("emulator");
	tcase_set_timeout(alone, 60);
	tcase_add_test(alone, test_threads_stub_dies_with_the_emulator);
	suite_add_tcase(s, alone);
	/* An own-space thread's end with the emulator takes its program along (PTRACE_O_EXITKILL). */
	TCase *own_alone = tcase_create("own-emulator");
	tcase_add_checked_fixture(own_alone, own_only, NULL);
	tcase_set_timeout(own_alone, 60);
	tcase_add_test(own_alone, test_threads_stub_dies_with_the_emulator);
	suite_add_tcase(s, own_alone);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
