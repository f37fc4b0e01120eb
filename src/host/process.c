#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "procstat.h"
#include "registry.h"
#include "space.h"
#include "thread.h"
#include "universe.h"
#include "watchdog.h"

/*
 * Fork images wait for their child's claim.  An image's id is 64 random
 * bits that only the parent and the child it forks know, and while the
 * parent lives only a child of that parent may claim it.  When the parent
 * dies its children get a new parent, so for FORK_GRACE_NS the id alone is
 * enough (a parent may exit right after fork(), before its child could
 * claim); then the image is freed.  A parent keeps at most
 * FORK_IMAGES_PER_PARENT unclaimed images: a new one replaces its oldest,
 * whose child most likely died before it claimed.
 */
#define FORK_GRACE_NS 1000000000ull
#define FORK_IMAGES_PER_PARENT 64

static struct {
	struct hh_process *head;
	int first_failure;
	const struct hh_process *failed;        /* the launched program that failed first */
	void (*on_launched_exit)(const struct hh_process *p, const siginfo_t *info);
	void (*image_gone)(struct hh_process *p);       /* before its universe goes (ring.c) */
	struct hh_fork_image *fork_images;     /* newest first */
	size_t fork_image_count;
	struct hh_timer fork_expiry;           /* the next image of a dead parent to free */
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

/* Unlink the image at *link; the caller frees it or takes its contents. */
static struct hh_fork_image *take_fork_image(struct hh_fork_image **link)
{
	struct hh_fork_image *f = *link;
	*link = f->next;
	programs.fork_image_count--;
	return f;
}

static void expire_fork_images(struct hh_timer *t)
{
	uint64_t now = hh_now(), next = 0;
	for (struct hh_fork_image **link = &programs.fork_images; *link;) {
		struct hh_fork_image *f = *link;
		if (!f->parent && f->expires <= now) {
			free_fork_image(take_fork_image(link));
			continue;
		}
		if (!f->parent && (!next || f->expires < next))
			next = f->expires;
		link = &f->next;
	}
	if (next)
		hh_timer_start(t, next);
}

/* p has exited: its unclaimed images wait FORK_GRACE_NS for children still on their way. */
static void orphan_fork_images(struct hh_process *p)
{
	uint64_t expires = hh_now() + FORK_GRACE_NS;
	bool any = false;
	for (struct hh_fork_image *f = programs.fork_images; f; f = f->next) {
		if (f->parent == p) {
			f->parent = NULL;
			f->expires = expires;
			any = true;
		}
	}
	if (!programs.fork_expiry.cb)
		hh_timer_init(&programs.fork_expiry, expire_fork_images);
	if (any && !hh_timer_active(&programs.fork_expiry))
		hh_timer_start(&programs.fork_expiry, expires);
}

/*
 * The image is gone (exit or exec): everything only it held goes now, not
 * when the last of its pending operations would have completed.
 */
static void drop_image(struct hh_process *p)
{
	/* What it posted is submitted: processed while its universe is still there. */
	if (programs.image_gone)
		programs.image_gone(p);
	hh_registry_forget(p);
	hh_pending_discard_all(&p->pending);
	hh_faults_close(p);
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
	hh_watchdog_remove(p->watch_slot);
	p->watch_slot = 0;
	orphan_fork_images(p);
	drop_image(p);
	if (p->launched) {
		siginfo_t info = { 0 };
		if (waitid(P_PIDFD, (id_t)p->pidfd, &info, WEXITED) == 0) {
			p->status = status_of(&info);
			if (p->status && !p->service && !programs.first_failure) {
				programs.first_failure = p->status;
				programs.failed = p;
			}
			if (programs.on_launched_exit)
				programs.on_launched_exit(p, &info);
			/* Its clients will wait for it in vain: say so where they cannot. */
			if (p->service)
				fprintf(stderr, "helhost: %s[%d], which serves the run, ended with status %d\n",
						p->name, (int)p->pid, p->status);
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
	/* Listed before the program is first answered: from then on it dies with us. */
	p->watch_slot = hh_watchdog_add(pid);
	p->exit_watch.cb = exit_seen;
	hh_loop_poll(&p->exit_watch, pidfd, POLLIN);
	p->next = programs.head;
	programs.head = p;
	return p;
}

struct hh_process *hh_process_launched(pid_t pid, int pidfd, const char *name, int index)
{
	struct hh_process *p = new_process(pid, pidfd);
	if (!p)
		return NULL;
	p->launched = true;
	p->index = index;
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

static struct hh_fork_image **find_fork_image(uint64_t id)
{
	struct hh_fork_image **link = &programs.fork_images;
	while (*link && (*link)->id != id)
		link = &(*link)->next;
	return link;
}

/* 64 random bits, unused: a program cannot guess another's image. */
static bool fresh_fork_image_id(uint64_t *id)
{
	do {
		if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
			return false;
	} while (!*id || *find_fork_image(*id));
	return true;
}

/* Make room under p's cap: its oldest unclaimed image goes (the list is newest first). */
static void cap_fork_images(struct hh_process *p)
{
	struct hh_fork_image **oldest = NULL;
	size_t count = 0;
	for (struct hh_fork_image **link = &programs.fork_images; *link; link = &(*link)->next) {
		if ((*link)->parent == p) {
			count++;
			oldest = link;
		}
	}
	if (count >= FORK_IMAGES_PER_PARENT)
		free_fork_image(take_fork_image(oldest));
}

uint64_t hh_process_fork_prepare(struct hh_process *p)
{
	struct hh_fork_image *f = calloc(1, sizeof(*f));
	if (!f)
		return 0;
	f->universe = hh_universe_clone(p->universe);
	f->space = hh_space_clone(p->space);
	if (!f->universe || !f->space || !fresh_fork_image_id(&f->id)) {
		free_fork_image(f);
		return 0;
	}
	cap_fork_images(p);
	f->parent = p;
	f->next = programs.fork_images;
	programs.fork_images = f;
	programs.fork_image_count++;
	return f->id;
}

size_t hh_process_fork_images(void)
{
	return programs.fork_image_count;
}

/* Could p be the child f was taken for?  While the parent lives, it must be its child. */
static bool plausible_child(const struct hh_fork_image *f, const struct hh_process *p)
{
	if (!f->parent || hh_process_gone(f->parent))
		return true;    /* re-parented already: within the grace period the id must do */
	return hh_procstat_field(p->pid, HH_STAT_PPID) == (uint64_t)f->parent->pid;
}

/* Give the child the image its parent prepared at the fork; a thief's claim leaves it there. */
static bool claim_fork_image(struct hh_process *p, uint64_t id)
{
	if (!id)
		return false;
	struct hh_fork_image **link = find_fork_image(id);
	if (!*link || !plausible_child(*link, p))
		return false;
	struct hh_fork_image *f = take_fork_image(link);
	p->universe = f->universe;
	p->space = f->space;
	free(f);
	return true;
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

void hh_process_make_service(pid_t pid)
{
	struct hh_process *p = hh_process_find(pid);
	if (p)
		p->service = true;
}

struct hh_process *hh_process_list(void)
{
	return programs.head;
}

bool hh_process_any_launched_alive(void)
{
	for (struct hh_process *p = programs.head; p; p = p->next)
		if (p->launched && !p->service && !p->exited)
			return true;
	return false;
}

int hh_process_exit_code(void)
{
	return programs.first_failure;
}

const struct hh_process *hh_process_first_failure(void)
{
	return programs.failed;
}

void hh_process_on_launched_exit(void (*fn)(const struct hh_process *p, const siginfo_t *info))
{
	programs.on_launched_exit = fn;
}

void hh_process_on_image_gone(void (*fn)(struct hh_process *p))
{
	programs.image_gone = fn;
}

void hh_process_kill_all(void)
{
	for (struct hh_process *p = programs.head; p; p = p->next)
		if (!p->exited && p->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	/* No child can claim an image any more. */
	while (programs.fork_images)
		free_fork_image(take_fork_image(&programs.fork_images));
}
