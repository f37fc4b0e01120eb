/*
 * Streams and the registry between two programs: a test forks a child,
 * which is served by the same emulator with a copy of the parent's handles
 * (DESIGN.md, "Two ways to start"), so lanes made before the fork connect
 * the two programs.
 */
#include <check.h>
#include <hel.h>
#include <helhost.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "quiet.h"
#include "task.h"

static void expect_exit(pid_t pid, int want_status)
{
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), want_status);
}

/* A registry name with the test process's pid in it, so that tests sharing an emulator never collide. */
static void unique_name(char out[64], const char *base)
{
	snprintf(out, 64, "%s.%d", base, (int)getpid());
}

/* Submit one action and return the element's first HelSimpleResult error. */
static HelError one(struct hq *q, HelHandle lane, struct HelAction a, void *result, size_t size)
{
	ck_assert_int_eq(helSubmitAsync(lane, &a, 1, q->handle, 0, 0), kHelErrNone);
	struct HelElement *e = hq_next(q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(e);
	if (result)
		memcpy(result, hq_payload(e), size);
	return ((struct HelSimpleResult *)hq_payload(e))->error;
}

static HelError send_bytes(struct hq *q, HelHandle lane, const void *data, size_t n)
{
	struct HelAction a = { .type = kHelActionSendFromBuffer, .buffer = (void *)data, .length = n };
	return one(q, lane, a, NULL, 0);
}

static HelError recv_bytes(struct hq *q, HelHandle lane, void *buf, size_t cap, size_t *len)
{
	struct HelAction a = { .type = kHelActionRecvToBuffer, .buffer = buf, .length = cap };
	struct HelLengthResult r;
	HelError e = one(q, lane, a, &r, sizeof(r));
	*len = r.length;
	return e;
}

START_TEST(test_programs_stream_request_reply)
{
	/* should succeed: parent and child talk over the lanes of one stream */
	HelHandle a, b;
	hh_test_stream(&a, &b);
	pid_t pid = fork_tied();
	if (pid == 0) {
		struct hq q;
		char buf[64];
		size_t n;
		if (hq_open(&q, 4, 4, 1024) || helCloseDescriptor(kHelThisUniverse, a))
			_exit(10);
		if (recv_bytes(&q, b, buf, sizeof(buf), &n) || n != 4 || memcmp(buf, "ping", 4))
			_exit(11);
		_exit(send_bytes(&q, b, "pong", 4) ? 12 : 0);
	}
	struct hq q;
	hh_test_open(&q, 4, 4, 1024);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b), kHelErrNone);
	ck_assert_int_eq(send_bytes(&q, a, "ping", 4), kHelErrNone);
	char buf[64];
	size_t n;
	ck_assert_int_eq(recv_bytes(&q, a, buf, sizeof(buf), &n), kHelErrNone);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(buf, "pong", 4), 0);
	expect_exit(pid, 0);
}
END_TEST

START_TEST(test_programs_large_message_between_heaps)
{
	/* should succeed: 1 MiB from the child's heap into the parent's heap */
	enum { SIZE = 1 << 20 };
	HelHandle a, b;
	hh_test_stream(&a, &b);
	pid_t pid = fork_tied();
	if (pid == 0) {
		struct hq q;
		unsigned char *data = malloc(SIZE);
		for (size_t i = 0; i < SIZE; i++)
			data[i] = (unsigned char)(i * 7 + 3);
		if (hq_open(&q, 4, 4, 1024))
			_exit(10);
		_exit(send_bytes(&q, b, data, SIZE) ? 11 : 0);
	}
	struct hq q;
	hh_test_open(&q, 4, 4, 1024);
	unsigned char *buf = malloc(SIZE);
	size_t n;
	ck_assert_int_eq(recv_bytes(&q, a, buf, SIZE, &n), kHelErrNone);
	ck_assert_uint_eq(n, SIZE);
	for (size_t i = 0; i < SIZE; i += 4093)
		ck_assert_uint_eq(buf[i], (unsigned char)(i * 7 + 3));
	expect_exit(pid, 0);
	free(buf);
}
END_TEST

START_TEST(test_programs_killed_peer_ends_the_lane)
{
	/* a program killed while its peer waits: the peer gets kHelErrEndOfLane */
	HelHandle a, b;
	hh_test_stream(&a, &b);
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork_tied();
	if (pid == 0) {
		/* Hold lane b (our copy of the universe) and wait to be killed. */
		helNop();
		if (write(ready[1], "x", 1) != 1)
			_exit(10);
		for (;;)
			pause();
	}
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	struct hq q;
	hh_test_open(&q, 4, 4, 1024);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b), kHelErrNone);
	struct HelAction recv = { .type = kHelActionRecvInline };
	ck_assert_int_eq(helSubmitAsync(a, &recv, 1, q.handle, 7, 0), kHelErrNone);
	hq_expect_empty(&q);      /* the child holds b */
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	struct HelElement *e = hh_test_next(&q, 7);
	ck_assert_int_eq(((struct HelInlineResult *)hq_payload(e))->error, kHelErrEndOfLane);
	/* and the emulator carries on */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 8), kHelErrNone);
	e = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_uint_eq((uintptr_t)e->context, 8);
}
END_TEST

START_TEST(test_programs_pushed_lane_crosses_programs)
{
	/* should succeed: a lane pushed over one stream carries a conversation of its own */
	HelHandle a, b, c, d;
	hh_test_stream(&a, &b);
	pid_t pid = fork_tied();
	if (pid == 0) {
		struct hq q;
		struct HelHandleResult r;
		if (hq_open(&q, 4, 4, 1024))
			_exit(10);
		struct HelAction pull = { .type = kHelActionPullDescriptor };
		if (one(&q, b, pull, &r, sizeof(r)) || !r.handle)
			_exit(11);
		_exit(send_bytes(&q, r.handle, "via d", 5) ? 12 : 0);
	}
	struct hq q;
	hh_test_open(&q, 4, 4, 1024);
	hh_test_stream(&c, &d);
	struct HelAction push = { .type = kHelActionPushDescriptor, .handle = d };
	ck_assert_int_eq(one(&q, a, push, NULL, 0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, d), kHelErrNone);
	char buf[16];
	size_t n;
	ck_assert_int_eq(recv_bytes(&q, c, buf, sizeof(buf), &n), kHelErrNone);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(memcmp(buf, "via d", 5), 0);
	expect_exit(pid, 0);
	/* the child held the last reference to d: it is gone now */
	struct HelAction recv = { .type = kHelActionRecvInline };
	ck_assert_int_eq(one(&q, c, recv, NULL, 0), kHelErrEndOfLane);
}
END_TEST

START_TEST(test_programs_registry_lookup_waits_for_publish)
{
	/* should succeed: the lookup waits until the child publishes */
	helNop();       /* start the emulator first, so that the child shares it */
	char echo[64];
	unique_name(echo, "test.echo");
	pid_t parent = getpid();
	pid_t pid = fork_tied();
	if (pid == 0) {
		struct hq q;
		HelHandle a, b;
		char buf[16];
		size_t n;
		/* Publish only once the parent's lookup is pending: it sleeps on its queue. */
		for (int i = 0; !task_in_futex_sleep(parent, parent); i++) {
			if (i == 100000)
				_exit(13);
			usleep(200);
		}
		if (hq_open(&q, 4, 4, 1024) || helCreateStream(&a, &b, 0) ||
				helhost_publish(echo, a))
			_exit(10);
		if (recv_bytes(&q, b, buf, sizeof(buf), &n))
			_exit(11);
		_exit(send_bytes(&q, b, buf, n) ? 12 : 0);
	}
	HelHandle lane;
	ck_assert_int_eq(helhost_lookup(echo, hq_deadline_ms(20000), &lane), kHelErrNone);
	ck_assert_int_gt(lane, 0);
	struct hq q;
	hh_test_open(&q, 4, 4, 1024);
	ck_assert_int_eq(send_bytes(&q, lane, "echo", 4), kHelErrNone);
	char buf[16];
	size_t n;
	ck_assert_int_eq(recv_bytes(&q, lane, buf, sizeof(buf), &n), kHelErrNone);
	ck_assert_int_eq(memcmp(buf, "echo", 4), 0);
	expect_exit(pid, 0);
	/* the publisher exited: its name is gone, a lookup times out (should fail) */
	ck_assert_int_eq(helhost_lookup(echo, hq_deadline_ms(30), &lane), kHelErrCancelled);
}
END_TEST

START_TEST(test_programs_registry_errors)
{
	HelHandle a, b, lane;
	hh_test_stream(&a, &b);
	char dup[64], none[64], unknown[64], later[64];
	unique_name(dup, "test.dup");
	unique_name(none, "test.none");
	unique_name(unknown, "test.unknown");
	unique_name(later, "test.later");
	/* bad names and handles (should fail) */
	ck_assert_int_eq(helhost_publish("", a), kHelErrIllegalArgs);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ck_assert_int_eq(helhost_publish(longname, a), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_publish("test.bad", 9999), kHelErrNoDescriptor);
	ck_assert_int_eq(helhost_unpublish(none), kHelErrNoDescriptor);
	/* publish twice (should fail), unpublish, publish again */
	ck_assert_int_eq(helhost_publish(dup, a), kHelErrNone);
	ck_assert_int_eq(helhost_publish(dup, b), kHelErrAlreadyExists);
	/* another program may not unpublish it (should fail) */
	pid_t pid = fork_tied();
	if (pid == 0)
		_exit(helhost_unpublish(dup) == kHelErrBadDescriptor ? 0 : 1);
	expect_exit(pid, 0);
	ck_assert_int_eq(helhost_unpublish(dup), kHelErrNone);
	ck_assert_int_eq(helhost_publish(dup, b), kHelErrNone);
	/* an elapsed deadline: kHelErrCancelled at once for an unknown name */
	ck_assert_int_eq(helhost_lookup(unknown, 0, &lane), kHelErrCancelled);
	/* an asynchronous lookup can be cancelled */
	struct hq q;
	uint64_t id;
	hh_test_open(&q, 4, 4, 1024);
	ck_assert_int_eq(helhost_submit_lookup(later, -1, q.handle, 5, &id), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(q.handle, id), kHelErrNone);
	struct HelElement *e = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_uint_eq((uintptr_t)e->context, 5);
	ck_assert_int_eq(((struct HelHandleResult *)hq_payload(e))->error, kHelErrCancelled);
	ck_assert_int_eq(helhost_submit_lookup(later, -1, 12345, 5, &id), kHelErrNoDescriptor);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("programs");
	TCase *tc = hh_test_case(s, "programs", 60);
	tcase_add_test(tc, test_programs_stream_request_reply);
	tcase_add_test(tc, test_programs_large_message_between_heaps);
	tcase_add_test(tc, test_programs_killed_peer_ends_the_lane);
	tcase_add_test(tc, test_programs_pushed_lane_crosses_programs);
	tcase_add_test(tc, test_programs_registry_lookup_waits_for_publish);
	tcase_add_test(tc, test_programs_registry_errors);
	return hh_test_main(s);
}
