/*
 * The registry (src/objects/registry.c), linked directly with process records
 * (src/host/process.c) as owners: publish and unpublish, lookups that complete
 * at once, wait for a publish, time out or are cancelled, and names that go
 * with their program (include/helhost.h, QUEUES.md §9).
 *
 * Owners are real process records: this test process itself (a pidfd of
 * getpid() never signals an exit) or a child that the test kills.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "loop.h"
#include "object.h"
#include "process.h"
#include "queue.h"
#include "registry.h"
#include "stream.h"
#include "token.h"
#include "universe.h"

/* What the test, as a program, has pending. */
static struct hh_pending_list pending = { .pidfd = -1 };

#define MS 1000000ull

/* ---- the program's side of the queue ---- */

static struct HelChunk *chunk0(struct hh_queue *q)
{
	return (struct HelChunk *)(q->map + q->chunks_offset);
}

static int progress(struct hh_queue *q)
{
	return __atomic_load_n(&chunk0(q)->progressFutex, __ATOMIC_ACQUIRE);
}

static struct hh_queue *new_queue(void)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 2048 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	struct HelQueue *head = (struct HelQueue *)q->map;
	head->indexQueue[0] = 0;
	__atomic_store_n(&head->headFutex, 1, __ATOMIC_RELEASE);
	return q;
}

/* Each element of a HelHandleResult takes 16 + 16 bytes. */
#define HANDLE_ELEMENT 32

/* The n-th element is a HelHandleResult; returns its handle. */
static HelHandle check_handle(struct hh_queue *q, unsigned n, uint64_t context, HelError error)
{
	struct HelElement *e = (struct HelElement *)(chunk0(q)->buffer + n * HANDLE_ELEMENT);
	ck_assert_uint_eq(e->length, sizeof(struct HelHandleResult));
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq((uintptr_t)e->context, context);
	struct HelHandleResult *r = (struct HelHandleResult *)(e + 1);
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
	if (error)
		ck_assert_int_eq(r->handle, kHelNullHandle);
	else
		ck_assert_int_ne(r->handle, kHelNullHandle);
	return r->handle;
}

/* ---- fixture: a loop, a queue, a universe, a token to publish, this process as owner ---- */

static struct hh_queue *q;
static struct hh_universe *u;
static struct hh_token *tok;
static struct hh_process *self, *self2;

static struct hh_process *owner_self(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	ck_assert_int_ge(pidfd, 0);
	struct hh_process *p = hh_process_launched(getpid(), pidfd, "self", 1);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void setup(void)
{
	ck_assert_int_eq(hh_loop_init(), 0);
	q = new_queue();
	u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	tok = hh_token_create();
	ck_assert_ptr_nonnull(tok);
	self = owner_self();
	self2 = owner_self();
}

static void teardown(void)
{
	hh_registry_forget(self);
	hh_registry_forget(self2);
	hh_object_unref(&tok->base);
	hh_object_unref(&u->base);
	hh_object_unref(&q->base);
	hh_loop_settle();
	hh_loop_fini();
}

static struct hh_desc token_desc(void)
{
	return (struct hh_desc){ .obj = &tok->base, .aux = 0 };
}

/* The object a handle of u names. */
static struct hh_object *resolved(struct hh_universe *in, HelHandle h)
{
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(in, h, 0, &d), kHelErrNone);
	return d.obj;
}

/* ---- running the loop ---- */

static int wanted_progress;
static struct hh_queue *watched;

static bool enough_progress(void)
{
	return progress(watched) >= wanted_progress;
}

static void run_until_progress(struct hh_queue *in, int n)
{
	watched = in;
	wanted_progress = n;
	ck_assert_int_eq(hh_loop_run(enough_progress), 0);
}

static bool timer_fired;

static void stop_timer(struct hh_timer *t)
{
	(void)t;
	timer_fired = true;
}

static bool stopped(void)
{
	return timer_fired;
}

static void run_for(uint64_t ns)
{
	struct hh_timer t;
	hh_timer_init(&t, stop_timer);
	timer_fired = false;
	hh_timer_start(&t, hh_now() + ns);
	ck_assert_int_eq(hh_loop_run(stopped), 0);
}

/* ---- a program that dies ---- */

/* A child process, known as a launched program, that waits to be killed. */
static struct hh_process *child_owner(void)
{
	pid_t pid = fork_tied();
	if (pid == 0) {
		for (;;)
			pause();
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ck_assert_int_ge(pidfd, 0);
	struct hh_process *p = hh_process_launched(pid, pidfd, "child", 1);
	ck_assert_ptr_nonnull(p);
	ck_assert(!hh_process_gone(p));
	return p;
}

/* Kill it and wait until its pidfd says so (the loop has not seen it yet). */
static void kill_owner(struct hh_process *p)
{
	ck_assert_int_eq(syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0), 0);
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert(!p->exited);
	ck_assert(hh_process_gone(p));
}

static struct hh_process *exit_watched;

static bool exit_seen(void)
{
	return exit_watched->exited;
}

/* ---- publish and unpublish ---- */

START_TEST(test_registry_publish_then_lookup)
{
	/* should succeed: a lookup of a published name completes at once with a new handle */
	ck_assert(!hh_process_gone(self));
	ck_assert_int_eq(hh_registry_publish("test.svc", token_desc(), self), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 2);   /* the registry's own reference */
	uint64_t id = hh_registry_lookup("test.svc", -1, u, q, 0x100, &pending);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
	HelHandle h = check_handle(q, 0, 0x100, kHelErrNone);
	ck_assert_ptr_eq(resolved(u, h), &tok->base);
	ck_assert_uint_eq(tok->base.refs, 3);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(u->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* a second lookup gets a handle of its own */
	ck_assert_uint_eq(hh_registry_lookup("test.svc", 0, u, q, 0x101, &pending), 2);
	HelHandle h2 = check_handle(q, 1, 0x101, kHelErrNone);
	ck_assert_int_ne(h2, h);
	ck_assert_ptr_eq(resolved(u, h2), &tok->base);
	ck_assert_uint_eq(tok->base.refs, 4);
}
END_TEST

START_TEST(test_registry_publish_taken)
{
	/* a name published already, by the same or another owner (should fail) */
	struct hh_token *other = hh_token_create();
	ck_assert_int_eq(hh_registry_publish("test.dup", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.dup", token_desc(), self), kHelErrAlreadyExists);
	ck_assert_int_eq(hh_registry_publish("test.dup", (struct hh_desc){ &other->base, 0 }, self2),
			kHelErrAlreadyExists);
	ck_assert_uint_eq(tok->base.refs, 2);
	ck_assert_uint_eq(other->base.refs, 1);
	/* should succeed: other names are free; names are compared whole */
	ck_assert_int_eq(hh_registry_publish("test.du", (struct hh_desc){ &other->base, 0 }, self2),
			kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.dupe", token_desc(), self2), kHelErrNone);
	hh_registry_lookup("test.dup", 0, u, q, 1, &pending);
	hh_registry_lookup("test.du", 0, u, q, 2, &pending);
	ck_assert_ptr_eq(resolved(u, check_handle(q, 0, 1, kHelErrNone)), &tok->base);
	ck_assert_ptr_eq(resolved(u, check_handle(q, 1, 2, kHelErrNone)), &other->base);
	hh_registry_forget(self2);
	hh_object_unref(&other->base);
}
END_TEST

START_TEST(test_registry_unpublish)
{
	/* should succeed: the owner unpublishes; the registry's reference goes */
	ck_assert_int_eq(hh_registry_publish("test.gone", token_desc(), self), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 2);
	ck_assert_int_eq(hh_registry_unpublish("test.gone", self), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 1);
	/* the name is free again and no longer found */
	ck_assert_uint_eq(hh_registry_lookup("test.gone", 0, u, q, 7, &pending), 1);
	check_handle(q, 0, 7, kHelErrCancelled);
	ck_assert_uint_eq(u->count, 0);
	ck_assert_int_eq(hh_registry_publish("test.gone", token_desc(), self2), kHelErrNone);
	ck_assert_int_eq(hh_registry_unpublish("test.gone", self2), kHelErrNone);
}
END_TEST

START_TEST(test_registry_unpublish_errors)
{
	ck_assert_int_eq(hh_registry_publish("test.mine", token_desc(), self), kHelErrNone);
	/* another program's name (should fail) */
	ck_assert_int_eq(hh_registry_unpublish("test.mine", self2), kHelErrBadDescriptor);
	/* a name never published, or a prefix of one (should fail) */
	ck_assert_int_eq(hh_registry_unpublish("test.none", self), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_registry_unpublish("test.min", self), kHelErrNoDescriptor);
	ck_assert_uint_eq(tok->base.refs, 2);
	/* should succeed: the owner's own, once; then it is gone (should fail) */
	ck_assert_int_eq(hh_registry_unpublish("test.mine", self), kHelErrNone);
	ck_assert_int_eq(hh_registry_unpublish("test.mine", self), kHelErrNoDescriptor);
	ck_assert_uint_eq(tok->base.refs, 1);
}
END_TEST

START_TEST(test_registry_forget)
{
	/* should succeed: forgetting a program drops its names only */
	struct hh_token *other = hh_token_create();
	ck_assert_int_eq(hh_registry_publish("test.a", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.b", (struct hh_desc){ &other->base, 0 }, self2),
			kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.c", token_desc(), self), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 3);
	hh_registry_forget(self);
	ck_assert_uint_eq(tok->base.refs, 1);
	ck_assert_uint_eq(other->base.refs, 2);
	hh_registry_lookup("test.a", 0, u, q, 1, &pending);
	hh_registry_lookup("test.b", 0, u, q, 2, &pending);
	hh_registry_lookup("test.c", 0, u, q, 3, &pending);
	check_handle(q, 0, 1, kHelErrCancelled);
	ck_assert_ptr_eq(resolved(u, check_handle(q, 1, 2, kHelErrNone)), &other->base);
	check_handle(q, 2, 3, kHelErrCancelled);
	/* forgetting a program without names changes nothing */
	hh_registry_forget(self);
	ck_assert_uint_eq(other->base.refs, 3);
	hh_registry_forget(self2);
	ck_assert_uint_eq(other->base.refs, 2);         /* the handle in u is left */
	hh_object_unref(&other->base);
}
END_TEST

/* ---- waiting lookups ---- */

START_TEST(test_registry_lookup_waits_for_publish)
{
	/* should succeed: a lookup of an unknown name waits; the publish completes it */
	uint64_t id = hh_registry_lookup("test.later", -1, u, q, 0x1a7e, &pending);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(progress(q), 0);
	ck_assert_uint_ne(q->async_count, 0);
	/* a pending lookup holds its queue and universe */
	ck_assert_uint_eq(q->base.refs, 2);
	ck_assert_uint_eq(u->base.refs, 2);
	run_for(10 * MS);                       /* no deadline: nothing happens */
	ck_assert_int_eq(progress(q), 0);
	ck_assert_int_eq(hh_registry_publish("test.later", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
	HelHandle h = check_handle(q, 0, 0x1a7e, kHelErrNone);
	ck_assert_ptr_eq(resolved(u, h), &tok->base);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(u->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* cancelling it afterwards changes nothing */
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
}
END_TEST

START_TEST(test_registry_lookup_waiters_of_one_name)
{
	/* should succeed: every lookup waiting for a name gets it; others keep waiting */
	struct hh_universe *u2 = hh_universe_create();
	hh_registry_lookup("test.x", -1, u, q, 1, &pending);
	hh_registry_lookup("test.y", -1, u, q, 2, &pending);
	hh_registry_lookup("test.x", -1, u2, q, 3, &pending);
	hh_registry_lookup("test.x", hh_now() + 10000 * MS, u, q, 4, &pending);
	ck_assert_uint_eq(q->base.refs, 5);
	ck_assert_int_eq(hh_registry_publish("test.x", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(progress(q), 3 * HANDLE_ELEMENT);
	/* each handle lands in its lookup's universe */
	unsigned seen = 0;
	for (unsigned i = 0; i < 3; i++) {
		struct HelElement *e = (struct HelElement *)(chunk0(q)->buffer + i * HANDLE_ELEMENT);
		uint64_t ctx = (uintptr_t)e->context;
		HelHandle h = check_handle(q, i, ctx, kHelErrNone);
		ck_assert_ptr_eq(resolved(ctx == 3 ? u2 : u, h), &tok->base);
		seen |= 1u << ctx;
	}
	ck_assert_uint_eq(seen, (1u << 1) | (1u << 3) | (1u << 4));
	ck_assert_uint_eq(u2->count, 1);
	ck_assert_uint_eq(u->count, 2);
	ck_assert_uint_eq(q->base.refs, 2);     /* test.y still waits */
	/* the timer of the completed lookup is gone: nothing fires later */
	run_for(10 * MS);
	ck_assert_int_eq(progress(q), 3 * HANDLE_ELEMENT);
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	check_handle(q, 3, 2, kHelErrCancelled);
	hh_object_unref(&u2->base);
}
END_TEST

START_TEST(test_registry_lookup_times_out)
{
	/* a lookup whose deadline passes first (should fail with kHelErrCancelled) */
	uint64_t deadline = hh_now() + 20 * MS;
	uint64_t id = hh_registry_lookup("test.never", (int64_t)deadline, u, q, 0x71, &pending);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(progress(q), 0);
	run_until_progress(q, HANDLE_ELEMENT);
	ck_assert_uint_ge(hh_now(), deadline);
	check_handle(q, 0, 0x71, kHelErrCancelled);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(u->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* a publish afterwards finds no waiter */
	ck_assert_int_eq(hh_registry_publish("test.never", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
	ck_assert_uint_eq(u->count, 0);
}
END_TEST

START_TEST(test_registry_lookup_elapsed_deadline)
{
	/* a deadline already past and no such name (should fail at once) */
	ck_assert_uint_eq(hh_registry_lookup("test.none", 0, u, q, 1, &pending), 1);
	ck_assert_uint_eq(hh_registry_lookup("test.none", (int64_t)hh_now(), u, q, 2, &pending), 2);
	ck_assert_int_eq(progress(q), 2 * HANDLE_ELEMENT);
	check_handle(q, 0, 1, kHelErrCancelled);
	check_handle(q, 1, 2, kHelErrCancelled);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* should succeed: a past deadline does not matter when the name is there */
	ck_assert_int_eq(hh_registry_publish("test.none", token_desc(), self), kHelErrNone);
	hh_registry_lookup("test.none", 0, u, q, 3, &pending);
	check_handle(q, 2, 3, kHelErrNone);
}
END_TEST

START_TEST(test_registry_lookup_cancel)
{
	/* a cancelled lookup (should fail with kHelErrCancelled); its timer goes too */
	uint64_t id = hh_registry_lookup("test.c", (int64_t)(hh_now() + 20 * MS), u, q, 0xcc, &pending);
	uint64_t id2 = hh_registry_lookup("test.c", -1, u, q, 0xdd, &pending);
	ck_assert_uint_eq(id2, id + 1);
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
	check_handle(q, 0, 0xcc, kHelErrCancelled);
	ck_assert_uint_eq(q->base.refs, 2);
	run_for(40 * MS);                       /* past the cancelled deadline */
	ck_assert_int_eq(progress(q), HANDLE_ELEMENT);
	/* the other lookup is still waiting and gets the publish */
	ck_assert_int_eq(hh_registry_publish("test.c", token_desc(), self), kHelErrNone);
	ck_assert_int_eq(progress(q), 2 * HANDLE_ELEMENT);
	check_handle(q, 1, 0xdd, kHelErrNone);
	ck_assert_int_eq(hh_queue_cancel(q, id2), kHelErrNone);
	ck_assert_int_eq(progress(q), 2 * HANDLE_ELEMENT);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(u->base.refs, 1);
}
END_TEST

START_TEST(test_registry_lookup_keeps_universe)
{
	/* should succeed: the handle goes to the lookup's universe even after its last holder */
	struct hh_universe *u2 = hh_universe_create();
	hh_registry_lookup("test.u", -1, u2, q, 5, &pending);
	hh_object_unref(&u2->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(u2->base.refs, 1);
	ck_assert_int_eq(hh_registry_publish("test.u", token_desc(), self), kHelErrNone);
	check_handle(q, 0, 5, kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 3);
	/* the universe goes now, and with it its handle */
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(tok->base.refs, 2);
}
END_TEST

/* ---- names of programs that died ---- */

START_TEST(test_registry_dead_owner_not_found)
{
	/* a dead program's name is not found even before the loop sees the exit (should fail) */
	struct hh_process *child = child_owner();
	ck_assert_int_eq(hh_registry_publish("test.dead", token_desc(), child), kHelErrNone);
	hh_registry_lookup("test.dead", 0, u, q, 1, &pending);
	check_handle(q, 0, 1, kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 3);
	kill_owner(child);
	hh_registry_lookup("test.dead", 0, u, q, 2, &pending);
	check_handle(q, 1, 2, kHelErrCancelled);
	ck_assert_uint_eq(tok->base.refs, 2);   /* the entry was dropped on the way */
	/* should succeed: the name is free for another program */
	ck_assert_int_eq(hh_registry_publish("test.dead", token_desc(), self), kHelErrNone);
	hh_registry_lookup("test.dead", 0, u, q, 3, &pending);
	check_handle(q, 2, 3, kHelErrNone);
}
END_TEST

START_TEST(test_registry_dead_owner_name_free)
{
	/* should succeed: publishing a dead program's name, before the loop sees the exit */
	struct hh_process *child = child_owner();
	ck_assert_int_eq(hh_registry_publish("test.reuse", token_desc(), child), kHelErrNone);
	kill_owner(child);
	struct hh_token *other = hh_token_create();
	ck_assert_int_eq(hh_registry_publish("test.reuse", (struct hh_desc){ &other->base, 0 }, self),
			kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 1);
	hh_registry_lookup("test.reuse", 0, u, q, 1, &pending);
	ck_assert_ptr_eq(resolved(u, check_handle(q, 0, 1, kHelErrNone)), &other->base);
	hh_registry_forget(self);
	hh_object_unref(&other->base);
}
END_TEST

START_TEST(test_registry_dead_owner_unpublish)
{
	/*
	 * A dead program's name is gone (helhost.h) even before the loop sees the
	 * exit: unpublishing it is "not published" (should fail with kHelErrNoDescriptor),
	 * as it is once the loop has seen the exit.
	 */
	struct hh_process *child = child_owner();
	ck_assert_int_eq(hh_registry_publish("test.stale", token_desc(), child), kHelErrNone);
	kill_owner(child);
	ck_assert_int_eq(hh_registry_unpublish("test.stale", self), kHelErrNoDescriptor);
	exit_watched = child;
	ck_assert_int_eq(hh_loop_run(exit_seen), 0);
	ck_assert_int_eq(hh_registry_unpublish("test.stale", self), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_registry_exit_forgets_names)
{
	/* should succeed: when the loop sees a program exit, its names and references go */
	struct hh_process *child = child_owner();
	ck_assert_int_eq(hh_registry_publish("test.exit1", token_desc(), child), kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.exit2", token_desc(), child), kHelErrNone);
	ck_assert_int_eq(hh_registry_publish("test.stays", token_desc(), self), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 4);
	ck_assert_int_eq(syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0), 0);
	exit_watched = child;
	ck_assert_int_eq(hh_loop_run(exit_seen), 0);
	ck_assert_uint_eq(tok->base.refs, 2);
	hh_registry_lookup("test.exit1", 0, u, q, 1, &pending);
	hh_registry_lookup("test.stays", 0, u, q, 2, &pending);
	check_handle(q, 0, 1, kHelErrCancelled);
	check_handle(q, 1, 2, kHelErrNone);
	/* this process stays alive through all of it */
	ck_assert(!hh_process_gone(self));
	ck_assert(!self->exited);
}
END_TEST

START_TEST(test_registry_waiting_lookup_outlives_dead_publisher)
{
	/* should succeed: a waiter got the handle; the publisher's death does not take it back */
	struct hh_process *child = child_owner();
	hh_registry_lookup("test.srv", -1, u, q, 1, &pending);
	ck_assert_int_eq(hh_registry_publish("test.srv", token_desc(), child), kHelErrNone);
	HelHandle h = check_handle(q, 0, 1, kHelErrNone);
	ck_assert_int_eq(syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0), 0);
	exit_watched = child;
	ck_assert_int_eq(hh_loop_run(exit_seen), 0);
	ck_assert_ptr_eq(resolved(u, h), &tok->base);
	ck_assert_uint_eq(tok->base.refs, 2);
}
END_TEST

/* ---- what is published: descriptors and their hooks ---- */

START_TEST(test_registry_publish_lane)
{
	/* should succeed: a published lane counts as a peer of its lane until unpublished */
	struct hh_stream *s = hh_stream_create(false);
	ck_assert_ptr_nonnull(s);
	struct hh_desc lane1 = { .obj = &s->base, .aux = 1 };
	hh_desc_take((struct hh_desc){ .obj = &s->base, .aux = 0 });
	ck_assert_int_eq(hh_registry_publish("test.lane", lane1, self), kHelErrNone);
	hh_object_unref(&s->base);              /* the creator's reference */
	ck_assert_uint_eq(s->lane[1].peers, 1);
	ck_assert(!s->lane[1].broken);
	/* a lookup gives a second peer, in the universe, with the lane index as aux */
	hh_registry_lookup("test.lane", 0, u, q, 1, &pending);
	HelHandle h = check_handle(q, 0, 1, kHelErrNone);
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, h, HH_OBJ_STREAM, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &s->base);
	ck_assert_uint_eq(d.aux, 1);
	ck_assert_uint_eq(s->lane[1].peers, 2);
	ck_assert_int_eq(hh_registry_unpublish("test.lane", self), kHelErrNone);
	ck_assert_uint_eq(s->lane[1].peers, 1);
	ck_assert(!s->lane[1].broken);
	/* the last peer of lane 1 goes with the handle: the lane breaks */
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_uint_eq(s->lane[1].peers, 0);
	ck_assert(s->lane[1].broken);
	ck_assert(!s->lane[0].broken);
	hh_desc_release((struct hh_desc){ .obj = &s->base, .aux = 0 });
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_registry_unpublish_breaks_lane)
{
	/* should succeed: a lane only the registry held breaks when unpublished */
	struct hh_stream *s = hh_stream_create(false);
	hh_desc_take((struct hh_desc){ .obj = &s->base, .aux = 0 });
	ck_assert_int_eq(hh_registry_publish("test.only", (struct hh_desc){ &s->base, 1 }, self),
			kHelErrNone);
	hh_object_unref(&s->base);
	ck_assert_int_eq(hh_registry_unpublish("test.only", self), kHelErrNone);
	ck_assert(s->lane[1].broken);
	ck_assert_uint_eq(s->base.refs, 1);     /* lane 0's descriptor */
	hh_desc_release((struct hh_desc){ .obj = &s->base, .aux = 0 });
	ck_assert(hh_object_reap());
}
END_TEST

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registry_publish_then_lookup);
	tcase_add_test(tc, test_registry_publish_taken);
	tcase_add_test(tc, test_registry_unpublish);
	tcase_add_test(tc, test_registry_unpublish_errors);
	tcase_add_test(tc, test_registry_forget);
	tcase_add_test(tc, test_registry_lookup_waits_for_publish);
	tcase_add_test(tc, test_registry_lookup_waiters_of_one_name);
	tcase_add_test(tc, test_registry_lookup_times_out);
	tcase_add_test(tc, test_registry_lookup_elapsed_deadline);
	tcase_add_test(tc, test_registry_lookup_cancel);
	tcase_add_test(tc, test_registry_lookup_keeps_universe);
	tcase_add_test(tc, test_registry_dead_owner_not_found);
	tcase_add_test(tc, test_registry_dead_owner_name_free);
	tcase_add_test(tc, test_registry_dead_owner_unpublish);
	tcase_add_test(tc, test_registry_exit_forgets_names);
	tcase_add_test(tc, test_registry_waiting_lookup_outlives_dead_publisher);
	tcase_add_test(tc, test_registry_publish_lane);
	tcase_add_test(tc, test_registry_unpublish_breaks_lane);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(registry_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
