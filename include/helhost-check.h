/*
 * helhost-check.h: an assertion for Check (libcheck) tests of Hel code.
 *
 *     #include <check.h>
 *     #include <helhost-check.h>
 *     ck_assert_hel(helCloseDescriptor(kHelThisUniverse, lane), kHelErrNone);
 *
 * fails the test with both errors by name:
 *
 *     helCloseDescriptor(kHelThisUniverse, lane) gave kHelErrNoDescriptor, expected kHelErrNone
 *
 * Include <check.h> first.  To debug a test under gdb, run it without
 * Check's fork: CK_FORK=no gdb --args ./test_x (docs/GUIDE.md).
 */
#ifndef HELHOST_CHECK_H
#define HELHOST_CHECK_H

#include "helhost.h"

/* call is evaluated once, then expected once. */
#define ck_assert_hel(call, expected) do { \
	HelError helhost_got_ = (call); \
	HelError helhost_want_ = (expected); \
	ck_assert_msg(helhost_got_ == helhost_want_, "%s gave %s, expected %s", #call, \
			helhost_error_name(helhost_got_), helhost_error_name(helhost_want_)); \
} while (0)

#endif
