/*
 * The emulator's one event loop, on io_uring.  Every fd-owning object embeds
 * a watcher; the io_uring user_data points at it and its callback runs when
 * the operation completes.  Work that must wait is parked on its object and
 * finished from here later: nothing blocks inside a phase.
 */
#ifndef HH_LOOP_H
#define HH_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hh_watcher {
	void (*cb)(struct hh_watcher *w, int res);
	bool armed;             /* an operation is in flight; its memory must stay */
};

struct hh_timer {
	uint64_t deadline;      /* helGetClock nanoseconds (CLOCK_MONOTONIC) */
	size_t heap_index;      /* position in the heap, or SIZE_MAX when stopped */
	void (*cb)(struct hh_timer *t);
};

struct hh_deferred {
	struct hh_deferred *next;
	void (*cb)(struct hh_deferred *d);
	bool queued;
};

int hh_loop_init(void);
void hh_loop_fini(void);

/* Arm a one-shot poll of fd; the callback gets the revents or -errno. */
void hh_loop_poll(struct hh_watcher *w, int fd, unsigned events);
/* Wait until *addr (a shared futex word) no longer holds val, or a wake. */
void hh_loop_futex_wait(struct hh_watcher *w, uint32_t *addr, uint32_t val);
/* Ask the kernel to end w's operation early; its callback still runs. */
void hh_loop_cancel(struct hh_watcher *w);

void hh_timer_init(struct hh_timer *t, void (*cb)(struct hh_timer *t));
void hh_timer_start(struct hh_timer *t, uint64_t deadline);
void hh_timer_stop(struct hh_timer *t);
static inline bool hh_timer_active(const struct hh_timer *t)
{
	return t->heap_index != SIZE_MAX;
}

/* Run d->cb in the deferred phase of this loop iteration (at most once). */
void hh_defer(struct hh_deferred *d);

/*
 * Run deferred work and teardowns now, until none is left: the transport
 * calls it before it answers a call, so that the elements a call completed
 * are in their queues by the time the caller runs again.
 */
void hh_loop_settle(void);

/*
 * How long the bursts that wait for one program's next call or one stub's
 * next stop look before the emulator goes back to io_uring.
 */
#define HH_LOOP_SPIN_NS 30000

/*
 * Whether a completion waits to be run (those being run now do not count)
 * or a timer is due: a burst that spins for one source gives way as soon
 * as another has work.  One syscall.
 */
bool hh_loop_other_ready(void);

/* Read len bytes of fd into buf; the callback gets the count or -errno. */
void hh_loop_read(struct hh_watcher *w, int fd, void *buf, unsigned len);

/*
 * Before the loop sleeps it calls prepare, and does not sleep if that did
 * work; after it wakes, woken (src/host/ring.c: the rings' sleeping flag).
 */
void hh_loop_on_sleep(bool (*prepare)(void), void (*woken)(void));

/* Run until done() says so after an iteration.  Returns 0 or -errno. */
int hh_loop_run(bool (*done)(void));

uint64_t hh_now(void);

#endif
