/*
 * The event loop's look-ahead (src/host/loop.c): hh_loop_other_ready tells a
 * burst that spins for one source whether another has work waiting, and
 * counts only completions not yet run.
 */
#include <check.h>
#include <stdbool.h>
#include <unistd.h>

#include "loop.h"

#define DEADLINE_NS (20 * 1000000000ull)

struct pipe_watch {
	struct hh_watcher w;
	int fds[2];
	int fired;
	bool other_seen;        /* hh_loop_other_ready() in its callback */
};

static void note_fired(struct hh_watcher *w, int res)
{
	struct pipe_watch *p = (struct pipe_watch *)w;
	ck_assert_int_gt(res, 0);
	p->fired++;
	p->other_seen = hh_loop_other_ready();
}

static void open_pipe(struct pipe_watch *p)
{
	*p = (struct pipe_watch){ .w.cb = note_fired };
	ck_assert_int_eq(pipe(p->fds), 0);
}

static void arm(struct pipe_watch *p)
{
	hh_loop_poll(&p->w, p->fds[0], 1 /* POLLIN */);
}

static void open_watch(struct pipe_watch *p)
{
	open_pipe(p);
	arm(p);
}

static void close_watch(struct pipe_watch *p)
{
	close(p->fds[0]);
	close(p->fds[1]);
}

static void make_ready(struct pipe_watch *p)
{
	ck_assert_int_eq(write(p->fds[1], "x", 1), 1);
}

/* Ask until the answer is yes or the deadline passes: a poll completes asynchronously. */
static bool ready_within_deadline(void)
{
	uint64_t limit = hh_now() + DEADLINE_NS;
	while (!hh_loop_other_ready())
		if (hh_now() >= limit)
			return false;
	return true;
}

static struct pipe_watch *done_when;

static bool watch_fired(void)
{
	return done_when->fired > 0;
}

START_TEST(nothing_ready_then_a_poll_completes)
{
	ck_assert_int_eq(hh_loop_init(), 0);
	struct pipe_watch a;
	open_watch(&a);
	ck_assert(!hh_loop_other_ready());
	make_ready(&a);
	ck_assert(ready_within_deadline());
	/* It was only looked at, not run: the loop still runs it. */
	ck_assert_int_eq(a.fired, 0);
	done_when = &a;
	ck_assert_int_eq(hh_loop_run(watch_fired), 0);
	ck_assert_int_eq(a.fired, 1);
	ck_assert(!hh_loop_other_ready());
	close_watch(&a);
	hh_loop_fini();
}
END_TEST

/* A callback is not "another" event of its own: the first of two sees the second, the second nothing. */
START_TEST(a_callback_sees_only_events_not_yet_run)
{
	ck_assert_int_eq(hh_loop_init(), 0);
	struct pipe_watch a, b;
	open_pipe(&a);
	open_pipe(&b);
	/* Readable before their polls are submitted: both complete as they are submitted. */
	make_ready(&a);
	make_ready(&b);
	arm(&a);
	arm(&b);
	ck_assert(ready_within_deadline());
	done_when = &b;
	ck_assert_int_eq(hh_loop_run(watch_fired), 0);
	ck_assert_int_eq(a.fired, 1);
	ck_assert_int_eq(b.fired, 1);
	ck_assert(a.other_seen != b.other_seen);
	close_watch(&a);
	close_watch(&b);
	hh_loop_fini();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("other_ready");
	tcase_add_test(tc, nothing_ready_then_a_poll_completes);
	tcase_add_test(tc, a_callback_sees_only_events_not_yet_run);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
