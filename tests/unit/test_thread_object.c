/*
 * Thread records (src/objects/thread.c), linked directly: registration with
 * its token, a thread whose pidfd cannot be opened, handles to a thread that
 * nothing kills when the last one closes, tokens that name no thread.  Out
 * of memory and randomness: tests/unit/oom.c.
 */
#include <check.h>
#include <stdlib.h>

#include "object.h"
#include "process.h"
#include "thread.h"
#include "universe.h"

/* No task has this id (ids stop at 2^22): its pidfd cannot be opened. */
#define NO_TID 0x7ffffff0

static struct hh_process proc;

static void teardown(void)
{
	hh_object_reap();
}

START_TEST(test_thread_register_and_end)
{
	/*
	 * should succeed: a registered thread is its program's, found by its
	 * token; one whose pidfd cannot be opened is watched by nobody; once
	 * ended it is its program's no more and its token names nothing
	 */
	struct hh_thread *t = hh_thread_register(&proc, NO_TID, NULL, -1);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(proc.threads, t);
	ck_assert_ptr_eq(t->proc, &proc);
	ck_assert_int_eq(t->pidfd, -1);
	ck_assert(!t->exit_watch.armed);
	ck_assert_uint_gt(t->token, 0);
	ck_assert_ptr_eq(hh_thread_by_token(t->token), t);
	uint64_t token = t->token;
	hh_object_ref(&t->base);
	hh_thread_ended(t);
	ck_assert_ptr_null(proc.threads);
	ck_assert_ptr_null(t->proc);
	ck_assert(t->terminated);
	ck_assert_ptr_null(hh_thread_by_token(token));
	/* should fail: token 0 and tokens never given name no thread */
	ck_assert_ptr_null(hh_thread_by_token(0));
	ck_assert_ptr_null(hh_thread_by_token(token + 1000));
	hh_object_unref(&t->base);
}
END_TEST

START_TEST(test_thread_last_handle_of_a_program_thread)
{
	/* should succeed: the last handle to a thread with no kill hook closes and the thread lives on */
	struct hh_thread *t = hh_thread_register(&proc, NO_TID, NULL, -1);
	ck_assert_ptr_nonnull(t);
	struct hh_universe *u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	HelHandle h = hh_universe_attach(u, &t->base, 0);
	ck_assert_int_gt(h, 0);
	ck_assert_uint_eq(t->handles, 1);
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_uint_eq(t->handles, 0);
	ck_assert(!t->terminated);
	ck_assert_ptr_eq(proc.threads, t);
	hh_thread_ended(t);
	hh_object_unref(&u->base);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("thread_object");
	TCase *tc = tcase_create("thread_object");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_thread_register_and_end);
	tcase_add_test(tc, test_thread_last_handle_of_a_program_thread);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
