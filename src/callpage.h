/*
 * The one contract between libhel (shim/) and the emulator (src/).
 *
 * Each thread of a hosted program owns one call page: a page of a memfd that
 * the thread and the emulator both map.  A Hel call writes its number and
 * arguments into the page and issues the trap syscall; seccomp turns that
 * syscall into a user notification for the emulator, which reads the page,
 * writes the outputs back into it and answers the notification with the
 * HelError as the syscall's return value.  Nothing else is shared between the
 * two sides, so every field below says who writes it and who reads it.
 */
#ifndef HH_CALLPAGE_H
#define HH_CALLPAGE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/user.h>

#include "hel.h"

/* A syscall number far outside Linux's table; only the filter knows it. */
#define HH_TRAP_NR 0x4855u

/*
 * First argument of the trap syscall.  A registered thread passes the token
 * the emulator gave it; token 0 registers the calling thread, with the call
 * page's memfd number as the second argument.  The memfd must be sealed
 * against shrinking (F_SEAL_SHRINK): the emulator keeps it mapped.
 */
#define HH_TOKEN_REGISTER 0

/* Calls of the shim itself, numbered past every Hel call number. */
enum hh_internal_call {
	/* An address-space change the shim could not carry out: forget it. */
	HH_CALL_MAP_UNDO = 0x10000,
	/* A call the shim served locally, reported for the trace. */
	HH_CALL_TRACE_LOCAL,
	/* The program is about to fork: keep a copy of its universe and space (out0: its id). */
	HH_CALL_FORK_PREPARE,
	/* Debug query for tests: how many fork images wait to be claimed (out0). */
	HH_CALL_FORK_IMAGES,
	/*
	 * The process's userfaultfd (arg0: its fd number), made by the shim
	 * before its first mapping of managed frontal memory: the emulator takes
	 * a copy and resolves the faults of every range registered with it.
	 */
	HH_CALL_FAULTS_FD,
	/*
	 * A mapping of managed frontal memory is registered (arg0, arg1: its
	 * address and length): the emulator maps the pages that are there.
	 */
	HH_CALL_FAULTS_POPULATE,
	/*
	 * The thread has carried out its staged write (stage_state below):
	 * arg0 is 0, or nonzero if the receive buffer was not writable.
	 */
	HH_CALL_STAGE_DONE,
	/*
	 * The thread's ring holds a submission posted while the removal epoch
	 * moved: the emulator drains the ring (as before any call) and the
	 * shim reads the entry's verdict (struct hh_ring_entry).
	 */
	HH_CALL_RING_SYNC,
	/* helhost.h's registry; these run through the call table like Hel calls. */
	HH_CALL_PUBLISH = 0x10100,
	HH_CALL_UNPUBLISH,
	HH_CALL_SUBMIT_LOOKUP,
	/*
	 * The register image page of the thread handle arg0 (struct
	 * hh_image_page): the emulator sends its memfd on the thread's
	 * socketpair, as one message of hh_send_fds, before it answers.
	 */
	HH_CALL_THREAD_IMAGE,
	HH_CALL_INTERNAL_LAST
};

/* Address-space changes the shim performs after the reply, in order. */
enum hh_mm_kind {
	HH_MM_MAP = 1,      /* mmap(addr, len, prot, MAP_SHARED|fixed mode, fd, offset) */
	HH_MM_UNMAP,        /* remove [addr, addr+len): re-reserve in the arena, else munmap */
	HH_MM_PROTECT,      /* mprotect(addr, len, prot) */
	HH_MM_KIND_LAST
};

/* How an HH_MM_MAP places its range. */
enum hh_mm_place {
	HH_PLACE_REPLACE = 0,   /* MAP_FIXED: the emulator owns what is there */
	HH_PLACE_NOREPLACE,     /* MAP_FIXED_NOREPLACE: a Linux mapping may be there */
	HH_PLACE_LAST
};

/*
 * Or'ed into hh_mm_op.place of a MAP: the mapping shows managed frontal
 * memory, whose pages the emulator must hand out one by one.  The shim maps
 * it inaccessible, registers it with its userfaultfd (MISSING, MINOR and WP
 * modes), and only then gives it its protection.
 */
#define HH_PLACE_FAULTS 0x100u

struct hh_mm_op {
	uint32_t kind;          /* enum hh_mm_kind */
	int32_t fd;             /* MAP: index of its memfd among those sent with the reply, -1, or HH_MM_FD_HELD */
	uint64_t addr;
	uint64_t len;
	uint64_t offset;        /* MAP: offset into the memfd */
	uint32_t prot;          /* PROT_* bits */
	uint32_t place;         /* MAP: enum hh_mm_place */
};

#define HH_MM_MAX_OPS 64
/*
 * A helMapMemory whose arg[HH_MAP_HELD_ARG] names the object's serial (which
 * the shim had in out[1] of an earlier map) gets no memfd: its MAP op says
 * HH_MM_FD_HELD, and the shim maps the memfd it kept from then.
 */
#define HH_MM_FD_HELD (-2)
#define HH_MAP_HELD_ARG 6
#define HH_INLINE_DATA 4096
/* Bytes of a thread's ring of submissions (struct hh_ring). */
#define HH_RING_BYTES 16384

/* RecvInline capacity. */
#define HH_INLINE_MAX 128
/*
 * Bytes an action's result takes in its submission's element (QUEUES.md
 * §7.2): the decoder and libhel's ring (which answers kHelErrQueueTooSmall
 * only through the decoder) reckon a queue's chunk size with it.
 */
static inline size_t hh_action_result_size(int type)
{
	switch (type) {
	case kHelActionOffer:
	case kHelActionAccept:
	case kHelActionPullDescriptor:
		return sizeof(struct HelHandleResult);
	case kHelActionExtractCredentials:
		return sizeof(struct HelCredentialsResult);
	case kHelActionRecvInline:
		return sizeof(struct HelInlineResultNoFlex) + HH_INLINE_MAX;
	case kHelActionRecvToBuffer:
		return sizeof(struct HelLengthResult);
	default:
		return sizeof(struct HelSimpleResult);
	}
}

/* Bits of hh_callpage.in_flags. */
#define HH_IN_ACTIONS (1u << 0)  /* helSubmitAsync: in_data holds the actions, see below */

/*
 * helSubmitAsync with HH_IN_ACTIONS: in_data holds struct HelAction[count],
 * then uint32_t offset[count], then payload bytes.  offset[i] locates the
 * bytes of a SendFromBuffer of at most 4096 bytes inside in_data, or is
 * HH_NOT_INLINE when the emulator must read them from the program.
 */
#define HH_NOT_INLINE 0xffffffffu
#define HH_CALL_MAX_ARGS 9
#define HH_TRACE_ARGS 6

/*
 * The alive page: the emulator owns the word at this offset as a robust
 * futex (its tid); Linux sets FUTEX_OWNER_DIED there when the emulator dies.
 */
#define HH_ALIVE_WORD_OFFSET 64

/* Bits of hh_callpage.emu_flags. */
#define HH_EMU_TRACE (1u << 0)  /* report locally served calls with HH_CALL_TRACE_LOCAL */

struct hh_callpage {
	/* Written by the shim before each trap; read by the emulator. */
	uint32_t call;                      /* Hel call number or enum hh_internal_call */
	uint32_t internal;                  /* nonzero: libhel's own bookkeeping, not the program's */
	uint64_t arg[HH_CALL_MAX_ARGS];     /* in Managarm's argument order (ABI.md §5) */

	/* Written by the emulator before it answers; read by the shim after. */
	uint64_t out[2];                    /* out0 (rsi) and out1 (rdx) of the real kernel */
	uint32_t mm_count;                  /* entries of mm[] to carry out */
	uint32_t emu_flags;                 /* HH_EMU_* bits; valid from the registration reply on */
	struct hh_mm_op mm[HH_MM_MAX_OPS];

	/* Written by the shim once, before the registration trap; read by the emulator. */
	int32_t tid;
	int32_t pid;
	uint64_t image_nonce;               /* changes on exec and in a fork's child */
	uint64_t arena_base;                /* the program's reserved range for Hel mappings */
	uint64_t arena_len;
	uint32_t want_alive;                /* the process has no alive page mapped yet */
	uint32_t want_ring;                 /* the process has no ring page mapped yet (struct hh_procpage) */
	uint64_t fork_image;                /* a fork child's first registration: the id of its image */
	/*
	 * The thread's end of a socketpair (AF_UNIX, SOCK_SEQPACKET) that the
	 * emulator takes like the call page.  When a reply's plan maps memory,
	 * the emulator sends one message on it before the reply: a uint32_t
	 * count and the memfds as SCM_RIGHTS, in the order hh_mm_op.fd names.
	 */
	int32_t sock;
	/* Registration reply: the alive page's memfd installed in the program, or -1. */
	int32_t alive_fd;
	/* Registration reply to want_ring: the ring page's memfd and the wake eventfd, or -1. */
	int32_t ring_fd;
	int32_t wake_fd;
	uint32_t reserved3;

	/* HH_CALL_TRACE_LOCAL: written by the shim, read by the emulator. */
	uint32_t trace_call;
	int32_t trace_error;
	uint64_t trace_ns;
	uint64_t trace_arg[HH_TRACE_ARGS];
	uint64_t trace_out[2];

	/*
	 * Written by the shim with a call's arguments; read by the emulator.
	 * Bytes the shim copied from memory it knows to be readable (its stack,
	 * Hel mappings), so that the emulator need not read the program's memory.
	 */
	uint32_t in_flags;
	uint32_t in_len;
	unsigned char in_data[HH_INLINE_DATA];

	/*
	 * A staged write: a message received into this program's private
	 * memory during a posted call, written by the calling thread itself
	 * (a process_vm_writev or /proc/PID/mem write costs ~2 µs; thor, too,
	 * writes a received buffer on a thread of the receiver, STREAMS.md Q5).
	 * Before it answers, the emulator puts the bytes at the start of
	 * in_data (the call's inputs are consumed by then), their destination
	 * in stage_addr and stage_len, and sets stage_state to STAGED.  The
	 * shim moves STAGED to COPYING with a compare-and-swap, writes the
	 * bytes if the destination is writable, and calls HH_CALL_STAGE_DONE;
	 * the emulator writes the receive's element only then, so the bytes
	 * are in place before anyone can see the element.  Should the thread
	 * make another call while the page still says STAGED (a signal handler
	 * that left libhel), the emulator takes the write back (STAGED to
	 * NONE) and makes it itself; while it says COPYING the write is the
	 * thread's.  Written by the emulator except for that one move.
	 */
	uint32_t stage_state;               /* enum hh_stage_state */
	uint32_t stage_len;
	uint64_t stage_addr;

	/*
	 * The polled slot: a call without a trap while the emulator watches
	 * this page (io_uring's SQPOLL idea, with a synchronous answer).  The
	 * shim writes the call exactly as for a trap, then moves slot_state
	 * from WATCHED to POSTED with a compare-and-swap; any other state
	 * means nobody watches, and it traps instead.  The emulator serves a
	 * POSTED call like a trapped one, stores the HelError in slot_result,
	 * moves slot_state on (to WATCHED, or IDLE when it stops watching) and
	 * then increments slot_done, which the shim waits on; it wakes that
	 * futex only when slot_sleeping says the shim sleeps.  Only the
	 * emulator moves slot_state away from POSTED or to WATCHED, so a call
	 * is served exactly once, and a program killed before its
	 * compare-and-swap has posted nothing.  A cache line of their own: the
	 * emulator polls it.
	 */
	_Alignas(64) uint32_t slot_state;   /* enum hh_slot_state; see above */
	uint32_t slot_done;                 /* written by the emulator: calls answered so far */
	int32_t slot_result;                /* written by the emulator: the last answer's HelError */
	uint32_t slot_sleeping;             /* written by the shim: 1 while it sleeps on slot_done */
	/*
	 * Written by the emulator with every answer (trap or slot): the CPU it
	 * served the call on.  A thread allowed a single CPU spins before it
	 * sleeps only if that is not the emulator's (shim/local.c).
	 */
	int32_t emu_cpu;

	/* Submissions that need no trap: see struct hh_ring below. */
	_Alignas(4096) struct hh_ring {
		/* libhel: bytes of data[] published so far (free-running), with a release store. */
		_Alignas(64) uint32_t tail;
		/* emulator: nonzero once it has abandoned the ring (garbage): calls trap. */
		uint32_t dead;
		/* emulator: bytes of data[] consumed so far (free-running); every entry before has its verdict. */
		_Alignas(64) uint32_t head;
		_Alignas(64) unsigned char data[HH_RING_BYTES];
	} ring;
};

enum hh_stage_state {
	HH_STAGE_NONE = 0,      /* nothing staged */
	HH_STAGE_STAGED,        /* bytes wait in in_data for the thread to write them */
	HH_STAGE_COPYING,       /* the thread took them */
	HH_STAGE_STATE_LAST
};

enum hh_slot_state {
	HH_SLOT_IDLE = 0,       /* nobody watches: trap */
	HH_SLOT_WATCHED,        /* the emulator polls the page: a call may be posted */
	HH_SLOT_POSTED,         /* a call waits in the page for the emulator */
	HH_SLOT_STATE_LAST
};

_Static_assert(sizeof(struct hh_callpage) <= 8192 + 4096 + HH_RING_BYTES, "the call page and its ring");

/*
 * The ring: submissions that need no trap (issue 12).  libhel posts
 * helSubmitAsyncNop, and helSubmitAsync of the actions whose synchronous
 * checks it can make exactly, when it knows the handles are good: a handle
 * it learnt from an answer of the emulator is good until the handle is
 * removed from the universe, and every removal moves the process page's
 * epoch first.  It also posts helCloseDescriptor(kHelThisUniverse, h) of a
 * handle it knows exists (shim/ring.c: its own close generation keeps its
 * threads' caches true until the drain removes h).  An entry is a header,
 * then for helSubmitAsync the
 * struct HelAction[count], uint32_t offset[count] and the inline bytes,
 * laid out as in_data (HH_IN_ACTIONS).  Entries do not wrap: call 0 pads
 * to the end of data[].  libhel writes the entry, publishes tail (release),
 * bumps the process page's doorbell (seq-cst) and reads the epoch again:
 * unchanged, the emulator will drain the entry before any removal and the
 * answer is kHelErrNone; changed, libhel traps (HH_CALL_RING_SYNC) and
 * returns the entry's verdict.  The emulator drains every ring before it
 * serves any call, before it removes a handle, before it sleeps, and
 * before a program's universe goes; it checks entries like any call's
 * arguments and abandons a ring whose indices or sizes are garbage.
 */
struct hh_ring_entry {
	uint32_t size;          /* libhel: the whole entry, a multiple of 8 */
	uint32_t call;          /* libhel: kHelCallSubmitAsyncNop, kHelCallSubmitAsync or kHelCallCloseDescriptor; 0 pads */
	int32_t verdict;        /* emulator: the decoder's HelError, before head passes the entry */
	uint32_t count;         /* libhel: helSubmitAsync's action count */
	uint64_t epoch;         /* libhel: the epoch it checked the handles under */
	uint64_t stamp;         /* libhel: CLOCK_MONOTONIC ns before it published: rings drain in this order */
	uint64_t arg[6];        /* libhel: the call's arguments, as in hh_callpage.arg */
};

/* The verdict of an entry the emulator has not processed. */
#define HH_RING_NO_VERDICT INT32_MIN

/*
 * The ring page: one per process image, a memfd page both sides map and
 * write (a program that scribbles on it harms only its own submissions).
 */
struct hh_procpage {
	/* emulator: moved before any handle leaves the process's universe. */
	uint64_t epoch;
	/* emulator: 1 when it is about to sleep; libhel takes it back to 0 and writes the wake eventfd. */
	uint32_t sleeping;
	/*
	 * The pending limit (HELHOST_MAX_PENDING) as a count of tokens: a
	 * pending operation holds one, and so does an entry from the moment
	 * libhel claims room for it until the emulator drains it.  emulator:
	 * the process's pending operations (stored before it answers a call
	 * and before drained moves), the limit, and the entries it has
	 * drained (release).  libhel: entries claimed (seq-cst) and claims
	 * given back unused.  libhel posts only when the pending count, its
	 * calls in flight and the entries claimed and not drained leave room;
	 * the decoder of a trapped call counts the entries claimed and not
	 * drained as taken.  So a drained entry always finds its room, and a
	 * full list is still the decoder's synchronous kHelErrNoMemory.
	 */
	uint32_t pending;
	uint32_t pending_max;
	uint32_t drained;
	/* libhel: bumped after each entry it publishes, so the emulator looks at this process's rings. */
	_Alignas(64) uint32_t doorbell;
	uint32_t claims;
	uint32_t unclaimed;
};

/* HELHOST_QUEUED=0: every submission traps (for comparison and debugging). */
#define HH_ENV_QUEUED "HELHOST_QUEUED"

/*
 * A thread that libhel makes for helCreateThread in the program's own space
 * (shim/ownthread.c): a raw Linux thread of the program, parked on a futex,
 * that the emulator ptraces and runs as a Hel thread (src/native/ownthread.c).
 * helCreateThread passes its tid (as the program sees it) in arg[6] and
 * this block's address in arg[7].  The block lives until the thread is gone.
 */
#define HH_OWN_MAGIC 0x6f776e7468726438ull      /* "owntdr8", a check that arg[7] is one */

struct hh_own_block {
	uint64_t magic;         /* libhel: HH_OWN_MAGIC */
	uint64_t exit_ip;       /* libhel: the thread's exit(2); the emulator sends it there to end it */
	int64_t deadline[2];    /* emulator: the timespec of a helFutexWait that sleeps in Linux */
	int32_t park;           /* libhel: 0 while the thread waits to be taken; 1: not taken, it leaves */
	int32_t alive;          /* libhel sets 1; Linux clears it when the thread is gone (CLONE_CHILD_CLEARTID) */
	/*
	 * Mapping changes the thread asks for in its program's space: the
	 * emulator runs them as syscalls of the stopped thread at gadget, the
	 * memfds coming over a socketpair of the program's (the emulator takes
	 * the end named by arg[8]; recv is the program's end), one per recvmsg
	 * into msg (libhel sets it up, the emulator resets msg_controllen).
	 */
	uint64_t gadget;        /* libhel: `syscall; int3` */
	int32_t recv;
	int32_t reserved;
	struct msghdr msg;
	struct iovec iov;
	uint32_t count;         /* the message's payload */
	uint32_t reserved2;
	uint64_t control[4];    /* room for CMSG_SPACE(sizeof(int)) */
};

/*
 * The register image of a thread made by helCreateThread, shared by the
 * emulator with every program that asks for it (HH_CALL_THREAD_IMAGE), so
 * that libhel answers helLoadRegisters and helStoreRegisters of the sets
 * below without a trap.  One page (a memfd) per thread; the emulator drops
 * it, setting HH_IMAGE_DEAD, whenever any handle to the thread is closed,
 * when the thread ends, and when a store was cut short: a handle that named
 * the thread when libhel asked for the page still names it while the page
 * lives, and anything libhel cannot be sure of goes to the emulator.
 *
 * state is a seqlock word, its version bumped by every change:
 *  - the emulator writes regs while the thread does not stop (no STOPPED
 *    bit), then publishes STOPPED with a release store;
 *  - a load copies regs between two reads of state, which must be equal
 *    and STOPPED without BUSY;
 *  - a store takes BUSY with a compare-and-swap from STOPPED, changes regs,
 *    and moves BUSY to its set's DIRTY bit with another compare-and-swap,
 *    which fails if the emulator took the image meanwhile: then it traps;
 *  - before the thread runs again, or the emulator needs its registers,
 *    it exchanges state for one without STOPPED and copies the DIRTY sets
 *    from regs (only their fields); a BUSY it finds is a store cut short,
 *    and the page is dropped, since the late writer may still write there.
 * Everything libhel writes is checked like a store's image: the emulator
 * takes nothing else from the page.
 */
#define HH_IMAGE_STOPPED (1ull << 0)    /* emulator: stopped, and regs is its image */
#define HH_IMAGE_BUSY (1ull << 1)       /* libhel: a store is writing regs */
#define HH_IMAGE_DEAD (1ull << 2)       /* emulator: the page is not the thread's any more */
#define HH_IMAGE_DIRTY(set) (1ull << (8 + (set)))       /* libhel: set stored, not applied yet */
#define HH_IMAGE_VERSION (1ull << 16)   /* the version counts from here up */

struct hh_image_page {
	uint64_t state;                 /* see above */
	uint64_t sequence;              /* emulator: the stop's sequence number (§5.2) */
	struct user_regs_struct regs;   /* in Linux's layout; the Hel images are views of it */
};

/* Bytes of a set's image if an image page carries it, else 0. */
static inline size_t hh_image_set_size(int set)
{
	switch (set) {
	case kHelRegsProgram: return 2 * sizeof(uint64_t);
	case kHelRegsGeneral: return 15 * sizeof(uint64_t);
	case kHelRegsThread: return 2 * sizeof(uint64_t);
	case kHelRegsSignal: return 19 * sizeof(uint64_t);
	default: return 0;
	}
}

/* Where each word of the General image lives, in HelRegisterIndex order. */
static inline unsigned long long *hh_image_general_slot(struct user_regs_struct *r, int i)
{
	unsigned long long *slots[15] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rdi, &r->rsi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15, &r->rbp };
	return slots[i];
}

/* The Signal image: Linux's mcontext order up to cs. */
static inline unsigned long long *hh_image_signal_slot(struct user_regs_struct *r, int i)
{
	unsigned long long *slots[19] = { &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
		&r->r14, &r->r15, &r->rdi, &r->rsi, &r->rbp, &r->rbx, &r->rdx, &r->rax, &r->rcx,
		&r->rsp, &r->rip, &r->eflags, &r->cs };
	return slots[i];
}

/* Set's image (hh_image_set_size bytes) from r, in Hel's layout (ABI.md §3.5). */
static inline void hh_image_load(struct user_regs_struct *r, int set, uint64_t *w)
{
	switch (set) {
	case kHelRegsProgram: w[0] = r->rip; w[1] = r->rsp; break;
	case kHelRegsThread: w[0] = r->fs_base; w[1] = r->gs_base; break;
	case kHelRegsGeneral:
		for (int i = 0; i < 15; i++)
			w[i] = *hh_image_general_slot(r, i);
		break;
	case kHelRegsSignal:
		for (int i = 0; i < 19; i++)
			w[i] = *hh_image_signal_slot(r, i);
		break;
	}
}

/* rflags bits a Signal image may change (OBJECTS.md §5.10). */
#define HH_SIGNAL_FLAGS_MASK 0x218DFFull

/* Set's image w into r: only what a store of that set may change. */
static inline void hh_image_store(struct user_regs_struct *r, int set, const uint64_t *w)
{
	switch (set) {
	case kHelRegsProgram: r->rip = w[0]; r->rsp = w[1]; break;
	case kHelRegsThread: r->fs_base = w[0]; r->gs_base = w[1]; break;
	case kHelRegsGeneral:
		for (int i = 0; i < 15; i++)
			*hh_image_general_slot(r, i) = w[i];
		break;
	case kHelRegsSignal:
		/* Up to rip as given; some rflags bits; cs stays the user selector it must be. */
		for (int i = 0; i < 17; i++)
			*hh_image_signal_slot(r, i) = w[i];
		r->eflags = (r->eflags & ~HH_SIGNAL_FLAGS_MASK) | (w[17] & HH_SIGNAL_FLAGS_MASK);
		break;
	}
}

/*
 * The seccomp filter: the trap syscall becomes a user notification, every
 * other syscall passes untouched.  Installed by the launcher (before exec)
 * and by auto-start (on the whole process).
 */
#define HH_TRAP_FILTER_INIT { \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HH_TRAP_NR, 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
}

/* Filter flags: one listener, all threads, a received call is never interrupted. */
#define HH_TRAP_FILTER_FLAGS (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC | \
	SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)

/*
 * Passing fds over a socketpair: one message holds a uint32_t count and that
 * many fds as SCM_RIGHTS.  The listener travels this way to the emulator, and
 * the memfds of a reply's mappings to the thread that asked.
 */
#define HH_MAX_FDS HH_MM_MAX_OPS

/* Returns 0 or -errno. */
static inline int hh_send_fds(int sock, const int *fds, uint32_t count)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * HH_MAX_FDS)]; } control;
	if (count == 0 || count > HH_MAX_FDS)
		return -EINVAL;
	memset(&control, 0, sizeof(control));
	struct iovec iov = { &count, sizeof(count) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * count) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(count) ? 0 : -errno;
}

/*
 * Receives one message of hh_send_fds into fds[max] (close-on-exec); returns
 * the count or -errno.  A message that does not hold exactly what it says
 * is dropped whole, its fds closed.
 */
static inline int hh_recv_fds(int sock, int *fds, uint32_t max, int flags)
{
	uint32_t count = 0;
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * HH_MAX_FDS)]; } control;
	struct iovec iov = { &count, sizeof(count) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	if (n < 0)
		return -errno;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	uint32_t got = 0;
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
		got = (uint32_t)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	int all[HH_MAX_FDS];
	if (got)
		memcpy(all, CMSG_DATA(cmsg), sizeof(int) * got);
	if (n != (ssize_t)sizeof(count) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
			got != count || count > max) {
		for (uint32_t i = 0; i < got; i++)
			close(all[i]);
		return -EPROTO;
	}
	memcpy(fds, all, sizeof(int) * got);
	return (int)got;
}

/* Environment: trace every call (auto-start), and where the emulator binary is. */
#define HH_ENV_TRACE "HELHOST_TRACE"
#define HH_ENV_EMULATOR "HELHOST_EMULATOR"
#define HH_ENV_SPIN_NS "HELHOST_SPIN_NS"
/* `helhost run --mbus`: the registry name under which the run's mbus publishes its lane. */
#define HH_ENV_MBUS "HELHOST_MBUS"
/* Start-up handles for libhelhost-managarm's peekauxval (compat/managarm.c). */
#define HH_ENV_AUXV "HELHOST_AUXV"

#endif
