#include "thread.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "credentials.h"
#include "process.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/*
 * The token table: a thread's token is its index + 1.  Freed indexes are
 * reused; the tid check at each call catches a stale token.
 */
static struct {
	struct hh_thread **slots;
	size_t len, cap;
	size_t *free_list;
	size_t free_len;
} tokens;

static void thread_destroy(struct hh_object *obj)
{
	struct hh_thread *t = hh_thread_of(obj);
	free(t);
}

static const struct hh_object_ops thread_ops = {
	.type = HH_OBJ_THREAD,
	.name = "thread",
	.destroy = thread_destroy,
};

static bool take_token(struct hh_thread *t)
{
	if (tokens.free_len) {
		size_t i = tokens.free_list[--tokens.free_len];
		tokens.slots[i] = t;
		t->token = i + 1;
		return true;
	}
	if (tokens.len == tokens.cap) {
		size_t cap = tokens.cap ? tokens.cap * 2 : 64;
		struct hh_thread **slots = realloc(tokens.slots, cap * sizeof(*slots));
		if (!slots)
			return false;
		tokens.slots = slots;
		size_t *free_list = realloc(tokens.free_list, cap * sizeof(*free_list));
		if (!free_list)
			return false;
		tokens.free_list = free_list;
		tokens.cap = cap;
	}
	tokens.slots[tokens.len] = t;
	t->token = ++tokens.len;
	return true;
}

struct hh_thread *hh_thread_by_token(uint64_t token)
{
	if (token == 0 || token > tokens.len)
		return NULL;
	return tokens.slots[token - 1];
}

static void exit_seen(struct hh_watcher *w, int res)
{
	(void)res;
	struct hh_thread *t = (struct hh_thread *)((char *)w - offsetof(struct hh_thread, exit_watch));
	hh_thread_ended(t);
	hh_object_unref(&t->base);     /* the watcher's reference */
}

struct hh_thread *hh_thread_register(struct hh_process *proc, pid_t tid, struct hh_callpage *page,
		int sock)
{
	struct hh_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	hh_object_init(&t->base, &thread_ops);
	t->tid = tid;
	t->page = page;
	t->sock = sock;
	t->exit_watch.cb = exit_seen;
	if (!hh_credentials_fresh(t->credentials) || !take_token(t)) {
		free(t);
		return NULL;
	}
	t->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (t->pidfd >= 0) {
		hh_object_ref(&t->base);
		hh_loop_poll(&t->exit_watch, t->pidfd, POLLIN);
	}
	t->proc = proc;
	t->next_in_proc = proc->threads;
	proc->threads = t;
	return t;
}

void hh_thread_ended(struct hh_thread *t)
{
	if (!t->proc)
		return;
	struct hh_thread **link = &t->proc->threads;
	while (*link && *link != t)
		link = &(*link)->next_in_proc;
	if (*link)
		*link = t->next_in_proc;
	t->proc = NULL;
	tokens.slots[t->token - 1] = NULL;
	tokens.free_list[tokens.free_len++] = t->token - 1;
	munmap(t->page, sizeof(*t->page));
	t->page = NULL;
	/* Memfds sent and not yet received go with the socket. */
	close(t->sock);
	t->sock = -1;
	if (t->exit_watch.armed)
		hh_loop_cancel(&t->exit_watch);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	hh_object_unref(&t->base);     /* the registration's reference */
}
