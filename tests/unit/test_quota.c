/*
 * Per-program limits and sealed memfds (src/objects/quota.c), linked directly:
 * parsing of HELHOST_MAX_* values, accounts, the emulator-wide memfd budget,
 * memory objects charged to the program that made them, and the spare
 * memfds that closed objects leave for the next ones.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory.h"
#include "object.h"
#include "quota.h"
#include "universe.h"

static const struct hh_limits small = {
	.memory_bytes = 16 * HH_PAGE_SIZE, .memfds = 3, .handles = 4, .memfd_budget = 100,
};

START_TEST(test_quota_parse)
{
	uint64_t v;
	/* should succeed: plain numbers and binary suffixes */
	ck_assert_int_eq(hh_limits_parse("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(hh_limits_parse("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(hh_limits_parse("64K", &v), 0);
	ck_assert_uint_eq(v, 64 << 10);
	ck_assert_int_eq(hh_limits_parse("3m", &v), 0);
	ck_assert_uint_eq(v, 3 << 20);
	ck_assert_int_eq(hh_limits_parse("2G", &v), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(hh_limits_parse("1T", &v), 0);
	ck_assert_uint_eq(v, 1ull << 40);
	/* garbage, negatives, trailing text and overflow (should fail) */
	ck_assert_int_eq(hh_limits_parse("", &v), -1);
	ck_assert_int_eq(hh_limits_parse("lots", &v), -1);
	ck_assert_int_eq(hh_limits_parse("-1", &v), -1);
	ck_assert_int_eq(hh_limits_parse("12KB", &v), -1);
	ck_assert_int_eq(hh_limits_parse("99999999999999999999", &v), -1);
	ck_assert_int_eq(hh_limits_parse("16777217T", &v), -1);
}
END_TEST

START_TEST(test_quota_env)
{
	/* should succeed: the variables override the defaults; a bad one is ignored */
	setenv("HELHOST_MAX_MEMORY", "1G", 1);
	setenv("HELHOST_MAX_MEMFDS", "77", 1);
	setenv("HELHOST_MAX_HANDLES", "much", 1);
	hh_limits_init();
	ck_assert_uint_eq(hh_limits()->memory_bytes, 1ull << 30);
	ck_assert_uint_eq(hh_limits()->memfds, 77);
	ck_assert_uint_eq(hh_limits()->handles, 1u << 20);
	ck_assert_uint_gt(hh_limits()->memfd_budget, 0);
}
END_TEST

START_TEST(test_quota_account)
{
	hh_limits_set(&small);
	struct hh_account *a = hh_account_new();
	ck_assert_ptr_nonnull(a);
	/* should succeed: up to each limit */
	ck_assert_int_eq(hh_account_charge(a, 10 * HH_PAGE_SIZE, 2), kHelErrNone);
	ck_assert(hh_account_fits(a, 6 * HH_PAGE_SIZE, 1));
	/* one byte or one memfd over (should fail), charging nothing */
	ck_assert_int_eq(hh_account_charge(a, 6 * HH_PAGE_SIZE + 1, 1), kHelErrNoMemory);
	ck_assert_int_eq(hh_account_charge(a, 0, 2), kHelErrNoMemory);
	ck_assert_int_eq(hh_account_charge(a, UINT64_MAX, 0), kHelErrNoMemory);
	ck_assert_uint_eq(a->bytes, 10 * HH_PAGE_SIZE);
	ck_assert_uint_eq(a->memfds, 2);
	/* released charges can be taken again */
	hh_account_release(a, 10 * HH_PAGE_SIZE, 2);
	ck_assert_int_eq(hh_account_charge(a, 16 * HH_PAGE_SIZE, 3), kHelErrNone);
	/* a limit lowered below what is held refuses everything, without wrapping */
	struct hh_limits lower = small;
	lower.memory_bytes = HH_PAGE_SIZE;
	lower.memfds = 1;
	hh_limits_set(&lower);
	ck_assert(!hh_account_fits(a, 0, 0));
	ck_assert_int_eq(hh_account_charge(a, 1, 0), kHelErrNoMemory);
	/* nobody's account: always fits */
	ck_assert(hh_account_fits(NULL, UINT64_MAX, UINT64_MAX));
	ck_assert_int_eq(hh_account_charge(NULL, UINT64_MAX, 1), kHelErrNone);
	hh_account_unref(a);
}
END_TEST

START_TEST(test_quota_memfd_sealed)
{
	hh_limits_set(&small);
	int fd = hh_memfd_create("hel-test", 3 * HH_PAGE_SIZE);
	ck_assert_int_ge(fd, 0);
	/* a copy of the fd, as a program holds one (should fail): shrink, new seals */
	int copy = dup(fd);
	ck_assert_int_eq(ftruncate(copy, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(copy, F_ADD_SEALS, F_SEAL_GROW), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(copy, F_ADD_SEALS, F_SEAL_WRITE), -1);
	/* should succeed: growing, which helResizeMemory needs */
	ck_assert_int_eq(ftruncate(copy, 4 * HH_PAGE_SIZE), 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * HH_PAGE_SIZE);
	close(copy);
	hh_memfd_close(fd);
}
END_TEST

START_TEST(test_quota_memfd_budget)
{
	struct hh_limits l = small;
	l.memfd_budget = 5;
	hh_limits_set(&l);
	int fds[6];
	/* should succeed: five; the sixth (should fail) until one is closed */
	for (int i = 0; i < 5; i++)
		ck_assert_int_ge(fds[i] = hh_memfd_create("hel-test", HH_PAGE_SIZE), 0);
	ck_assert_int_eq(hh_memfd_create("hel-test", HH_PAGE_SIZE), -1);
	hh_memfd_close(fds[0]);
	ck_assert_int_ge(fds[5] = hh_memfd_create("hel-test", HH_PAGE_SIZE), 0);
	for (int i = 1; i < 6; i++)
		hh_memfd_close(fds[i]);
	/* sizes no file can have (should fail) */
	ck_assert_int_eq(hh_memfd_create("hel-test", UINT64_MAX), -1);
}
END_TEST

START_TEST(test_quota_fd_limit_and_failing_memfds)
{
	/*
	 * should succeed: with 64 fds the memfd budget keeps half of them back;
	 * an empty variable keeps the default
	 */
	struct rlimit fds = { 64, 64 };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &fds), 0);
	hh_limits_init();
	uint64_t pending = hh_limits()->pending;
	setenv("HELHOST_MAX_PENDING", "", 1);
	hh_limits_init();
	ck_assert_uint_eq(hh_limits()->memfd_budget, 32);
	ck_assert_uint_eq(hh_limits()->pending, pending);
	/* should fail: a file larger than the process may write (and no SIGXFSZ) */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit size = { HH_PAGE_SIZE, HH_PAGE_SIZE };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &size), 0);
	ck_assert_int_eq(hh_memfd_create("hel-test", 2 * HH_PAGE_SIZE), -1);
	/* should fail: no fd left; with one free again it works */
	int fd, last = -1;
	while ((fd = dup(0)) >= 0)
		last = fd;
	ck_assert_int_eq(hh_memfd_create("hel-test", HH_PAGE_SIZE), -1);
	close(last);
	ck_assert_int_ge(fd = hh_memfd_create("hel-test", HH_PAGE_SIZE), 0);
	hh_memfd_close(fd);
}
END_TEST

START_TEST(test_quota_memory_charged)
{
	hh_limits_set(&small);
	struct hh_account *a = hh_account_new();
	struct hh_memory *m1, *m2;
	/* should succeed: an object charged with its size and its memfd */
	ck_assert_int_eq(hh_memory_allocate(8 * HH_PAGE_SIZE, 0, &m1), kHelErrNone);
	ck_assert_int_eq(hh_memory_charge(m1, a), kHelErrNone);
	ck_assert_uint_eq(a->bytes, 8 * HH_PAGE_SIZE);
	ck_assert_uint_eq(a->memfds, 1);
	ck_assert_uint_eq(a->refs, 2);
	/* growing charges the growth; past the limit (should fail) and nothing changes */
	ck_assert_int_eq(hh_memory_resize(m1, 12 * HH_PAGE_SIZE), kHelErrNone);
	ck_assert_uint_eq(a->bytes, 12 * HH_PAGE_SIZE);
	ck_assert_int_eq(hh_memory_resize(m1, 17 * HH_PAGE_SIZE), kHelErrNoMemory);
	ck_assert_uint_eq(m1->size, 12 * HH_PAGE_SIZE);
	ck_assert_uint_eq(a->bytes, 12 * HH_PAGE_SIZE);
	/* a second object over the limit (should fail): the account is unchanged */
	ck_assert_int_eq(hh_memory_allocate(8 * HH_PAGE_SIZE, 0, &m2), kHelErrNone);
	ck_assert_int_eq(hh_memory_charge(m2, a), kHelErrNoMemory);
	ck_assert_uint_eq(a->bytes, 12 * HH_PAGE_SIZE);
	ck_assert_ptr_null(m2->account);
	hh_object_unref(&m2->base);
	/* the account outlives its program while the object lives; destroying it gives all back */
	hh_account_unref(a);
	ck_assert_uint_eq(a->refs, 1);
	hh_object_unref(&m1->base);
	ck_assert(hh_object_reap());
}
END_TEST

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(test_quota_spare_memfds)
{
	hh_limits_set(&small);
	struct hh_account *a = hh_account_new();
	struct hh_memory *m;
	/* should succeed: an object charged from the start, its memfd not sealed yet */
	ck_assert_int_eq(hh_memory_allocate_for(a, 2 * HH_PAGE_SIZE, 0, &m), kHelErrNone);
	ck_assert_uint_eq(a->bytes, 2 * HH_PAGE_SIZE);
	ck_assert_uint_eq(a->memfds, 1);
	int fd = m->memfd;
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0);
	/* what the emulator wrote into it (helSubmitWriteMemory goes through its own mapping) */
	ck_assert_int_eq(pwrite(fd, "secret", 6, 100), 6);
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	/* closed: the account is even, the memfd is a spare, empty */
	ck_assert_uint_eq(a->bytes, 0);
	ck_assert_uint_eq(a->memfds, 0);
	ck_assert_uint_eq(hh_memfd_spares(), 1);
	/* the next object of the account gets it, at its size, reading as zero */
	ck_assert_int_eq(hh_memory_allocate_for(a, 3 * HH_PAGE_SIZE, 0, &m), kHelErrNone);
	ck_assert_int_eq(m->memfd, fd);
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 3 * HH_PAGE_SIZE);
	char back[6] = "xxxxx";
	ck_assert_int_eq(pread(fd, back, 6, 100), 6);
	ck_assert_mem_eq(back, "\0\0\0\0\0\0", 6);
	/* handed out (hh_memory_source): sealed, so a program's copy cannot shrink it */
	ck_assert_int_eq(hh_memory_source(&m->base).fd, fd);
	int copy = dup(fd);
	ck_assert_int_eq(ftruncate(copy, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	close(copy);
	/* ...and never a spare: a program may still hold the fd */
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	ck_assert(!fd_open(fd));
	/* over the account's limit (should fail): nothing charged, no spare used */
	ck_assert_int_eq(hh_memory_allocate_for(a, HH_PAGE_SIZE, 0, &m), kHelErrNone);
	fd = m->memfd;
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	ck_assert_int_eq(hh_memory_allocate_for(a, 17 * HH_PAGE_SIZE, 0, &m), kHelErrNoMemory);
	ck_assert_uint_eq(a->bytes, 0);
	ck_assert_uint_eq(hh_memfd_spares(), 1);
	/* one nobody wrote keeps its length: the next object of that size takes it as it is */
	ck_assert_int_eq(hh_memory_allocate_for(a, HH_PAGE_SIZE, 0, &m), kHelErrNone);
	ck_assert_int_eq(m->memfd, fd);
	ck_assert_int_eq(pwrite(fd, "x", 1, 5), 1);
	ck_assert_int_eq(hh_memory_resize(m, 2 * HH_PAGE_SIZE), kHelErrNone);
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	ck_assert_int_eq(hh_memory_allocate_for(a, 2 * HH_PAGE_SIZE, 0, &m), kHelErrNone);
	ck_assert_int_eq(m->memfd, fd);
	ck_assert_int_eq(pread(fd, back, 6, 0), 6);
	ck_assert_mem_eq(back, "\0\0\0\0\0\0", 6);
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	ck_assert_int_eq(hh_memory_allocate_for(a, 2 * HH_PAGE_SIZE, 0, &m), kHelErrNone);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 2 * HH_PAGE_SIZE);
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
	/* the account's spares go with it */
	hh_account_unref(a);
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	ck_assert(!fd_open(fd));
}
END_TEST

START_TEST(test_quota_spares_at_the_budget)
{
	struct hh_limits l = small;
	l.memfds = 1000;
	l.memfd_budget = 2;
	hh_limits_set(&l);
	struct hh_account *a = hh_account_new(), *b = hh_account_new();
	struct hh_memory *m[2], *other;
	/* a takes the whole budget and closes both: two spares of a */
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(hh_memory_allocate_for(a, HH_PAGE_SIZE, 0, &m[i]), kHelErrNone);
	for (int i = 0; i < 2; i++)
		hh_object_unref(&m[i]->base);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(hh_memfd_spares(), 2);
	/* should succeed: b's object and a queue's memfd, each from one of a's spares */
	ck_assert_int_eq(hh_memory_allocate_for(b, HH_PAGE_SIZE, 0, &other), kHelErrNone);
	int queue_fd = hh_memfd_create("hel-test", HH_PAGE_SIZE);
	ck_assert_int_ge(queue_fd, 0);
	ck_assert_int_eq(fcntl(queue_fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_SEAL);
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	/* should fail: the budget is spent */
	ck_assert_int_eq(hh_memfd_create("hel-test", HH_PAGE_SIZE), -1);
	hh_memfd_close(queue_fd);
	hh_object_unref(&other->base);
	ck_assert(hh_object_reap());
	hh_account_unref(a);
	hh_account_unref(b);
	ck_assert_uint_eq(hh_memfd_spares(), 0);
}
END_TEST

START_TEST(test_quota_spares_are_few)
{
	struct hh_limits l = small;
	l.memfds = 1000;
	l.memory_bytes = 1000 * HH_PAGE_SIZE;
	l.memfd_budget = 1000;
	hh_limits_set(&l);
	struct hh_account *a = hh_account_new();
	struct hh_memory *m[100];
	int fds[100];
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(hh_memory_allocate_for(a, HH_PAGE_SIZE, 0, &m[i]), kHelErrNone);
		fds[i] = m[i]->memfd;
	}
	for (int i = 0; i < 100; i++)
		hh_object_unref(&m[i]->base);
	ck_assert(hh_object_reap());
	/* a program closing many objects at once keeps at most 64 of their memfds */
	ck_assert_uint_eq(hh_memfd_spares(), 64);
	int open = 0;
	for (int i = 0; i < 100; i++)
		open += fd_open(fds[i]);
	ck_assert_int_eq(open, 64);
	hh_account_unref(a);
	for (int i = 0; i < 100; i++)
		ck_assert(!fd_open(fds[i]));
}
END_TEST

START_TEST(test_quota_universe_handles)
{
	hh_limits_set(&small);
	struct hh_universe *u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(u->account);
	struct hh_memory *m;
	ck_assert_int_eq(hh_memory_allocate(HH_PAGE_SIZE, 0, &m), kHelErrNone);
	/* should succeed: four handles; the fifth (should fail) */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(hh_universe_attach(u, &m->base, 0), i + 1);
	ck_assert_int_eq(hh_universe_attach(u, &m->base, 0), 0);
	/* a clone has the same handles and an account of its own */
	struct hh_universe *c = hh_universe_clone(u);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->count, 4);
	ck_assert_ptr_ne(c->account, u->account);
	/* one closed, one more */
	ck_assert_int_eq(hh_universe_detach(u, 2), kHelErrNone);
	ck_assert_int_eq(hh_universe_attach(u, &m->base, 0), 5);
	hh_object_unref(&c->base);
	hh_object_unref(&u->base);
	hh_object_unref(&m->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_quota_garbage_arguments)
{
	hh_limits_set(&small);
	struct hh_account *a = hh_account_new();
	/* only the memfd limit lowered below what is held: nothing fits, without wrapping */
	ck_assert_int_eq(hh_account_charge(a, HH_PAGE_SIZE, 3), kHelErrNone);
	struct hh_limits lower = small;
	lower.memfds = 2;
	hh_limits_set(&lower);
	ck_assert(!hh_account_fits(a, 0, 0));
	ck_assert_int_eq(hh_account_charge(a, 0, 0), kHelErrNoMemory);
	ck_assert_uint_eq(a->memfds, 3);
	/* nobody's account: a release changes nothing and does not crash */
	hh_account_release(NULL, HH_PAGE_SIZE, 1);
	/* a size no file can have (should fail), with no memfd opened or taken */
	int probe = dup(0);
	ck_assert_int_ge(probe, 0);
	close(probe);
	ck_assert_int_eq(hh_memfd_take(a, UINT64_MAX), -1);
	ck_assert_int_eq(hh_memfd_take(a, (uint64_t)INT64_MAX + 1), -1);
	int fd = dup(0);
	ck_assert_int_eq(fd, probe);
	close(fd);
	/* no memfd, or no account: nothing is kept and -1 is not closed */
	hh_memfd_recycle(a, -1, HH_PAGE_SIZE);
	hh_memfd_close(-1);
	ck_assert_int_ge(fd = hh_memfd_take(a, HH_PAGE_SIZE), 0);
	hh_memfd_recycle(NULL, fd, HH_PAGE_SIZE);
	ck_assert(!fd_open(fd));
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	/* an fd that cannot be emptied (a pipe: no SEEK_DATA, no ftruncate) is closed, not kept */
	int pipe_fds[2];
	ck_assert_int_eq(pipe(pipe_fds), 0);
	hh_memfd_recycle(a, pipe_fds[0], 0);
	ck_assert(!fd_open(pipe_fds[0]));
	ck_assert_uint_eq(hh_memfd_spares(), 0);
	close(pipe_fds[1]);
	hh_account_unref(a);
}
END_TEST

static Suite *quota_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("quota");
	tcase_add_test(tc, test_quota_parse);
	tcase_add_test(tc, test_quota_env);
	tcase_add_test(tc, test_quota_account);
	tcase_add_test(tc, test_quota_memfd_sealed);
	tcase_add_test(tc, test_quota_memfd_budget);
	tcase_add_test(tc, test_quota_fd_limit_and_failing_memfds);
	tcase_add_test(tc, test_quota_memory_charged);
	tcase_add_test(tc, test_quota_universe_handles);
	tcase_add_test(tc, test_quota_spare_memfds);
	tcase_add_test(tc, test_quota_spares_at_the_budget);
	tcase_add_test(tc, test_quota_spares_are_few);
	tcase_add_test(tc, test_quota_garbage_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quota_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
