/*
 * Passing fds over a socketpair (hh_send_fds, hh_recv_fds in src/callpage.h),
 * with the messages a broken or hostile peer sends: no fds, too many, fewer
 * than the count says, more than the receiver takes, a count of the wrong
 * size, a peer that is gone.  A refused message must leave no fd open.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "callpage.h"

static int sv[2];

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

/* The lowest free fd: a refused message must not have taken any. */
static int lowest_free_fd(void)
{
	int fd = dup(0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

/* A message of hh_send_fds' shape with any count and any fds. */
static void send_raw(const void *data, size_t len, const int *fds, size_t nfds)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * 4)]; } control = { 0 };
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(sv[0], &msg, 0), (ssize_t)len);
}

START_TEST(test_fd_passing_round_trip)
{
	/* should succeed: two fds arrive as new fds of the same files, close-on-exec */
	int fds[2] = { 0, 1 }, got[2];
	ck_assert_int_eq(hh_send_fds(sv[0], fds, 2), 0);
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 2, 0), 2);
	ck_assert_int_ne(got[0], 0);
	ck_assert_int_eq(fcntl(got[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(got[0]);
	close(got[1]);
}
END_TEST

START_TEST(test_fd_passing_send_refuses_counts)
{
	/* should fail: nothing to send, or more than one message may carry */
	int fds[HH_MAX_FDS + 1] = { 0 };
	ck_assert_int_eq(hh_send_fds(sv[0], fds, 0), -EINVAL);
	ck_assert_int_eq(hh_send_fds(sv[0], fds, HH_MAX_FDS + 1), -EINVAL);
	/* should fail: the peer is gone */
	close(sv[1]);
	sv[1] = dup(0);
	ck_assert_int_eq(hh_send_fds(sv[0], fds, 1), -EPIPE);
}
END_TEST

START_TEST(test_fd_passing_recv_refuses_mismatches)
{
	int free_fd = lowest_free_fd(), got[2], fds[2] = { 0, 1 };
	uint32_t two = 2, one = 1;
	/* should fail: the count says two, one fd came */
	send_raw(&two, sizeof(two), fds, 1);
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 2, 0), -EPROTO);
	/* should fail: two fds, but the receiver takes one */
	ck_assert_int_eq(hh_send_fds(sv[0], fds, 2), 0);
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 1, 0), -EPROTO);
	/* should fail: a count of the wrong size, and no fds at all */
	send_raw(&one, 2, NULL, 0);
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 2, 0), -EPROTO);
	ck_assert_int_eq(lowest_free_fd(), free_fd);
	/* should fail: nothing there (non-blocking), then the peer gone (end of file) */
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 2, MSG_DONTWAIT), -EAGAIN);
	close(sv[0]);
	sv[0] = dup(0);
	ck_assert_int_eq(hh_recv_fds(sv[1], got, 2, 0), -EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fd_passing");
	TCase *tc = tcase_create("fd_passing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fd_passing_round_trip);
	tcase_add_test(tc, test_fd_passing_send_refuses_counts);
	tcase_add_test(tc, test_fd_passing_recv_refuses_mismatches);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
