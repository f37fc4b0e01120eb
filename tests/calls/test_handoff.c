/*
 * The memfd hand-off: each registered thread has a socket on which the
 * emulator sends the memfds of its maps.  A fork's child must hold only its
 * own (its parent's threads' sockets would receive memfds meant for them).
 */
#include <check.h>
#include <dirent.h>
#include <hel.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"

/* SOCK_SEQPACKET sockets in our fd table: libhel's thread sockets. */
static int thread_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), type = 0;
		socklen_t len = sizeof(type);
		if (e->d_name[0] != '.' && fd != dirfd(d) &&
				!getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) && type == SOCK_SEQPACKET)
			n++;
	}
	closedir(d);
	return n;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;

/* A second registered thread that lives until told to end. */
static void *second_thread(void *arg)
{
	(void)arg;
	ck_assert_int_eq(helNop(), kHelErrNone);
	pthread_mutex_lock(&lock);
	stage = 1;
	pthread_cond_broadcast(&cond);
	while (stage != 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

START_TEST(test_handoff_fork_child_holds_only_its_socket)
{
	/* should succeed: two threads, two sockets (the count sees them) */
	ck_assert_int_eq(helNop(), kHelErrNone);
	int before = thread_sockets();
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, second_thread, NULL), 0);
	pthread_mutex_lock(&lock);
	while (stage != 1)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	ck_assert_int_eq(thread_sockets(), before + 1);
	/* should succeed: the child closes both and registers its own */
	pid_t pid = fork();
	if (pid == 0) {
		HelHandle mem;
		void *p;
		int ok = helAllocateMemory(4096, 0, NULL, &mem) == kHelErrNone &&
			helMapMemory(mem, kHelNullHandle, NULL, 0, 4096,
				kHelMapProtRead | kHelMapProtWrite, &p) == kHelErrNone &&
			thread_sockets() == before;
		_exit(ok ? 0 : 1);
	}
	int status = wait_child(pid, 30000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	pthread_mutex_lock(&lock);
	stage = 2;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	/* should succeed: an ended thread's socket is closed */
	ck_assert_int_eq(thread_sockets(), before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = hh_test_case(s, "handoff", 60);
	tcase_add_test(tc, test_handoff_fork_child_holds_only_its_socket);
	return hh_test_main(s);
}
