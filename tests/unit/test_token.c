/*
 * Tokens (src/objects/token.c), linked directly: objects that carry fresh
 * credentials for ImbueCredentials (STREAMS.md §7.3, §9.2).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "token.h"
#include "universe.h"

static struct hh_token *new_token(void)
{
	struct hh_token *t = hh_token_create();
	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(test_token_create_fresh)
{
	/* should succeed: a token object with one reference and UUID-v4 credentials */
	struct hh_token *t = new_token();
	ck_assert_int_eq(hh_object_type(&t->base), HH_OBJ_TOKEN);
	ck_assert_str_eq(t->base.ops->name, "token");
	ck_assert_uint_eq(t->base.refs, 1);
	ck_assert(!t->base.dying);
	ck_assert_uint_eq(t->credentials[6] & 0xF0, 0x40);
	ck_assert_uint_eq(t->credentials[8] & 0xC0, 0x80);
	ck_assert_ptr_eq(hh_token_of(&t->base), t);
	/* a token has no descriptor hooks */
	ck_assert_ptr_null(t->base.ops->attach);
	ck_assert_ptr_null(t->base.ops->detach);
	hh_object_unref(&t->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_token_create_distinct_credentials)
{
	/* should succeed: every token gets its own credentials */
	struct hh_token *t[16];
	for (int i = 0; i < 16; i++)
		t[i] = new_token();
	for (int i = 0; i < 16; i++)
		for (int j = i + 1; j < 16; j++)
			ck_assert_mem_ne(t[i]->credentials, t[j]->credentials, HH_CREDENTIALS_SIZE);
	for (int i = 0; i < 16; i++)
		hh_object_unref(&t[i]->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_token_credentials_stable)
{
	/* should succeed: the credentials do not change while the token lives */
	struct hh_token *t = new_token();
	unsigned char before[HH_CREDENTIALS_SIZE];
	memcpy(before, t->credentials, sizeof(before));
	hh_object_ref(&t->base);
	hh_object_unref(&t->base);
	ck_assert(!hh_object_reap());
	ck_assert_mem_eq(t->credentials, before, HH_CREDENTIALS_SIZE);
	hh_object_unref(&t->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_token_universe_lifetime)
{
	/* should succeed: a handle keeps the token alive; detaching the last one frees it */
	struct hh_universe *u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	struct hh_token *t = new_token();
	HelHandle h = hh_universe_attach(u, &t->base, 0);
	ck_assert_int_eq(h, 1);
	ck_assert_uint_eq(t->base.refs, 2);
	hh_object_unref(&t->base);
	ck_assert(!hh_object_reap());
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, h, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &t->base);
	/* a token is no lane or thread (should fail) */
	ck_assert_int_eq(hh_universe_resolve(u, h, HH_OBJ_STREAM, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, h, HH_OBJ_THREAD, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_uint_eq(t->base.refs, 0);
	ck_assert(t->base.dying);
	ck_assert(hh_object_reap());
	hh_object_unref(&u->base);
	ck_assert(hh_object_reap());
}
END_TEST

static Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_token_create_fresh);
	tcase_add_test(tc, test_token_create_distinct_credentials);
	tcase_add_test(tc, test_token_credentials_stable);
	tcase_add_test(tc, test_token_universe_lifetime);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(token_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
