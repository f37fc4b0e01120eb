#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barrier.h"
#include "calls.h"
#include "process.h"
#include "queue.h"
#include "quota.h"
#include "thread.h"
#include "trace.h"
#include "universe.h"

/*
 * helSubmitAsync's decoder reads the actions and inline bytes from a call
 * page: an entry's are copied into this one (never into the program's
 * page, which it may change under us), so it decodes exactly as a trap.
 */
static struct hh_callpage scratch;

static bool copy_inline(const unsigned char *entry, const struct hh_ring_entry *hdr)
{
	size_t len = hdr->size - sizeof(*hdr);
	if (len > sizeof(scratch.in_data))
		return false;
	memcpy(scratch.in_data, entry + sizeof(*hdr), len);
	scratch.in_len = (uint32_t)len;
	scratch.in_flags = HH_IN_ACTIONS;
	return true;
}

/* Only what libhel posts; anything else in an entry is the program's garbage. */
static bool queueable(const struct hh_ring_entry *hdr)
{
	return hdr->call == kHelCallSubmitAsyncNop || hdr->call == kHelCallSubmitAsync ||
		hdr->call == kHelCallCloseDescriptor;
}

/* One entry, decoded exactly as the same call through a trap would be. */
static HelError process_entry(struct hh_thread *t, const unsigned char *entry, const struct hh_ring_entry *hdr)
{
	struct hh_call c;
	c.results = NULL;
	c.thread = t;
	c.proc = t->proc;
	c.universe = t->proc->universe;
	c.number = hdr->call;
	memset(c.arg, 0, sizeof(c.arg));
	memcpy(c.arg, hdr->arg, sizeof(hdr->arg));
	c.out[0] = c.out[1] = 0;
	c.plan.count = 0;
	c.why[0] = 0;
	c.queued = true;
	c.reserved = 0;         /* libhel made room for it when it posted */
	scratch.in_flags = 0;
	c.page = &scratch;
	if (!queueable(hdr) || (hdr->call == kHelCallSubmitAsync && !copy_inline(entry, hdr)))
		return kHelErrIllegalArgs;
	HelError error;
	if (hh_trace_enabled()) {
		struct hh_trace_line line;
		hh_trace_begin(&line, &c);
		uint64_t start = hh_now();
		error = hh_call_dispatch(&c);
		hh_trace_end(&line, &c, error, hh_now() - start);
	} else {
		error = hh_call_dispatch(&c);
	}
	/*
	 * The submission's queue, for the thread's flush (HH_CALL_RING_SYNC),
	 * whose answer may then wait like a trapped submission's (trap.c, held
	 * answers): the last one is kept, the reference of any before dropped.
	 */
	if (c.results) {
		struct hh_queue *old = t->ring_results;
		t->ring_results = c.results;
		t->ring_results_posts = c.results_posts;
		c.results = old;
	}
	hh_call_awaits_result(&c);
	return error;
}

static void abandon(struct hh_thread *t)
{
	t->ring_dead = true;
	__atomic_store_n(&t->page->ring.dead, 1, __ATOMIC_RELEASE);
	fprintf(stderr, "helhost: %s[%d] thread %d: garbage in its ring of submissions; "
			"its calls go on by trap\n", t->proc->name, (int)t->proc->pid, (int)t->tid);
}

/*
 * Set while rings are drained.  A queued close removes a handle inside the
 * drain: its before_removal moves the epochs and drains nothing (the merge
 * goes on in stamp order), so a drain never recurses.
 */
static bool draining;

/* The next entry of t's ring, padding skipped: its size (header in *hdr), 0 when empty, -1 abandoned. */
static int peek(struct hh_thread *t, struct hh_ring_entry *hdr)
{
	if (!t->proc || !t->page || t->ring_dead)
		return 0;
	struct hh_ring *r = &t->page->ring;
	for (;;) {
		/* Acquire: the entry's bytes, written before libhel published tail. */
		int size = hh_ring_next(r->data, t->ring_head, hh_load_acquire(&r->tail), hdr);
		if (size < 0)
			abandon(t);
		if (size <= 0 || hdr->call != 0)
			return size;
		t->ring_head += (uint32_t)size;
		hh_store_release(&r->head, t->ring_head);
	}
}

/* Process the entry peek found at t's head and pass it. */
static void consume(struct hh_thread *t, const struct hh_ring_entry *hdr)
{
	struct hh_ring *r = &t->page->ring;
	unsigned char *entry = r->data + t->ring_head % HH_RING_BYTES;
	HelError verdict = process_entry(t, entry, hdr);
	/* The call cannot end its own thread's page: only the thread's or its program's end does, from the loop. */
	__atomic_store_n((int32_t *)(entry + offsetof(struct hh_ring_entry, verdict)), verdict,
			__ATOMIC_RELAXED);
	t->ring_head += hdr->size;
	/* Release: the verdict before libhel sees the entry consumed. */
	hh_store_release(&r->head, t->ring_head);
	struct hh_ring_proc *rp = t->proc ? t->proc->ring : NULL;
	/* Only submissions hold a token of the pending limit (callpage.h, struct hh_procpage). */
	if (rp && hdr->call == kHelCallSubmitAsync) {
		hh_ring_publish(t->proc);
		/* Release: the pending count before it, for libhel's reckoning of room. */
		hh_store_release(&rp->page->drained, ++rp->drained);
	}
}

#define MERGE_MAX 64

/*
 * Whether an entry is one to drain now, whose stamp says it was made
 * before since (taken after the doorbells were read): an entry made later
 * rang its doorbell after we looked and is drained next time.  Whatever
 * libhel made before it told anyone of it (so before anything that could
 * make another entry depend on it) was published before such a later
 * entry was even stamped, so it is visible now and comes first.  A stamp
 * in the future is garbage: it could never be drained.
 */
static bool due(struct hh_thread *t, const struct hh_ring_entry *hdr, uint64_t since)
{
	if (hdr->stamp < since)
		return true;
	if (hdr->stamp > hh_now())
		abandon(t);
	return false;
}

/*
 * Drain the rings of ts[n] together, oldest stamp first, so that an entry
 * posted after its poster learnt (by any means) of another entry comes
 * after it.  The threads are referenced by the caller.
 */
static void release_wakes(struct hh_deferred *d)
{
	(void)d;
	hh_queue_hold_wakes(false);
}

/*
 * The elements of what a drain submits are written now and by the
 * deferred work it queues (a transfer's completion): their wakes wait for
 * that work, queued after it, so that a program sharing our CPU is woken
 * once for all of them.
 */
static struct hh_deferred wakes_after_drain = { .cb = release_wakes };

static size_t merge(struct hh_thread **ts, size_t n)
{
	size_t done = 0;
	if (!n)
		return 0;
	uint64_t since = hh_now();
	draining = true;
	hh_queue_hold_wakes(true);
	for (;;) {
		struct hh_ring_entry hdr, best_hdr;
		size_t best = n;
		for (size_t i = 0; i < n; i++) {
			if (!ts[i] || peek(ts[i], &hdr) <= 0 || !due(ts[i], &hdr, since)) {
				ts[i] = NULL;
				continue;
			}
			if (best == n || hdr.stamp < best_hdr.stamp) {
				best = i;
				best_hdr = hdr;
			}
		}
		if (best == n)
			break;
		consume(ts[best], &best_hdr);
		done++;
	}
	/* After the deferred work the entries queued (a transfer's completion). */
	hh_defer(&wakes_after_drain);
	draining = false;
	return done;
}

/* Gather the threads of the processes pick() accepts whose rings hold entries, and merge them. */
static bool drain_some(bool (*pick)(struct hh_process *p, const void *arg), const void *arg)
{
	size_t done = 0;
	if (draining)
		return false;
	struct hh_thread *ts[MERGE_MAX], *held[MERGE_MAX];
	size_t n = 0;
	for (struct hh_process *p = hh_process_list(); p; p = p->next) {
		if (!p->ring || !pick(p, arg))
			continue;
		for (struct hh_thread *t = p->threads; t; t = t->next_in_proc) {
			if (!hh_ring_undrained(t))
				continue;
			if (n == MERGE_MAX) {
				/* More rings than we merge at once: the rest drain after, each in its order. */
				done += merge(ts, n);
				for (size_t i = 0; i < n; i++)
					hh_object_unref(&held[i]->base);
				n = 0;
			}
			hh_object_ref(&t->base);
			ts[n] = held[n] = t;
			n++;
		}
	}
	done += merge(ts, n);
	for (size_t i = 0; i < n; i++)
		hh_object_unref(&held[i]->base);
	return done > 0;
}

void hh_ring_drain_thread(struct hh_thread *t)
{
	if (draining)
		return;
	struct hh_thread *one = t;
	merge(&one, 1);
}

static bool doorbell_moved(struct hh_process *p, const void *arg)
{
	(void)arg;
	/* Acquire: the tails libhel published before it rang. */
	uint32_t bell = hh_load_acquire(&p->ring->page->doorbell);
	if (bell == p->ring->seen_doorbell)
		return false;
	p->ring->seen_doorbell = bell;
	return true;
}

bool hh_ring_drain_all(void)
{
	return drain_some(doorbell_moved, NULL);
}

static bool is_process(struct hh_process *p, const void *arg)
{
	return p == arg;
}

static bool submits_to(struct hh_process *p, const void *universe)
{
	return p->universe == universe;
}

size_t hh_ring_reserved(const struct hh_process *p)
{
	if (!p->ring)
		return 0;
	/* The program's own counters: wrong ones only refuse its own submissions. */
	/* Given back before claimed: never more than the claims we then read. */
	uint32_t unclaimed = hh_load_acquire(&p->ring->page->unclaimed);
	uint32_t claims = __atomic_load_n(&p->ring->page->claims, __ATOMIC_SEQ_CST);
	uint32_t taken = claims - unclaimed - p->ring->drained;
	return taken <= HH_RING_BYTES ? taken : HH_RING_BYTES;
}

void hh_ring_publish(struct hh_process *p)
{
	if (p->ring)
		__atomic_store_n(&p->ring->page->pending, (uint32_t)p->pending.count, __ATOMIC_RELAXED);
}

uint32_t hh_ring_undrained(const struct hh_thread *t)
{
	if (!t->page || t->ring_dead)
		return 0;
	return hh_load_relaxed(&t->page->ring.tail) - t->ring_head;
}

/*
 * A handle is about to leave u: move the epoch of every process that
 * submits against u, then drain their rings (libhel publishes, fences and
 * reads the epoch; we move it, fence and look at what is published), so
 * that a submission libhel answered kHelErrNone for still finds its
 * handle, and any later one makes libhel ask for its verdict.
 */
static void before_removal(struct hh_universe *u)
{
	for (struct hh_process *p = hh_process_list(); p; p = p->next)
		if (p->ring && p->universe == u)
			__atomic_store_n(&p->ring->page->epoch, ++p->ring->epoch, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	drain_some(submits_to, u);
}

/*
 * Before the loop sleeps: say so in every ring page, fence, and drain
 * once more; libhel publishes, fences and wakes us if it finds the flag.
 * True if anything was drained (then the loop does not sleep yet).
 */
static bool before_sleep(void)
{
	bool any = false;
	for (struct hh_process *p = hh_process_list(); p; p = p->next)
		if (p->ring)
			__atomic_store_n(&p->ring->page->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (struct hh_process *p = hh_process_list(); p; p = p->next)
		if (p->ring && hh_load_acquire(&p->ring->page->doorbell) != p->ring->seen_doorbell)
			any = true;
	if (any)
		hh_ring_drain_all();
	return any;
}

static void after_wake(void)
{
	/* Relaxed: only spares libhel eventfd writes; a stale 1 costs one. */
	for (struct hh_process *p = hh_process_list(); p; p = p->next)
		if (p->ring)
			__atomic_store_n(&p->ring->page->sleeping, 0, __ATOMIC_RELAXED);
}

static void arm_wake(struct hh_ring_proc *r);

/* Ring pages whose image went while their eventfd read was armed: freed when it ends. */
static struct hh_ring_proc *gone;

static void wake_event(struct hh_watcher *w, int res)
{
	struct hh_ring_proc *r = (struct hh_ring_proc *)((char *)w - offsetof(struct hh_ring_proc, wake));
	(void)res;
	if (r->wake_fd < 0) {
		struct hh_ring_proc **link = &gone;
		while (*link != r)
			link = &(*link)->next_gone;
		*link = r->next_gone;
		free(r);
		return;
	}
	hh_ring_drain_all();
	arm_wake(r);
}

static void arm_wake(struct hh_ring_proc *r)
{
	/* A read, so that each wake is consumed: a poll would stay ready. */
	hh_loop_read(&r->wake, r->wake_fd, &r->wake_count, sizeof(r->wake_count));
}

void hh_ring_take_results(struct hh_thread *t, struct hh_call *c)
{
	c->results = t->ring_results;
	c->results_posts = t->ring_results_posts;
	t->ring_results = NULL;
}

static void before_end(struct hh_thread *t)
{
	/* Published entries are submissions: the thread's end does not lose them. */
	if (t->proc && t->proc->ring)
		drain_some(is_process, t->proc);
	if (t->ring_results)
		hh_object_unref(&t->ring_results->base);
	t->ring_results = NULL;
}

int hh_ring_proc_fds(struct hh_process *p, int *memfd, int *wake_fd)
{
	if (!p->ring) {
		struct hh_ring_proc *r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->memfd = memfd_create("helhost-ring-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		void *page = MAP_FAILED;
		if (r->memfd >= 0 && ftruncate(r->memfd, 4096) == 0 &&
				fcntl(r->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
			page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
		if (page == MAP_FAILED || r->wake_fd < 0) {
			int err = errno;
			if (r->memfd >= 0)
				close(r->memfd);
			if (r->wake_fd >= 0)
				close(r->wake_fd);
			free(r);
			return -err;
		}
		r->page = page;
		r->page->pending_max = (uint32_t)hh_limits()->pending;
		r->wake.cb = wake_event;
		arm_wake(r);
		p->ring = r;
	}
	*memfd = p->ring->memfd;
	*wake_fd = p->ring->wake_fd;
	return 0;
}

void hh_ring_proc_gone(struct hh_process *p)
{
	drain_some(is_process, p);
	struct hh_ring_proc *r = p->ring;
	if (!r)
		return;
	p->ring = NULL;
	munmap(r->page, 4096);
	close(r->memfd);
	close(r->wake_fd);
	r->wake_fd = -1;
	/* An armed read holds r: it is freed when its cancellation completes. */
	if (!r->wake.armed) {
		free(r);
		return;
	}
	r->next_gone = gone;
	gone = r;
	hh_loop_cancel(&r->wake);
}

void hh_ring_init(void)
{
	hh_universe_on_removal(before_removal);
	hh_thread_on_end(before_end);
	hh_process_on_image_gone(hh_ring_proc_gone);
	hh_loop_on_sleep(before_sleep, after_wake);
}
