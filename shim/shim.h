/*
 * libhel's internals.  Every hel* function packs its arguments and traps
 * through hh_shim_call(); the few calls that must never block in the
 * emulator (futexes) or need no kernel (clock, CPU, yield) are served here
 * and only reported to the emulator when tracing.
 */
#ifndef HH_SHIM_H
#define HH_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callpage.h"
#include "hel.h"

#define HH_ARGS(...) ((const uint64_t[]){ __VA_ARGS__ })
#define HH_NARGS(...) (sizeof(HH_ARGS(__VA_ARGS__)) / sizeof(uint64_t))
#define HH_U(x) ((uint64_t)(uintptr_t)(x))

/* Trap call with n arguments; out (may be NULL) gets out0/out1. */
HelError hh_shim_call(uint32_t call, size_t n, const uint64_t *args, uint64_t *out);
/* Calls made between hh_shim_internal(true) and (false) are libhel's own (hidden from the trace). */
void hh_shim_internal(bool on);
/*
 * For this thread's next hh_shim_call only: held is the memfd its plan's
 * HH_MM_FD_HELD map names (or -1), and *keep (keep non-NULL) gets the one
 * memfd the reply brings instead of its being closed.
 */
void hh_shim_plan_fds(int held, int *keep);
/* Forget the memfd kept for handle h of this universe, which is being closed (hel_memory.c). */
void hh_shim_forget_memfd(HelHandle h);

/* After a call whose answer sent one memfd on this thread's socketpair: that fd, or -1. */
int hh_shim_recv_fd(void);

/*
 * helLoadRegisters and helStoreRegisters answered from the thread's image
 * page (image.c): true, with the answer in *e, if libhel could answer;
 * false if the call must go to the emulator.
 */
bool hh_shim_image_load(HelHandle handle, int set, void *image, HelError *e);
bool hh_shim_image_store(HelHandle handle, int set, const void *image, HelError *e);
/* Handle h of this universe is being closed: its image page answers no more. */
void hh_shim_image_forget(HelHandle h);

/* The calling thread's call page, registering the thread if needed. */
struct hh_callpage *hh_shim_page(void);

/* After a locally served call: report it when the emulator traces. */
void hh_shim_trace_local(uint32_t call, const uint64_t *args, size_t n, uint64_t out0,
		HelError error, uint64_t start_ns);
uint64_t hh_shim_now(void);

/* Supercall n (kHelCallSuper + n) with its first argument word (super.c). */
HelError hh_shim_super(uint32_t n, uint64_t arg0);

/*
 * helCreateThread in the program's own space: a parked Linux thread that
 * the emulator takes over (ownthread.c).
 */
HelError hh_shim_own_thread(HelHandle universe, HelAbi abi, void *ip, void *sp, uint32_t flags,
		HelHandle *handle);

/* Start a private emulator and put this process under its filter. */
int hh_shim_autostart(void);

/*
 * Register [addr, addr+len), a mapping of managed frontal memory, with the
 * process's userfaultfd (made and handed to the emulator on first use).
 * 0, or -1 with errno.
 */
int hh_shim_faults_register(uint64_t addr, uint64_t len);
/* Once it is accessible: the emulator maps the pages already there, as thor does. */
void hh_shim_faults_populate(uint64_t addr, uint64_t len);
/* [addr, addr+len) is no Hel mapping any more. */
void hh_shim_faults_forget(uint64_t addr, uint64_t len);
/* In a fork's child, once it is registered: register the inherited mappings again. */
void hh_shim_faults_fork_child(void);

/* The Hel mappings of this process, mirrored from what the shim carried out. */
void hh_shim_maps_add(uint64_t addr, uint64_t len, uint32_t prot);
void hh_shim_maps_remove(uint64_t addr, uint64_t len);
/* True if [addr, addr+len) lies in one Hel mapping; *prot gets its PROT_* bits. */
int hh_shim_maps_lookup(uint64_t addr, uint64_t len, uint32_t *prot);

/*
 * The program's pointers (pointers.c).  Known memory (the calling thread's
 * stack above the current frame, Hel mappings with the right protection)
 * is used directly; any other address is probed with a syscall that
 * answers EFAULT instead of faulting.
 */
/* True if [p, p+len) can be read without a fault (known, or probed now). */
bool hh_shim_readable(const void *p, size_t len);
/* Copy from the program's src; kHelErrFault, and dst untouched, if it is not readable. */
HelError hh_shim_get(void *dst, const void *src, size_t len);
/* Copy an output to the program's dst after a call that answered e: e, or kHelErrFault if e was none and dst is not writable. */
HelError hh_shim_store(HelError e, void *dst, const void *src, size_t len);
/* Write a received message as far as dst's pages are writable; kHelErrFault if not all of it. */
HelError hh_shim_store_prefix(void *dst, const void *src, size_t len);
/* Store value into the output *ptr of a call that answered e (hh_shim_store). */
#define HH_STORE(e, ptr, value) hh_shim_store((e), (ptr), \
		&(__typeof__(*(ptr))){ (__typeof__(*(ptr)))(value) }, sizeof(*(ptr)))

/* The emulator's robust life-sign word (see src/host/alive.h), or NULL before it is known. */
uint32_t *hh_shim_alive_word(void);
/* The word says the emulator died: wake the other waiters and end the process. */
__attribute__((noreturn)) void hh_shim_emulator_died(void);

/* False if HELHOST_SPIN_NS turned spinning off: then no call is posted in the slot either. */
bool hh_shim_may_spin(void);
/* This thread may use one CPU only, and the emulator answered its last call from it. */
bool hh_shim_shares_emulator_cpu(void);

/* The ring of submissions (ring.c; callpage.h, struct hh_ring). */
/* HH_KNOWN_HANDLE: a handle that exists, of any kind (a lane or queue known is one too). */
enum hh_shim_kind { HH_KNOWN_QUEUE = 1, HH_KNOWN_LANE, HH_KNOWN_HANDLE };
/* What the cache is valid for: the removal epoch and libhel's close generation. */
struct hh_shim_view {
	uint64_t epoch, gen;
};
/* Registration: does the process still need its ring page, and here are its fds. */
bool hh_shim_ring_wanted(void);
void hh_shim_ring_take(int ring_fd, int wake_fd);
void hh_shim_ring_fork_child(void);
/* Around a trapped call: it may add a pending operation (struct hh_procpage). */
bool hh_shim_ring_trap_begin(void);
void hh_shim_ring_trap_end(bool claimed);
/* The view now (read before a call whose answer teaches something). */
struct hh_shim_view hh_shim_ring_view(void);
/* The answer of a call made since view was read says h is of kind. */
void hh_shim_ring_learn(struct hh_shim_view view, HelHandle h, enum hh_shim_kind kind, uint64_t chunk_size);
/* Whether the cache, valid at view, knows h as kind (and its chunk size, 0 if unknown). */
bool hh_shim_ring_known(struct hh_shim_view view, HelHandle h, enum hh_shim_kind kind, uint64_t *chunk_size);
/* Before a sleep: trap if this thread's ring holds entries not drained; true if it trapped. */
bool hh_shim_ring_flush(void);
/* Whether this thread posts now at all (before any work to prepare an entry). */
bool hh_shim_ring_ready(void);
/* Around each submission, posted or trapped: the thread's rhythm (ring.c). */
void hh_shim_ring_submission_begins(void);
void hh_shim_ring_submitted(void);
/*
 * Post a call whose synchronous checks passed at view: true with its
 * answer in *result, false if it must take the trap instead.
 */
bool hh_shim_ring_post(struct hh_shim_view view, uint32_t call, const uint64_t *args, size_t nargs, uint32_t count,
		const void *extra, size_t extra_len, HelError *result);
/* Queue helCloseDescriptor(kHelThisUniverse, h): true with its answer in *result, false: trap. */
bool hh_shim_ring_close(HelHandle h, HelError *result);
/* Wait until *done is no longer seen: the emulator answered a call in the polled slot (local.c). */
void hh_shim_await_answer(uint32_t *done, uint32_t seen, uint32_t *sleeping);

/* Death of the process with a message: the emulator is gone or refused us. */
__attribute__((noreturn)) void hh_shim_fatal(const char *msg);

#endif
