/*
 * A program that dies with operations pending (docs/RELIABILITY.md, "When a
 * program dies"): its peers get the documented errors, its operations never
 * match anything again, and everything only it held is freed.
 *
 * Each test forks a child program that shares the test's emulator (the
 * child's universe is a copy of ours at the fork), lets it submit operations
 * and kills it or lets it exit; the test, as the peer, then checks what it
 * sees, and the emulator's open files show what was released.
 */
#include <check.h>
#include <dirent.h>
#include <hel.h>
#include <helhost.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "sq.h"

#define PAGE 4096
#define LONG_MS 20000   /* a safety net against hangs, never a measurement */

/* ---- memory shared with the children ---- */

static volatile int *shared_words(void)
{
	HelHandle mem;
	void *p = NULL;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &mem), kHelErrNone);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, &p), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mem), kHelErrNone);
	return p;
}

static void await_word(volatile int *w, int value)
{
	for (int i = 0; i < LONG_MS; i++) {
		if (__atomic_load_n(w, __ATOMIC_ACQUIRE) == value)
			return;
		usleep(1000);
	}
	ck_abort_msg("the child never got ready");
}

/* The child's part is done: say so and wait to be killed. */
static _Noreturn void ready_and_wait(volatile int *ready)
{
	__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static void kill_and_reap(pid_t pid)
{
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	int status = wait_child(pid, LONG_MS);
	ck_assert(WIFSIGNALED(status));
}

/* ---- the emulator's open files ---- */

/* The emulator serving this process: the helhost process holding a pidfd of ours. */
static pid_t emulator_pid(void)
{
	char want[32];
	snprintf(want, sizeof(want), "Pid:\t%d\n", (int)getpid());
	DIR *proc = opendir("/proc");
	ck_assert_ptr_nonnull(proc);
	pid_t found = 0;
	struct dirent *d;
	while (!found && (d = readdir(proc))) {
		char path[300], comm[32] = "";
		pid_t pid = atoi(d->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strcmp(comm, "helhost\n"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
		DIR *fds = opendir(path);
		struct dirent *fd;
		while (fds && !found && (fd = readdir(fds))) {
			char info[4096];
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fd->d_name);
			FILE *fi = fopen(path, "r");
			if (!fi)
				continue;
			size_t n = fread(info, 1, sizeof(info) - 1, fi);
			fclose(fi);
			info[n] = 0;
			if (strstr(info, want))
				found = pid;
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	ck_assert_msg(found > 0, "no emulator holds a pidfd of this process");
	return found;
}

struct files {
	int fds;
	int memfds;
	long rss_kib;
};

static struct files emulator_files(pid_t emu)
{
	struct files r = { 0, 0, 0 };
	char path[300], link[300];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)emu);
	DIR *dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	struct dirent *d;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		r.fds++;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)emu, d->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, !strncmp(link, "/memfd:", 7)))
			r.memfds++;
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)emu);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[256];
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmRSS: %ld", &r.rss_kib);
	fclose(f);
	return r;
}

/* Wait until the emulator holds exactly as many files as at base. */
static struct files await_files(pid_t emu, struct files base)
{
	struct files now = emulator_files(emu);
	for (int i = 0; i < LONG_MS && (now.fds != base.fds || now.memfds != base.memfds); i++) {
		usleep(1000);
		now = emulator_files(emu);
	}
	ck_assert_int_eq(now.fds, base.fds);
	ck_assert_int_eq(now.memfds, base.memfds);
	return now;
}

/* ---- lanes whose one end a child takes to its death ---- */

struct pair {
	HelHandle theirs;       /* the child's end; we close our copy after the fork */
	HelHandle ours;
};

static struct pair new_pair(void)
{
	struct pair p;
	hh_test_stream(&p.theirs, &p.ours);
	return p;
}

/* Submit actions on lane from a child (its own queue, which dies with it). */
static void child_submit(HelHandle lane, struct HelAction *actions, size_t n)
{
	struct hq q;
	CHILD_CHECK(hq_open(&q, 2, 1, 4096) == kHelErrNone);
	CHILD_CHECK(helSubmitAsync(lane, actions, n, q.handle, 1, 0) == kHelErrNone);
}

/*
 * Fork a child that submits actions on the pair's far end and then waits
 * to be killed; kill it once its submission is in.
 */
static void child_dies_with(struct pair p, struct HelAction *actions, size_t n)
{
	volatile int *ready = shared_words();
	pid_t pid = fork_tied();
	if (!pid) {
		child_submit(p.theirs, actions, n);
		ready_and_wait(ready);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, p.theirs), kHelErrNone);
	await_word(ready, 1);
	kill_and_reap(pid);
}

static HelError submit_one(struct sq *s, HelHandle lane, struct HelAction action, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitAsync(lane, &action, 1, s->q.handle, ctx, 0), kHelErrNone);
	struct el *e = get(s, ctx);
	HelError r;
	if (action.type == kHelActionOffer || action.type == kHelActionAccept) {
		HelHandle h;
		r = handle_res(e, &h);
	} else if (action.type == kHelActionRecvInline) {
		size_t len;
		r = inline_res(e, NULL, &len);
	} else {
		r = simple(e);
	}
	end(e);
	return r;
}

/* A peer that died with dead[0..n) pending: our action on the lane fails with EndOfLane. */
static void peer_died_with(struct HelAction *dead, size_t n, struct HelAction ours)
{
	struct sq s;
	sq_open(&s);
	struct pair p = new_pair();
	child_dies_with(p, dead, n);
	ck_assert_int_eq(submit_one(&s, p.ours, ours, 1), kHelErrEndOfLane);
	/* Later submissions too. */
	ck_assert_int_eq(submit_one(&s, p.ours, ours, 2), kHelErrEndOfLane);
}

START_TEST(test_death_accepts_never_match)
{
	/* should fail: an Offer on the lane of a server killed with two Accepts armed */
	struct HelAction accepts[] = { ACCEPT(CH), ACCEPT(0) };
	peer_died_with(accepts, 2, OFFER(0));
}
END_TEST

START_TEST(test_death_send_is_not_delivered)
{
	/* should fail: a receive on a lane whose dead peer had a send queued */
	struct HelAction send[] = { SENDS("from the dead", 0) };
	peer_died_with(send, 1, RECV_INLINE(0));
}
END_TEST

START_TEST(test_death_receive_takes_nothing)
{
	/* should fail: a send to a peer that died with a receive pending */
	struct HelAction recv[] = { RECV_INLINE(0) };
	peer_died_with(recv, 1, SENDS("to the dead", 0));
}
END_TEST

START_TEST(test_death_offer_is_not_accepted)
{
	/* should fail: an Accept on a lane whose dead peer had an Offer (with a send) queued */
	struct HelAction offer[] = { OFFER(ANC), SENDS("request", 0) };
	peer_died_with(offer, 2, ACCEPT(0));
}
END_TEST

START_TEST(test_death_waiting_peer_gets_end_of_lane)
{
	/* should fail: a receive pending before the peer died completes with EndOfLane */
	struct sq s;
	sq_open(&s);
	struct pair p = new_pair();
	struct HelAction recv = RECV_INLINE(0);
	ck_assert_int_eq(helSubmitAsync(p.ours, &recv, 1, s.q.handle, 7, 0), kHelErrNone);
	volatile int *ready = shared_words();
	pid_t pid = fork_tied();
	if (!pid)
		ready_and_wait(ready);  /* holds the lane, submits nothing */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, p.theirs), kHelErrNone);
	await_word(ready, 1);
	kill_and_reap(pid);
	size_t len;
	struct el *e = get(&s, 7);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	end(e);
}
END_TEST

START_TEST(test_death_cancel_finds_nothing)
{
	/*
	 * should succeed: a dead child's clock wait in our (shared) queue is gone:
	 * cancelling its ID does nothing and no element of it ever arrives.
	 */
	struct sq s;
	sq_open(&s);
	volatile int *words = shared_words();
	volatile uint64_t *id = (volatile uint64_t *)&words[2];
	pid_t pid = fork_tied();
	if (!pid) {
		uint64_t now, async;
		helGetClock(&now);
		CHILD_CHECK(helSubmitAwaitClock(now + 3600000000000ull, s.q.handle, 0xdead,
				&async) == kHelErrNone);
		*id = async;
		ready_and_wait(&words[0]);
	}
	await_word(&words[0], 1);
	kill_and_reap(pid);
	ck_assert_uint_ne(*id, 0);
	ck_assert_int_eq(helCancelAsync(s.q.handle, *id), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(s.q.handle, 0x5e9), kHelErrNone);
	struct el *e = sq_next(&s, LONG_MS);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->ctx, 0x5e9);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

/*
 * A child submits one operation into a queue of its own (submit(queue, arg)),
 * is killed with it pending, and the emulator ends up holding exactly the
 * files it held before the child existed.
 */
static void child_dies_waiting(bool (*submit)(HelHandle queue, const void *arg), const void *arg)
{
	volatile int *ready = shared_words();
	pid_t emu = emulator_pid();
	struct files base = emulator_files(emu);
	pid_t pid = fork_tied();
	if (!pid) {
		struct hq q;
		CHILD_CHECK(hq_open(&q, 2, 1, 4096) == kHelErrNone);
		CHILD_CHECK(submit(q.handle, arg));
		ready_and_wait(ready);
	}
	await_word(ready, 1);
	kill_and_reap(pid);
	await_files(emu, base);
}

static bool await_event(HelHandle queue, const void *event)
{
	uint64_t async;
	return helSubmitAwaitEvent(*(const HelHandle *)event, 1, queue, 1, &async) == kHelErrNone;
}

START_TEST(test_death_event_await_released)
{
	/* should succeed: an event a dead child awaited still works for us, and its await is gone */
	struct sq s;
	sq_open(&s);
	HelHandle ev;
	ck_assert_int_eq(helCreateOneshotEvent(&ev), kHelErrNone);
	child_dies_waiting(await_event, &ev);
	uint64_t async;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, s.q.handle, 3, &async), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	struct el *e = get(&s, 3);
	struct HelEventResult r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.error, kHelErrNone);
	end(e);
}
END_TEST

static bool look_up(HelHandle queue, const void *name)
{
	uint64_t async;
	return helhost_submit_lookup(name, -1, queue, 1, &async) == kHelErrNone;
}

START_TEST(test_death_lookup_released)
{
	/* should succeed: a dead child's pending lookup holds nothing; the name works for us */
	char name[64];
	snprintf(name, sizeof(name), "test-death-%d", (int)getpid());
	child_dies_waiting(look_up, name);
	struct pair p = new_pair();
	ck_assert_int_eq(helhost_publish(name, p.theirs), kHelErrNone);
	HelHandle found;
	ck_assert_int_eq(helhost_lookup(name, -1, &found), kHelErrNone);
	ck_assert_int_ne(found, kHelNullHandle);
}
END_TEST

/* ---- everything at once, many times ---- */

/* One program's worth of pending operations of every kind, then death. */
static _Noreturn void child_with_everything(HelHandle event, HelHandle shared_lane, bool crash)
{
	struct hq q;
	uint64_t now, async;
	CHILD_CHECK(hq_open(&q, 2, 2, 4096) == kHelErrNone);
	HelHandle a, b, c, d;
	CHILD_CHECK(helCreateStream(&a, &b, 0) == kHelErrNone);
	CHILD_CHECK(helCreateStream(&c, &d, 1) == kHelErrNone);
	struct HelAction accepts[] = { ACCEPT(CH), ACCEPT(0) };
	struct HelAction offer[] = { OFFER(ANC), SENDS("x", 0) };
	struct HelAction recv = RECV_INLINE(0), send = SENDS("y", 0);
	CHILD_CHECK(helSubmitAsync(a, accepts, 2, q.handle, 1, 0) == kHelErrNone);
	CHILD_CHECK(helSubmitAsync(c, offer, 2, q.handle, 2, 0) == kHelErrNone);
	CHILD_CHECK(helSubmitAsync(d, &recv, 1, q.handle, 3, 0) == kHelErrNone);
	CHILD_CHECK(helSubmitAsync(shared_lane, &send, 1, q.handle, 4, 0) == kHelErrNone);
	helGetClock(&now);
	CHILD_CHECK(helSubmitAwaitClock(now + 3600000000000ull, q.handle, 5, &async) == kHelErrNone);
	CHILD_CHECK(helSubmitAwaitEvent(event, 1, q.handle, 6, &async) == kHelErrNone);
	CHILD_CHECK(helhost_submit_lookup("test-death-never-published", -1, q.handle, 7, &async)
			== kHelErrNone);
	HelHandle mem;
	void *p = NULL;
	CHILD_CHECK(helAllocateMemory(16 * PAGE, 0, NULL, &mem) == kHelErrNone);
	CHILD_CHECK(helMapMemory(mem, kHelNullHandle, NULL, 0, 16 * PAGE,
			kHelMapProtRead | kHelMapProtWrite, &p) == kHelErrNone);
	memset(p, 0x5a, 16 * PAGE);
	CHILD_CHECK(helSubmitLockMemoryView(mem, 0, 4 * PAGE, q.handle, 8) == kHelErrNone);
	if (crash)
		raise(SIGKILL);
	_exit(0);
}

START_TEST(test_death_spare_memfds_released)
{
	/*
	 * should succeed: a program that allocated and closed memory objects,
	 * whose memfds the emulator keeps for its next ones, is killed while
	 * still allocating and closing (often inside a call): the emulator ends
	 * up holding exactly the files and memfds it held before.
	 */
	volatile int *ready = shared_words();
	pid_t emu = emulator_pid();
	struct files base = emulator_files(emu);
	pid_t pid = fork_tied();
	if (!pid) {
		HelHandle kept, h[16];
		void *p = NULL;
		CHILD_CHECK(helAllocateMemory(PAGE, 0, NULL, &kept) == kHelErrNone);
		CHILD_CHECK(helMapMemory(kept, kHelNullHandle, NULL, 0, PAGE,
				kHelMapProtRead | kHelMapProtWrite, &p) == kHelErrNone);
		for (int i = 0; i < 16; i++)
			CHILD_CHECK(helAllocateMemory(PAGE, 0, NULL, &h[i]) == kHelErrNone);
		for (int i = 0; i < 16; i++)
			CHILD_CHECK(helCloseDescriptor(kHelThisUniverse, h[i]) == kHelErrNone);
		__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
		for (;;) {
			CHILD_CHECK(helAllocateMemory(PAGE, 0, NULL, &h[0]) == kHelErrNone);
			CHILD_CHECK(helCloseDescriptor(kHelThisUniverse, h[0]) == kHelErrNone);
		}
	}
	await_word(ready, 1);
	kill_and_reap(pid);
	await_files(emu, base);
}
END_TEST

START_TEST(test_death_soak)
{
	/*
	 * should succeed: after 1000 programs died (half killed, half exiting) with
	 * every kind of operation pending, the emulator holds exactly the files it
	 * held before, and its memory has not grown with them.
	 */
	struct sq s;
	sq_open(&s);
	HelHandle ev;
	ck_assert_int_eq(helCreateOneshotEvent(&ev), kHelErrNone);
	struct pair shared = new_pair();
	pid_t emu = emulator_pid();
	/* Warm up allocators with one round before taking the baseline. */
	for (int round = 0; round < 2; round++) {
		struct files base = emulator_files(emu);
		int n = round ? 1000 : 20;
		for (int i = 0; i < n; i++) {
			pid_t pid = fork_tied();
			if (!pid)
				child_with_everything(ev, shared.theirs, i % 2);
			int status = wait_child(pid, LONG_MS);
			ck_assert(WIFEXITED(status) || WIFSIGNALED(status));
			ck_assert(!WIFEXITED(status) || WEXITSTATUS(status) == 0);
		}
		struct files after = await_files(emu, base);
		fprintf(stderr, "test_death_soak: %d programs died; emulator fds %d -> %d, memfds %d -> %d, "
				"RSS %ld -> %ld KiB\n", n, base.fds, after.fds, base.memfds, after.memfds,
				base.rss_kib, after.rss_kib);
		if (round)
			ck_assert_msg(after.rss_kib - base.rss_kib < 16 * 1024,
					"emulator RSS grew from %ld to %ld KiB", base.rss_kib, after.rss_kib);
	}
	/* The lane they all sent on is ours too: none of their sends is ever delivered. */
	struct HelAction recv = RECV_INLINE(0), send = SENDS("mine", 0);
	ck_assert_int_eq(helSubmitAsync(shared.ours, &recv, 1, s.q.handle, 1, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(shared.theirs, &send, 1, s.q.handle, 2, 0), kHelErrNone);
	char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(data, "mine", 4), 0);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
}
END_TEST

START_TEST(test_death_pending_limit)
{
	/*
	 * should fail: the ninth pending operation of a program allowed eight
	 * (HELHOST_MAX_PENDING, read by the emulator this test starts); completing
	 * or cancelling one makes room again.
	 */
	ck_assert_int_eq(setenv("HELHOST_MAX_PENDING", "8", 1), 0);
	struct sq s;
	sq_open(&s);
	uint64_t now, ids[8], id;
	helGetClock(&now);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, s.q.handle, i, &ids[i]),
				kHelErrNone);
	struct pair p = new_pair();
	struct HelAction recv = RECV_INLINE(0);
	ck_assert_int_eq(helSubmitAsync(p.ours, &recv, 1, s.q.handle, 7, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, s.q.handle, 8, &id),
			kHelErrNoMemory);
	ck_assert_int_eq(helSubmitAsync(p.ours, &recv, 1, s.q.handle, 9, 0), kHelErrNoMemory);
	/* Nops complete at once: never pending, never refused. */
	ck_assert_int_eq(helSubmitAsyncNop(s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(s.q.handle, ids[0]), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 0), kHelErrCancelled);
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, s.q.handle, 11, &id),
			kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock(now, s.q.handle, 12, &id), kHelErrNoMemory);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("death");
	TCase *tc = hh_test_case(s, "death", 120);
	tcase_add_test(tc, test_death_accepts_never_match);
	tcase_add_test(tc, test_death_send_is_not_delivered);
	tcase_add_test(tc, test_death_receive_takes_nothing);
	tcase_add_test(tc, test_death_offer_is_not_accepted);
	tcase_add_test(tc, test_death_waiting_peer_gets_end_of_lane);
	tcase_add_test(tc, test_death_cancel_finds_nothing);
	tcase_add_test(tc, test_death_event_await_released);
	tcase_add_test(tc, test_death_lookup_released);
	tcase_add_test(tc, test_death_spare_memfds_released);
	tcase_add_test(tc, test_death_soak);
	tcase_add_test(tc, test_death_pending_limit);
	return hh_test_main(s);
}
