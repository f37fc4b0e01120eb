/*
 * Submissions without a trap (callpage.h, struct hh_ring): libhel answers a
 * submission's synchronous checks itself when it knows its handles are
 * good, posts the submission into the thread's ring and returns; the
 * emulator drains the ring before it serves any call, before it removes
 * any handle and before it sleeps.
 *
 * What libhel knows is a small cache per thread: handles the emulator's
 * answers showed to be queues, lanes or merely to exist.  Handles are never
 * reused in a universe, so such a fact holds until the handle is removed,
 * and every removal first moves the removal epoch in the process's ring
 * page.  A close libhel queues itself removes the handle only at the next
 * drain, so it moves libhel's own close generation at once instead: the
 * cache is valid for one view (epoch, generation).  A fact is learnt only
 * from an answer during which the view did not change.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "shim.h"

static struct {
	struct hh_procpage *page;       /* NULL until the emulator gave us one */
	int wake_fd;
	int enabled;                    /* -1 until read */
	/* Calls in flight, which may add a pending operation before their answer says so. */
	uint32_t trap_claims, trap_retired;
	/* Closes queued by this process's threads: each empties every thread's cache. */
	uint64_t close_gen;
} ring_proc = { NULL, -1, -1, 0, 0, 0 };

#define CACHE_SLOTS 32
/* An epoch no ring page shows: an empty cache. */
#define NO_EPOCH UINT64_MAX

struct known {
	HelHandle handle;               /* 0: empty */
	uint32_t kind;                  /* enum hh_shim_kind, never HH_KNOWN_HANDLE's "any" */
	uint64_t chunk_size;            /* queues: 0 when not known */
};

static __thread struct {
	struct hh_shim_view view;
	struct known slot[CACHE_SLOTS];
} cache = { .view.epoch = NO_EPOCH };

void hh_shim_ring_take(int ring_fd, int wake_fd)
{
	void *page = ring_fd >= 0 && wake_fd >= 0 ?
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0) : MAP_FAILED;
	if (ring_fd >= 0)
		close(ring_fd);
	struct hh_procpage *expected = NULL;
	/* Another thread may have registered first: keep one page and one eventfd. */
	if (page != MAP_FAILED && __atomic_compare_exchange_n(&ring_proc.page, &expected, page,
			false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		ring_proc.wake_fd = wake_fd;
		return;
	}
	if (page != MAP_FAILED)
		munmap(page, 4096);
	if (wake_fd >= 0)
		close(wake_fd);
}

bool hh_shim_ring_wanted(void)
{
	return __atomic_load_n(&ring_proc.page, __ATOMIC_ACQUIRE) == NULL;
}

void hh_shim_ring_fork_child(void)
{
	/* The parent's page and eventfd: the child gets its own at its registration. */
	if (ring_proc.page) {
		munmap(ring_proc.page, 4096);
		close(ring_proc.wake_fd);
	}
	ring_proc.page = NULL;
	ring_proc.wake_fd = -1;
	ring_proc.trap_claims = ring_proc.trap_retired = 0;
	cache.view.epoch = NO_EPOCH;
}

static bool enabled(void)
{
	if (ring_proc.enabled < 0) {
		const char *env = getenv(HH_ENV_QUEUED);
		ring_proc.enabled = !(env && *env == '0');
	}
	return ring_proc.enabled && hh_shim_may_spin();
}

struct hh_shim_view hh_shim_ring_view(void)
{
	struct hh_procpage *pp = __atomic_load_n(&ring_proc.page, __ATOMIC_ACQUIRE);
	struct hh_shim_view v;
	v.epoch = pp ? __atomic_load_n(&pp->epoch, __ATOMIC_ACQUIRE) : NO_EPOCH;
	v.gen = __atomic_load_n(&ring_proc.close_gen, __ATOMIC_ACQUIRE);
	return v;
}

static bool same_view(struct hh_shim_view a, struct hh_shim_view b)
{
	return a.epoch == b.epoch && a.gen == b.gen;
}

/* The cache as of view: emptied when a removal or a queued close came since it was filled. */
static void validate(struct hh_shim_view view)
{
	if (same_view(cache.view, view))
		return;
	memset(cache.slot, 0, sizeof(cache.slot));
	cache.view = view;
}

static struct known *slot_of(HelHandle h)
{
	return &cache.slot[(uint64_t)h % CACHE_SLOTS];
}

void hh_shim_ring_learn(struct hh_shim_view view, HelHandle h, enum hh_shim_kind kind, uint64_t chunk_size)
{
	if (view.epoch == NO_EPOCH || h <= 0 || !same_view(hh_shim_ring_view(), view))
		return;         /* a handle may have gone meanwhile: learn nothing */
	validate(view);
	struct known *k = slot_of(h);
	if (k->handle == h && (kind == HH_KNOWN_HANDLE || (k->kind == kind && !chunk_size)))
		return;         /* says nothing we do not know (a nop's answer: not the chunk size) */
	*k = (struct known){ .handle = h, .kind = kind, .chunk_size = chunk_size };
}

bool hh_shim_ring_known(struct hh_shim_view view, HelHandle h, enum hh_shim_kind kind, uint64_t *chunk_size)
{
	if (view.epoch == NO_EPOCH)
		return false;
	validate(view);
	struct known *k = slot_of(h);
	if (h <= 0 || k->handle != h || (kind != HH_KNOWN_HANDLE && k->kind != kind))
		return false;
	if (chunk_size)
		*chunk_size = k->chunk_size;
	return true;
}

bool hh_shim_ring_trap_begin(void)
{
	if (!__atomic_load_n(&ring_proc.page, __ATOMIC_ACQUIRE))
		return false;
	/* Seq-cst: against a poster's claim, then its read of this count (claim_room). */
	__atomic_fetch_add(&ring_proc.trap_claims, 1, __ATOMIC_SEQ_CST);
	return true;
}

void hh_shim_ring_trap_end(bool claimed)
{
	/* Release: after the answer, whose pending count the emulator published before it. */
	if (claimed)
		__atomic_fetch_add(&ring_proc.trap_retired, 1, __ATOMIC_RELEASE);
}

/*
 * Room in the pending limit for one more submission (callpage.h, struct
 * hh_procpage): the counts that only grow are read before the claim, so
 * that nothing retired is missing from what was claimed; the pending count
 * last, so that whatever was retired or drained is in it.
 */
static bool claim_room(struct hh_procpage *pp)
{
	uint32_t drained = __atomic_load_n(&pp->drained, __ATOMIC_ACQUIRE);
	uint32_t unclaimed = __atomic_load_n(&pp->unclaimed, __ATOMIC_ACQUIRE);
	uint32_t retired = __atomic_load_n(&ring_proc.trap_retired, __ATOMIC_ACQUIRE);
	uint32_t claims = __atomic_add_fetch(&pp->claims, 1, __ATOMIC_SEQ_CST);
	uint32_t traps = __atomic_load_n(&ring_proc.trap_claims, __ATOMIC_SEQ_CST);
	uint32_t pending = __atomic_load_n(&pp->pending, __ATOMIC_ACQUIRE);
	uint64_t used = (uint64_t)pending + (uint32_t)(claims - drained - unclaimed) + (uint32_t)(traps - retired);
	if (used <= __atomic_load_n(&pp->pending_max, __ATOMIC_RELAXED))
		return true;
	__atomic_fetch_add(&pp->unclaimed, 1, __ATOMIC_RELEASE);
	return false;
}

/*
 * A thread that makes one submission and then waits for it (a ping-pong, a
 * server that answers one request at a time) gains nothing from the ring:
 * its wait drains the entry with a trap anyway, and the post and the drain
 * cost more than the trapped submission did (~1 µs a round trip,
 * docs/PERFORMANCE.md, "The rhythm").  After two such turns in a row, a
 * submission made right after a wait traps, so that its element is there
 * when it returns (or its answer waits for it: held answers), and the trap
 * stands for the wait.  About one such submission in PROBE_EVERY, drawn at
 * random, is posted all the same: a thread that has gone on to batches (a
 * second submission before it waits) finds its way back to the ring.  At
 * random, because a probe that always fell on the last submission of a
 * batch (every 16th of batches of 4) would see it as a lone one forever.
 */
static __thread struct {
	uint32_t since_wait;            /* submissions since the thread last went to wait */
	uint32_t lone_turns;            /* waits in a row that followed exactly one submission */
	uint32_t draw;                  /* xorshift state for the probes; 0 until seeded */
	bool trap_now;                  /* the rhythm's choice for the submission being made */
} rhythm;

#define LONE_TURNS_TO_TRAP 2
#define PROBE_EVERY 16

/* One chance in PROBE_EVERY. */
static bool probe(void)
{
	uint32_t x = rhythm.draw ? rhythm.draw : (uint32_t)(uintptr_t)&rhythm | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rhythm.draw = x;
	return x % PROBE_EVERY == 0;
}

void hh_shim_ring_submission_begins(void)
{
	rhythm.trap_now = rhythm.lone_turns >= LONE_TURNS_TO_TRAP && rhythm.since_wait == 0 &&
		!probe();
}

void hh_shim_ring_submitted(void)
{
	if (rhythm.trap_now)
		rhythm.since_wait = 0;  /* the trap was its wait */
	else if (rhythm.since_wait < UINT32_MAX)
		rhythm.since_wait++;
	rhythm.trap_now = false;
}

/* The thread is about to wait: a wait with no submission before it says nothing of the rhythm. */
static void note_wait(void)
{
	if (!rhythm.since_wait)
		return;
	if (rhythm.since_wait > 1)
		rhythm.lone_turns = 0;
	else if (rhythm.lone_turns < LONE_TURNS_TO_TRAP)
		rhythm.lone_turns++;
	rhythm.since_wait = 0;
}

bool hh_shim_ring_flush(void)
{
	note_wait();
	struct hh_callpage *page = hh_shim_page();
	if (__atomic_load_n(&page->ring.tail, __ATOMIC_RELAXED) ==
			__atomic_load_n(&page->ring.head, __ATOMIC_ACQUIRE))
		return false;
	/*
	 * About to sleep with entries not drained yet (on the emulator's CPU it
	 * has not run since we woke it): a trap hands it the CPU at once, with
	 * the seccomp wake-up that keeps it here, and the elements may be
	 * there when it answers, where a sleep would need its futex wake too.
	 */
	hh_shim_call(HH_CALL_RING_SYNC, 0, NULL, NULL);
	return true;
}

/* Wake an emulator that said it sleeps; one wake per sleep, whoever takes the flag. */
static void wake(struct hh_procpage *pp)
{
	static const uint64_t one = 1;
	/* Seq-cst: after our doorbell, against the emulator's flag, fence and look (src/host/ring.c). */
	if (__atomic_load_n(&pp->sleeping, __ATOMIC_SEQ_CST) &&
			__atomic_exchange_n(&pp->sleeping, 0, __ATOMIC_SEQ_CST))
		(void)!write(ring_proc.wake_fd, &one, sizeof(one));     /* full: it is awake anyway */
}

/* Room for size bytes at tail, padding to the ring's end if the entry would wrap; its offset or -1. */
static long reserve(struct hh_ring *r, uint32_t *tail, uint32_t size)
{
	/* Acquire: the emulator's verdicts and its use of the bytes, before we reuse them. */
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint32_t off = *tail % HH_RING_BYTES, room = HH_RING_BYTES - off;
	uint32_t need = size > room ? size + room : size;
	if (*tail - head > HH_RING_BYTES || HH_RING_BYTES - (*tail - head) < need)
		return -1;      /* full: the trap drains it */
	if (size > room) {
		struct hh_ring_entry *pad = (struct hh_ring_entry *)(r->data + off);
		pad->size = room;
		pad->call = 0;
		*tail += room;
		off = 0;
	}
	return (long)off;
}

bool hh_shim_ring_ready(void)
{
	struct hh_callpage *page = hh_shim_page();
	/*
	 * Only where a trap costs the most and nothing else helps: on the one
	 * CPU this thread shares with the emulator, where every call is two
	 * switches and the polled slot never serves.  With a core between them
	 * the slot serves the calls of a burst, and a trap wakes a sleeping
	 * emulator on the caller's core where an eventfd would wake it on
	 * another (~50 µs here): measured, posting there was slower
	 * (docs/PERFORMANCE.md, "Queued submissions").
	 */
	return __atomic_load_n(&ring_proc.page, __ATOMIC_ACQUIRE) && enabled() &&
		!__atomic_load_n(&page->ring.dead, __ATOMIC_ACQUIRE) &&
		__atomic_load_n(&page->slot_state, __ATOMIC_RELAXED) != HH_SLOT_WATCHED &&
		hh_shim_shares_emulator_cpu() && !rhythm.trap_now;
}

bool hh_shim_ring_post(struct hh_shim_view view, uint32_t call, const uint64_t *args, size_t nargs, uint32_t count,
		const void *extra, size_t extra_len, HelError *result)
{
	struct hh_callpage *page = hh_shim_page();
	struct hh_procpage *pp = __atomic_load_n(&ring_proc.page, __ATOMIC_ACQUIRE);
	struct hh_ring *r = &page->ring;
	uint32_t size = (uint32_t)((sizeof(struct hh_ring_entry) + extra_len + 7) & ~(size_t)7);
	if (!hh_shim_ring_ready() || size > HH_RING_BYTES / 2)
		return false;
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);      /* ours alone */
	long off = reserve(r, &tail, size);
	bool claimed = call == kHelCallSubmitAsync;
	if (off < 0 || (claimed && !claim_room(pp)))
		return false;
	struct hh_ring_entry *e = (struct hh_ring_entry *)(r->data + off);
	e->size = size;
	e->call = call;
	e->verdict = HH_RING_NO_VERDICT;
	e->count = count;
	e->epoch = view.epoch;
	/*
	 * After whatever told us to submit (and after a close's bump of the
	 * generation, hh_shim_ring_close): rings drain oldest stamp first,
	 * across threads and programs.
	 */
	e->stamp = hh_shim_now();
	memset(e->arg, 0, sizeof(e->arg));
	memcpy(e->arg, args, nargs * sizeof(uint64_t));
	if (extra_len)
		memcpy(e + 1, extra, extra_len);
	/* Release: the entry before the emulator can see it. */
	__atomic_store_n(&r->tail, tail + size, __ATOMIC_RELEASE);
	/*
	 * Seq-cst: published before we read the epoch and the generation again
	 * (Dekker with the emulator's removals, and with a close's bump).
	 */
	__atomic_fetch_add(&pp->doorbell, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pp->epoch, __ATOMIC_SEQ_CST) == view.epoch &&
			__atomic_load_n(&ring_proc.close_gen, __ATOMIC_SEQ_CST) == view.gen) {
		wake(pp);
		*result = kHelErrNone;
		return true;
	}
	/* A handle went (or may go before the entry runs) meanwhile: the entry's own verdict is the answer. */
	hh_shim_call(HH_CALL_RING_SYNC, 0, NULL, NULL);
	int32_t verdict = __atomic_load_n(&e->verdict, __ATOMIC_ACQUIRE);
	if (verdict == HH_RING_NO_VERDICT) {
		/* An abandoned ring never ran it: the trap makes the call. */
		if (claimed)
			__atomic_fetch_add(&pp->unclaimed, 1, __ATOMIC_RELEASE);
		return false;
	}
	*result = (HelError)verdict;
	return true;
}

/*
 * helCloseDescriptor(kHelThisUniverse, h) on a handle the cache knows:
 * posted, removed at the next drain.  The generation moves before the entry
 * is stamped, so that every thread's cache forgets h before anyone can
 * learn that the close returned, and a submission on h that its poster saw
 * answered kHelErrNone was published before the bump (it reads the
 * generation after publishing): its stamp is older and it drains first,
 * while h still exists.  Of two threads closing h at once, the second's
 * bump fails or its re-read differs, and it takes the entry's verdict.
 */
bool hh_shim_ring_close(HelHandle h, HelError *result)
{
	if (!hh_shim_ring_ready())
		return false;   /* before anything else: the common case where a core is free */
	struct hh_shim_view view = hh_shim_ring_view();
	if (!hh_shim_ring_known(view, h, HH_KNOWN_HANDLE, NULL))
		return false;
	uint64_t gen = view.gen;
	/* Seq-cst: against a poster's publish, fence and read of the generation (hh_shim_ring_post). */
	if (!__atomic_compare_exchange_n(&ring_proc.close_gen, &gen, gen + 1, false,
			__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	view.gen = gen + 1;
	const uint64_t args[2] = { (uint64_t)(int64_t)kHelThisUniverse, (uint64_t)(int64_t)h };
	return hh_shim_ring_post(view, kHelCallCloseDescriptor, args, 2, 0, NULL, 0, result);
}
