#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "space.h"
#include "thread.h"
#include "universe.h"

static struct {
	struct hh_process *head;
	int first_failure;
	/*
	 * Images taken at forks and not yet claimed.  They do not die with the
	 * parent: a parent may exit before its child's first registration.  An
	 * image whose fork failed stays until the emulator exits.
	 */
	struct hh_fork_image *fork_images;
	uint64_t next_fork_image;
} programs;

struct hh_process *hh_process_find(pid_t pid)
{
	for (struct hh_process *p = programs.head; p; p = p->next)
		if (p->pid == pid && !p->exited)
			return p;
	return NULL;
}

static void read_comm(pid_t pid, char *name, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(name, (int)size, f))
		snprintf(name, size, "pid%d", (int)pid);
	if (f)
		fclose(f);
	name[strcspn(name, "\n")] = 0;
}

static void free_fork_image(struct hh_fork_image *f)
{
	if (f->universe)
		hh_object_unref(&f->universe->base);
	if (f->space)
		hh_object_unref(&f->space->base);
	free(f);
}

/*
 * The image is gone (exit or exec): everything only it held goes now, not
 * when the last of its pending operations would have completed.
 */
static void drop_image(struct hh_process *p)
{
	hh_registry_forget(p);
	hh_pending_discard_all(&p->pending);
	hh_usermem_close(&p->mem);
	while (p->threads)
		hh_thread_ended(p->threads);
	if (p->universe)
		hh_object_unref(&p->universe->base);
	if (p->space)
		hh_object_unref(&p->space->base);
	p->universe = NULL;
	p->space = NULL;
}

static void unlink_process(struct hh_process *p)
{
	struct hh_process **link = &programs.head;
	while (*link != p)
		link = &(*link)->next;
	*link = p->next;
}

static int status_of(const siginfo_t *info)
{
	if (info->si_code == CLD_EXITED)
		return info->si_status;
	return 128 + info->si_status;
}

static void exit_seen(struct hh_watcher *w, int res)
{
	(void)res;
	struct hh_process *p = (struct hh_process *)((char *)w - offsetof(struct hh_process, exit_watch));
	p->exited = true;
	drop_image(p);
	if (p->launched) {
		siginfo_t info = { 0 };
		if (waitid(P_PIDFD, (id_t)p->pidfd, &info, WEXITED) == 0) {
			p->status = status_of(&info);
			if (p->status && !programs.first_failure)
				programs.first_failure = p->status;
		}
		/* Launched programs stay listed for the exit code; their pidfd goes. */
		close(p->pidfd);
		p->pidfd = p->mem.pidfd = p->pending.pidfd = -1;
		return;
	}
	close(p->pidfd);
	unlink_process(p);
	free(p);
}

static struct hh_process *new_process(pid_t pid, int pidfd)
{
	struct hh_process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->pidfd = pidfd;
	p->mem = (struct hh_usermem){ .pid = pid, .pidfd = pidfd, .memfd = -1, .mapsfd = -1 };
	p->pending.pidfd = pidfd;
	p->exit_watch.cb = exit_seen;
	hh_loop_poll(&p->exit_watch, pidfd, POLLIN);
	p->next = programs.head;
	programs.head = p;
	return p;
}

struct hh_process *hh_process_launched(pid_t pid, int pidfd, const char *name)
{
	struct hh_process *p = new_process(pid, pidfd);
	if (!p)
		return NULL;
	p->launched = true;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

/* The image's memory, opened while its first thread waits in registration. */
static bool open_memory(struct hh_process *p)
{
	int err = hh_usermem_open(&p->mem);
	if (err)
		fprintf(stderr, "helhost: cannot open the memory of %s[%d]: %s\n", p->name,
				(int)p->pid, strerror(-err));
	return !err;
}

static bool fresh_image(struct hh_process *p, uint64_t arena_base, uint64_t arena_len)
{
	p->universe = hh_universe_create();
	p->space = hh_space_create(arena_base, arena_len);
	return p->universe && p->space;
}

uint64_t hh_process_fork_prepare(struct hh_process *p)
{
	struct hh_fork_image *f = calloc(1, sizeof(*f));
	if (!f)
		return 0;
	f->universe = hh_universe_clone(p->universe);
	f->space = hh_space_clone(p->space);
	if (!f->universe || !f->space) {
		free_fork_image(f);
		return 0;
	}
	f->id = ++programs.next_fork_image;
	f->next = programs.fork_images;
	programs.fork_images = f;
	return f->id;
}

/* Give the child the image its parent prepared at the fork. */
static bool claim_fork_image(struct hh_process *p, uint64_t id)
{
	if (!id)
		return false;
	for (struct hh_fork_image **link = &programs.fork_images; *link; link = &(*link)->next) {
		struct hh_fork_image *f = *link;
		if (f->id != id)
			continue;
		*link = f->next;
		p->universe = f->universe;
		p->space = f->space;
		free(f);
		return true;
	}
	return false;
}

struct hh_process *hh_process_register(pid_t pid, int pidfd, uint64_t fork_image,
		uint64_t nonce, uint64_t arena_base, uint64_t arena_len)
{
	struct hh_process *p = hh_process_find(pid);
	if (p) {
		if (pidfd != p->pidfd)
			close(pidfd);
		if (p->universe && p->image_nonce == nonce)
			return p;
		/* A new image in a known process: exec'd (or never registered). */
		drop_image(p);
		p->image_nonce = nonce;
		read_comm(pid, p->name, sizeof(p->name));
		if (!fresh_image(p, arena_base, arena_len) || !open_memory(p)) {
			drop_image(p);
			return NULL;
		}
		return p;
	}
	p = new_process(pid, pidfd);
	if (!p) {
		close(pidfd);
		return NULL;
	}
	p->image_nonce = nonce;
	read_comm(pid, p->name, sizeof(p->name));
	if ((!claim_fork_image(p, fork_image) && !fresh_image(p, arena_base, arena_len)) ||
			!open_memory(p)) {
		drop_image(p);
		return NULL;
	}
	return p;
}

struct hh_process *hh_process_stub(pid_t pid, int pidfd, const char *name,
		struct hh_universe *universe, struct hh_space *space)
{
	struct hh_process *p = new_process(pid, pidfd);
	if (!p) {
		close(pidfd);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->universe = universe;
	hh_object_ref(&universe->base);
	p->space = space;
	hh_object_ref(&space->base);
	if (!open_memory(p)) {
		drop_image(p);
		return NULL;
	}
	return p;
}

bool hh_process_gone(const struct hh_process *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	return p->exited || (p->pidfd >= 0 && poll(&pfd, 1, 0) == 1);
}

bool hh_process_any_launched_alive(void)
{
	for (struct hh_process *p = programs.head; p; p = p->next)
		if (p->launched && !p->exited)
			return true;
	return false;
}

int hh_process_exit_code(void)
{
	return programs.first_failure;
}

void hh_process_kill_all(void)
{
	for (struct hh_process *p = programs.head; p; p = p->next)
		if (!p->exited && p->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
}
