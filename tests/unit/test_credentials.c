/*
 * Credentials (src/objects/credentials.c), linked directly: 16 bytes from the
 * kernel's CSPRNG formatted as a version-4, variant-1 UUID (STREAMS.md §9).
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"

#define SAMPLES 256

static void check_uuid_bits(const unsigned char c[HH_CREDENTIALS_SIZE])
{
	ck_assert_uint_eq(c[6] & 0xF0, 0x40);  /* version 4 */
	ck_assert_uint_eq(c[8] & 0xC0, 0x80);  /* variant 1 (10xx xxxx) */
}

START_TEST(test_credentials_fresh_uuid_v4_bits)
{
	/* should succeed: every sample carries the version and variant bits */
	for (int i = 0; i < SAMPLES; i++) {
		unsigned char c[HH_CREDENTIALS_SIZE];
		memset(c, 0xFF, sizeof(c));
		ck_assert(hh_credentials_fresh(c));
		check_uuid_bits(c);
		memset(c, 0x00, sizeof(c));
		ck_assert(hh_credentials_fresh(c));
		check_uuid_bits(c);
	}
}
END_TEST

START_TEST(test_credentials_fresh_writes_only_sixteen_bytes)
{
	/* should succeed: the bytes around the buffer stay untouched */
	unsigned char buf[HH_CREDENTIALS_SIZE + 16];
	memset(buf, 0xA5, sizeof(buf));
	ck_assert(hh_credentials_fresh(buf + 8));
	for (int i = 0; i < 8; i++) {
		ck_assert_uint_eq(buf[i], 0xA5);
		ck_assert_uint_eq(buf[8 + HH_CREDENTIALS_SIZE + i], 0xA5);
	}
	check_uuid_bits(buf + 8);
}
END_TEST

START_TEST(test_credentials_fresh_distinct)
{
	/* should succeed: no two of many samples are equal */
	static unsigned char c[SAMPLES][HH_CREDENTIALS_SIZE];
	for (int i = 0; i < SAMPLES; i++)
		ck_assert(hh_credentials_fresh(c[i]));
	for (int i = 0; i < SAMPLES; i++)
		for (int j = i + 1; j < SAMPLES; j++)
			ck_assert_mem_ne(c[i], c[j], HH_CREDENTIALS_SIZE);
}
END_TEST

START_TEST(test_credentials_fresh_other_bits_random)
{
	/*
	 * should succeed: every bit outside the fixed six takes both values over
	 * the samples (each has a 2^-255 chance of staying fixed by accident)
	 */
	unsigned char ones[HH_CREDENTIALS_SIZE] = { 0 }, zeros[HH_CREDENTIALS_SIZE];
	memset(zeros, 0, sizeof(zeros));
	for (int i = 0; i < SAMPLES; i++) {
		unsigned char c[HH_CREDENTIALS_SIZE];
		ck_assert(hh_credentials_fresh(c));
		for (int b = 0; b < HH_CREDENTIALS_SIZE; b++) {
			ones[b] |= c[b];
			zeros[b] |= (unsigned char)~c[b];
		}
	}
	for (int b = 0; b < HH_CREDENTIALS_SIZE; b++) {
		unsigned char fixed = b == 6 ? 0xF0 : b == 8 ? 0xC0 : 0x00;
		/* free bits were seen both set and clear */
		ck_assert_uint_eq(ones[b] & (unsigned char)~fixed, (unsigned char)~fixed);
		ck_assert_uint_eq(zeros[b] & (unsigned char)~fixed, (unsigned char)~fixed);
	}
	/* the fixed bits never vary */
	ck_assert_uint_eq(ones[6] & 0xF0, 0x40);
	ck_assert_uint_eq(zeros[6] & 0xF0, 0xB0);
	ck_assert_uint_eq(ones[8] & 0xC0, 0x80);
	ck_assert_uint_eq(zeros[8] & 0xC0, 0x40);
}
END_TEST

static Suite *credentials_suite(void)
{
	Suite *s = suite_create("credentials");
	TCase *tc = tcase_create("credentials");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_credentials_fresh_uuid_v4_bits);
	tcase_add_test(tc, test_credentials_fresh_writes_only_sixteen_bytes);
	tcase_add_test(tc, test_credentials_fresh_distinct);
	tcase_add_test(tc, test_credentials_fresh_other_bits_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(credentials_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
