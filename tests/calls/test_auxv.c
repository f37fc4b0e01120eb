/*
 * libhelhost-managarm (docs/MANAGARM.md): peekauxval, with Linux's keys from
 * getauxval and Managarm's handle keys from HELHOST_AUXV, under an
 * auto-started emulator; and frigg's panic hook.
 */
#include <check.h>
#include <errno.h>
#include <hel.h>
#include <helhost.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "conv.h"
#include "fixture.h"

START_TEST(test_auxv_linux_keys)
{
	/* should succeed: Linux's own keys are glibc's */
	unsigned long v = 0;
	ck_assert_int_eq(peekauxval(AT_PAGESZ, &v), 0);
	ck_assert_uint_eq(v, (unsigned long)sysconf(_SC_PAGESIZE));
	/* should fail: a key Linux never gives */
	errno = 0;
	ck_assert_int_eq(peekauxval(0x999, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_auxv_managarm_key_absent)
{
	/* should fail: no HELHOST_AUXV, no Managarm keys; *value untouched */
	unsetenv("HELHOST_AUXV");
	unsigned long v = 77;
	errno = 0;
	ck_assert_int_eq(peekauxval(AT_XPIPE, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(v, 77);
	ck_assert_int_eq(peekauxval(AT_MBUS_SERVER, &v), -1);
}
END_TEST

START_TEST(test_auxv_xpipe_is_served_lane)
{
	/* should succeed: +NAME gives a lane whose peer is published as NAME */
	ck_assert_int_eq(setenv("HELHOST_AUXV", "AT_FS_SERVER=other,AT_XPIPE=+test.xpipe", 1), 0);
	unsigned long xpipe, again;
	ck_assert_int_eq(peekauxval(AT_XPIPE, &xpipe), 0);
	ck_assert_int_eq(peekauxval(AT_XPIPE, &again), 0);
	ck_assert_uint_eq(again, xpipe);        /* made once per process */
	HelHandle client;
	uint64_t now;
	helGetClock(&now);
	ck_assert_int_eq(helhost_lookup("test.xpipe", (int64_t)now, &client), kHelErrNone);
	ck_assert_int_eq(conv_hello(helSubmitAsync, client, (HelHandle)xpipe, "xpipe"), kHelErrNone);
}
END_TEST

START_TEST(test_auxv_lookup_key)
{
	/* should succeed: NAME gives a handle to what is published as NAME (numeric key) */
	HelHandle mine, theirs;
	hh_test_stream(&mine, &theirs);
	ck_assert_int_eq(helhost_publish("test.mbus", theirs), kHelErrNone);
	ck_assert_int_eq(setenv("HELHOST_AUXV", "0x1103=test.mbus", 1), 0);
	unsigned long mbus;
	ck_assert_int_eq(peekauxval(AT_MBUS_SERVER, &mbus), 0);
	ck_assert_int_eq(conv_hello(helSubmitAsync, (HelHandle)mbus, mine, "mbus"), kHelErrNone);
}
END_TEST

START_TEST(test_auxv_garbage)
{
	/* should fail: malformed entries, an overlong name and a taken name are absent keys */
	unsigned long v;
	char longer[400];
	memset(longer, 'n', sizeof(longer));
	memcpy(longer, "AT_XPIPE=+", 10);
	longer[sizeof(longer) - 1] = 0;
	const char *lists[] = { "junk", "=x,AT_XPIPE", "AT_XPIPE=", "0x10000x=+a", ",,,", longer };
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		ck_assert_int_eq(setenv("HELHOST_AUXV", lists[i], 1), 0);
		errno = 0;
		ck_assert_int_eq(peekauxval(AT_XPIPE, &v), -1);
		ck_assert_int_eq(errno, ENOENT);
	}
	HelHandle a, b;
	hh_test_stream(&a, &b);
	ck_assert_int_eq(helhost_publish("test.taken", a), kHelErrNone);
	ck_assert_int_eq(setenv("HELHOST_AUXV", "AT_XPIPE=+test.taken", 1), 0);
	ck_assert_int_eq(peekauxval(AT_XPIPE, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

/* frigg's hooks, which libhelhost-managarm defines as mlibc does. */
void frg_log(const char *message);
void frg_panic(const char *message);

START_TEST(test_auxv_frigg_panic_aborts)
{
	/* should fail: a failed FRG_ASSERT reaches frg_panic, which ends the program */
	frg_log("frg_log reaches stderr");
	frg_panic("test_auxv: a failed assertion");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auxv");
	TCase *tc = hh_test_case(s, "peekauxval", 60);
	tcase_add_test(tc, test_auxv_linux_keys);
	tcase_add_test(tc, test_auxv_managarm_key_absent);
	tcase_add_test(tc, test_auxv_xpipe_is_served_lane);
	tcase_add_test(tc, test_auxv_lookup_key);
	tcase_add_test(tc, test_auxv_garbage);
	tcase_add_test_raise_signal(tc, test_auxv_frigg_panic_aborts, SIGABRT);
	return hh_test_main(s);
}
