#include "loop.h"

#include <errno.h>
#include <linux/futex.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "object.h"

/* liburing 2.3 predates these opcodes; the kernel here has them (MECHANISMS.md §8). */
#ifndef IORING_OP_FUTEX_WAIT
#define IORING_OP_FUTEX_WAIT 51
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif

#define RING_ENTRIES 256

static struct {
	struct io_uring ring;
	bool (*before_sleep)(void);
	void (*after_wake)(void);
	struct hh_timer **heap;
	size_t heap_len, heap_cap;
	struct hh_deferred *deferred_head, **deferred_tail;
} loop;

uint64_t hh_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hh_loop_init(void)
{
	/* Completions are only ever reaped by this thread, when it waits: skip the IPIs. */
	int r = io_uring_queue_init(RING_ENTRIES, &loop.ring,
			IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
	if (r == -EINVAL)
		r = io_uring_queue_init(RING_ENTRIES, &loop.ring, 0);
	if (r < 0)
		return r;
	loop.deferred_tail = &loop.deferred_head;
	return 0;
}

void hh_loop_fini(void)
{
	io_uring_queue_exit(&loop.ring);
	free(loop.heap);
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop.ring);
	while (!sqe) {
		/* The submission ring is full: hand what is there to the kernel. */
		io_uring_submit(&loop.ring);
		sqe = io_uring_get_sqe(&loop.ring);
	}
	return sqe;
}

void hh_loop_poll(struct hh_watcher *w, int fd, unsigned events)
{
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
}

void hh_loop_read(struct hh_watcher *w, int fd, void *buf, unsigned len)
{
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
}

void hh_loop_on_sleep(bool (*prepare)(void), void (*woken)(void))
{
	loop.before_sleep = prepare;
	loop.after_wake = woken;
}

void hh_loop_futex_wait(struct hh_watcher *w, uint32_t *addr, uint32_t val)
{
	struct io_uring_sqe *sqe = get_sqe();
	/* Filled by hand: fd = futex2 flags (shared, 32-bit), addr2 = value, addr3 = mask. */
	io_uring_prep_rw(IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32, addr, 0, 0);
	sqe->addr2 = val;
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
}

void hh_loop_cancel(struct hh_watcher *w)
{
	if (!w->armed)
		return;
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_cancel(sqe, w, 0);
	io_uring_sqe_set_data(sqe, NULL);
}

/* ---- timers: a binary min-heap on deadline ---- */

void hh_timer_init(struct hh_timer *t, void (*cb)(struct hh_timer *t))
{
	t->deadline = 0;
	t->heap_index = SIZE_MAX;
	t->cb = cb;
}

static void heap_set(size_t i, struct hh_timer *t)
{
	loop.heap[i] = t;
	t->heap_index = i;
}

static void heap_up(size_t i)
{
	struct hh_timer *t = loop.heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (loop.heap[parent]->deadline <= t->deadline)
			break;
		heap_set(i, loop.heap[parent]);
		i = parent;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct hh_timer *t = loop.heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= loop.heap_len)
			break;
		if (child + 1 < loop.heap_len &&
				loop.heap[child + 1]->deadline < loop.heap[child]->deadline)
			child++;
		if (loop.heap[child]->deadline >= t->deadline)
			break;
		heap_set(i, loop.heap[child]);
		i = child;
	}
	heap_set(i, t);
}

void hh_timer_start(struct hh_timer *t, uint64_t deadline)
{
	if (hh_timer_active(t))
		hh_timer_stop(t);
	if (loop.heap_len == loop.heap_cap) {
		size_t cap = loop.heap_cap ? loop.heap_cap * 2 : 64;
		struct hh_timer **heap = realloc(loop.heap, cap * sizeof(*heap));
		if (!heap) {
			/* Out of memory for the heap: fire at once rather than never. */
			t->deadline = 0;
			t->cb(t);
			return;
		}
		loop.heap = heap;
		loop.heap_cap = cap;
	}
	t->deadline = deadline;
	heap_set(loop.heap_len++, t);
	heap_up(loop.heap_len - 1);
}

void hh_timer_stop(struct hh_timer *t)
{
	if (!hh_timer_active(t))
		return;
	size_t i = t->heap_index;
	t->heap_index = SIZE_MAX;
	struct hh_timer *last = loop.heap[--loop.heap_len];
	if (last == t)
		return;
	heap_set(i, last);
	heap_up(i);
	heap_down(last->heap_index);
}

static bool run_timers(void)
{
	uint64_t now = hh_now();
	bool any = false;
	while (loop.heap_len && loop.heap[0]->deadline <= now) {
		struct hh_timer *t = loop.heap[0];
		hh_timer_stop(t);
		t->cb(t);
		any = true;
	}
	return any;
}

/* ---- deferred callbacks ---- */

void hh_defer(struct hh_deferred *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	*loop.deferred_tail = d;
	loop.deferred_tail = &d->next;
}

static bool run_deferred(void)
{
	bool any = false;
	while (loop.deferred_head) {
		struct hh_deferred *d = loop.deferred_head;
		loop.deferred_head = d->next;
		if (!loop.deferred_head)
			loop.deferred_tail = &loop.deferred_head;
		d->queued = false;
		d->cb(d);
		any = true;
	}
	return any;
}

void hh_loop_settle(void)
{
	while (run_deferred() | hh_object_reap())
		;
}

/* ---- the loop ---- */

static void reap_completions(void)
{
	struct io_uring_cqe *cqe;
	/* Each is marked seen before its callback, which may look for others (hh_loop_other_ready). */
	while (io_uring_peek_cqe(&loop.ring, &cqe) == 0) {
		struct hh_watcher *w = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&loop.ring, cqe);
		if (!w)
			continue;       /* a cancel request's own completion */
		w->armed = false;
		w->cb(w, res);
	}
}

bool hh_loop_other_ready(void)
{
	/* A due timer waits too: a long burst must not delay clock waits. */
	if (loop.heap_len && loop.heap[0]->deadline <= hh_now())
		return true;
	/* Submitted first, so that watchers re-armed since the last wait count too. */
	io_uring_submit_and_get_events(&loop.ring);
	struct io_uring_cqe *cqe;
	unsigned head;
	io_uring_for_each_cqe(&loop.ring, head, cqe) {
		const struct hh_watcher *w = io_uring_cqe_get_data(cqe);
		if (w)
			return true;
	}
	return false;
}

static int wait_for_events(void)
{
	struct __kernel_timespec ts, *tsp = NULL;
	if (loop.deferred_head) {
		ts = (struct __kernel_timespec){ 0 };
		tsp = &ts;
	} else if (loop.heap_len) {
		uint64_t now = hh_now(), deadline = loop.heap[0]->deadline;
		uint64_t delta = deadline > now ? deadline - now : 0;
		ts.tv_sec = (long long)(delta / 1000000000ull);
		ts.tv_nsec = (long long)(delta % 1000000000ull);
		tsp = &ts;
	}
	struct io_uring_cqe *cqe;
	int r = io_uring_submit_and_wait_timeout(&loop.ring, &cqe, 1, tsp, NULL);
	if (r == -ETIME || r == -EINTR)
		return 0;
	return r < 0 ? r : 0;
}

int hh_loop_run(bool (*done)(void))
{
	for (;;) {
		/* Phases: completions, deferred work, timers, closing objects. */
		reap_completions();
		bool busy;
		do {
			busy = run_deferred();
			busy |= run_timers();
			busy |= hh_object_reap();
		} while (busy);
		if (done())
			return 0;
		if (loop.before_sleep && loop.before_sleep())
			continue;
		int r = wait_for_events();
		if (loop.after_wake)
			loop.after_wake();
		if (r < 0) {
			fprintf(stderr, "helhost: event loop: %s\n", strerror(-r));
			return r;
		}
	}
}
