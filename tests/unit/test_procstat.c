/*
 * Fields of /proc/PID/stat (src/host/procstat.c), linked directly: a process
 * whose name holds ") " and spaces, fields past the end, a process that is
 * not there.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "procstat.h"

/* Field 4 of /proc/PID/stat is the parent's pid. */
#define PPID_FIELD 4

START_TEST(test_procstat_name_with_parentheses)
{
	/* should succeed: the name ends at the last ')', whatever it holds */
	ck_assert_int_eq(prctl(PR_SET_NAME, "a) b (c) d", 0, 0, 0), 0);
	ck_assert_uint_eq(hh_procstat_field(getpid(), PPID_FIELD), (uint64_t)getppid());
	/* should fail: a field past the last one reads as 0 */
	ck_assert_uint_eq(hh_procstat_field(getpid(), 1000), 0);
}
END_TEST

START_TEST(test_procstat_gone)
{
	/* should fail: no process has a pid past pid_max (at most 2^22); 0 says so */
	ck_assert_uint_eq(hh_procstat_field(INT32_MAX, PPID_FIELD), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("procstat");
	TCase *tc = tcase_create("procstat");
	tcase_add_test(tc, test_procstat_name_with_parentheses);
	tcase_add_test(tc, test_procstat_gone);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
