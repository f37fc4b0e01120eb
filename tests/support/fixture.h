/*
 * The setup the call tests share: a suite of one test case and its main(),
 * objects made for a test (memory, a queue handle, a mapped queue, a stream)
 * and waiting for a queue's next element.  Every helper fails the test with
 * Check when the call it makes does not succeed, so a test reads as the
 * calls it is about.
 */
#ifndef HH_TEST_FIXTURE_H
#define HH_TEST_FIXTURE_H

#include <check.h>
#include <hel.h>
#include <stddef.h>
#include <stdint.h>

#include "hq.h"

/* How long a test waits for an element: a safety net against a hang, never a measurement. */
#define HH_TEST_WAIT_MS 20000

/* A test case named name in suite s, each test limited to timeout seconds. */
TCase *hh_test_case(Suite *s, const char *name, double timeout);

/*
 * The same, with hh_test_q opened before each test: 16 ring slots, 4 chunks
 * of 512 bytes, for suites whose tests all wait on one queue.
 */
TCase *hh_test_case_with_queue(Suite *s, const char *name, double timeout);
extern struct hq hh_test_q;

/* Run every test of s, each in its own process; the exit status for ctest. */
int hh_test_main(Suite *s);

/* Fresh memory of size bytes. */
HelHandle hh_test_memory(size_t size);

/* Map len bytes of memory h from offset into this space, near hint; a page-aligned address. */
char *hh_test_map(HelHandle h, void *hint, size_t offset, size_t len, uint32_t flags);

/* A queue that is never mapped: for calls that need one as an argument. */
HelHandle hh_test_queue(void);

/* Create and map q with 1 << ring_shift ring slots and chunks of chunk_size bytes. */
void hh_test_open(struct hq *q, unsigned ring_shift, unsigned chunks, size_t chunk_size);

/* Wait for q's next element, which must carry context. */
struct HelElement *hh_test_next(struct hq *q, uintptr_t context);

/* Both ends of a new stream. */
void hh_test_stream(HelHandle *lane0, HelHandle *lane1);

#endif
