/*
 * A thread's registration made by hand (the trap with token 0) instead of
 * by libhel: the emulator takes only a call page that is a memfd sealed
 * against shrinking and big enough, with a socket that is an AF_UNIX
 * SOCK_SEQPACKET socket, from the thread and process the page names.
 * Anything else is refused with EINVAL and changes nothing; a thread that
 * registers again gets a new token that works, and a token serves only the
 * thread it was given to.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <hel.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "callpage.h"
#include "fixture.h"
#include "own_page.h"

/* The registration trap: the token, or -errno. */
static long register_by_hand(int page_fd)
{
	long r = syscall(HH_TRAP_NR, HH_TOKEN_REGISTER, page_fd);
	return r < 0 ? -errno : r;
}

/* A memfd of size bytes, sealed against shrinking when sealed is set. */
static int page_memfd(size_t size, int sealed)
{
	int fd = memfd_create("forged-call-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	if (sealed)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

/*
 * A call page as libhel fills it for this thread (the process's nonce and
 * arena copied from a page libhel made for an earlier Hel call), naming
 * sock as the thread's socket.
 */
static int forged_page(int sock, struct hh_callpage **out)
{
	struct hh_callpage own;
	int fd = page_memfd(sizeof(struct hh_callpage), 1);
	struct hh_callpage *page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED,
			fd, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	/* Any call page of this process has the image's nonce and arena. */
	struct hh_callpage *libhel_page = own_call_page();
	ck_assert_ptr_nonnull(libhel_page);
	memcpy(&own, libhel_page, sizeof(own));
	page->tid = gettid();
	page->pid = getpid();
	page->image_nonce = own.image_nonce;
	page->arena_base = own.arena_base;
	page->arena_len = own.arena_len;
	page->sock = sock;
	*out = page;
	return fd;
}

/* The thread is still served: a nop completes through libhel. */
static void still_served(void)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 0x5e), kHelErrNone);
	hh_test_next(&q, 0x5e);
}

/* A memfd holding the first size bytes of page, sealed against shrinking when sealed is set. */
static int page_copy(const struct hh_callpage *page, size_t size, int sealed)
{
	int fd = page_memfd(size, 0);
	ck_assert_int_eq(pwrite(fd, page, size, 0), (ssize_t)size);
	if (sealed)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

START_TEST(test_register_forged_page_refused)
{
	still_served();         /* registers this thread and makes the process known */
	int sv[2], pipefd[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	struct hh_callpage *good;
	int fd = forged_page(sv[1], &good);
	/* should fail: not a memfd; the good page unsealed, or cut short; an fd not open */
	ck_assert_int_eq(register_by_hand(pipefd[0]), -EINVAL);
	ck_assert_int_eq(register_by_hand(page_copy(good, sizeof(*good), 0)), -EINVAL);
	ck_assert_uint_gt(sizeof(*good), 4096);   /* a page's worth holds the ids and socket */
	ck_assert_int_eq(register_by_hand(page_copy(good, 4096, 1)), -EINVAL);
	ck_assert_int_eq(register_by_hand(4000), -EINVAL);
	still_served();
	/* should succeed, the control: the good page itself is taken (libhel's record of
	 * this thread is replaced, so it makes no Hel call after this) */
	ck_assert_int_gt(register_by_hand(fd), 0);
}
END_TEST

START_TEST(test_register_forged_socket_or_ids_refused)
{
	still_served();
	int seq[2], stream[2], pipefd[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seq), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream), 0);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	struct hh_callpage *page;
	/* should fail: the socket is not open, not a socket, not SOCK_SEQPACKET */
	int fd = forged_page(-1, &page);
	ck_assert_int_eq(register_by_hand(fd), -EINVAL);
	page->sock = pipefd[0];
	ck_assert_int_eq(register_by_hand(fd), -EINVAL);
	page->sock = stream[1];
	ck_assert_int_eq(register_by_hand(fd), -EINVAL);
	/* should fail: the page names another thread or another process */
	page->sock = seq[1];
	page->tid = gettid() + 1;
	ck_assert_int_eq(register_by_hand(fd), -EINVAL);
	page->tid = gettid();
	page->pid = getpid() + 1;
	ck_assert_int_eq(register_by_hand(fd), -EINVAL);
	still_served();
	/* should succeed, the control: the same page with its own ids is taken */
	page->pid = getpid();
	ck_assert_int_gt(register_by_hand(fd), 0);
}
END_TEST

struct again {
	long token;
	HelError error;
	HelHandle handle;
};

/*
 * In a thread of its own, whose libhel record the new registration replaces
 * (the thread makes no libhel call afterwards).
 */
static void *register_again(void *arg)
{
	struct again *a = arg;
	HelHandle h;
	if (helCreateUniverse(&h) != kHelErrNone)   /* libhel registers this thread */
		return NULL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return NULL;
	struct hh_callpage *page;
	int fd = forged_page(sv[1], &page);
	a->token = register_by_hand(fd);
	if (a->token <= 0)
		return NULL;
	/* The new token serves calls through the new page. */
	page->call = kHelCallCreateUniverse;
	a->error = (HelError)syscall(HH_TRAP_NR, (uint64_t)a->token, 0);
	a->handle = (HelHandle)page->out[0];
	return NULL;
}

START_TEST(test_register_again_gets_a_new_token)
{
	/* should succeed: a registered thread registers again and its new token works */
	struct again a = { .token = 0, .error = -1, .handle = 0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, register_again, &a), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_gt(a.token, 0);
	ck_assert_int_eq(a.error, kHelErrNone);
	ck_assert_int_gt(a.handle, 0);
	/* the universe it made is in the process's table: this thread closes it */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a.handle), kHelErrNone);
	still_served();
}
END_TEST

struct holder {
	long token;
	int release;
};

/* Registers by hand and holds its token until released. */
static void *hold_a_token(void *arg)
{
	struct holder *h = arg;
	int sv[2];
	struct hh_callpage *page;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return NULL;
	long token = register_by_hand(forged_page(sv[1], &page));
	__atomic_store_n(&h->token, token, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

START_TEST(test_register_tokens_are_the_thread_s_own)
{
	still_served();         /* the process is known, so a thread may register by hand */
	/* should fail: a token never given, and another thread's token (EPERM) */
	ck_assert_int_eq(syscall(HH_TRAP_NR, 1ull << 40, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	struct holder h = { .token = 0, .release = 0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, hold_a_token, &h), 0);
	long token;
	for (int64_t end = hq_deadline_ms(HH_TEST_WAIT_MS);
			!(token = __atomic_load_n(&h.token, __ATOMIC_ACQUIRE)) && hq_deadline_ms(0) < end;)
		usleep(1000);
	ck_assert_int_gt(token, 0);
	ck_assert_int_eq(syscall(HH_TRAP_NR, (uint64_t)token, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	__atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	still_served();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("register");
	TCase *tc = hh_test_case(s, "register", 30);
	tcase_add_test(tc, test_register_forged_page_refused);
	tcase_add_test(tc, test_register_forged_socket_or_ids_refused);
	tcase_add_test(tc, test_register_again_gets_a_new_token);
	tcase_add_test(tc, test_register_tokens_are_the_thread_s_own);
	return hh_test_main(s);
}
