#include "watchdog.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coverage.h"
#include "procstat.h"

/* What Linux sends the watchdog when the emulator's thread ends. */
#define DEATH_SIGNAL SIGUSR1
#define NAME "helhost-watch"

/*
 * The table the emulator writes and the watchdog reads once the emulator
 * is dead (so they never race).  A pid alone could name a new process by
 * the time the watchdog looks; its start time tells the process that was
 * listed from any later one with its pid.
 */
struct watch_entry {
	int32_t pid;            /* 0: a free slot */
	uint32_t reserved;
	uint64_t start;
};

struct watch_table {
	uint64_t used;          /* entries [0, used) have been written */
	uint64_t reserved;
	struct watch_entry entry[];
};

/* Reserved, not allocated: pages appear as slots are used (a million at most). */
#define TABLE_BYTES (16ul << 20)
#define TABLE_SLOTS ((TABLE_BYTES - sizeof(struct watch_table)) / sizeof(struct watch_entry))

extern char **environ;

static struct {
	pid_t pid;              /* the watchdog, a child of the emulator; 0 when none */
	pid_t emulator;
	struct watch_table *table;
	size_t *free_slots;     /* the emulator's list of slots to reuse */
	size_t free_len, free_cap;
} watchdog;

size_t hh_watchdog_add(pid_t pid)
{
	struct watch_table *t = watchdog.table;
	uint64_t start = hh_procstat_field(pid, HH_STAT_START_TIME);
	if (!t || !start)
		return 0;
	size_t slot;
	if (watchdog.free_len)
		slot = watchdog.free_slots[--watchdog.free_len];
	else if (t->used < TABLE_SLOTS)
		slot = t->used;
	else
		return 0;
	t->entry[slot].start = start;
	t->entry[slot].pid = pid;
	if (slot == t->used)
		t->used++;
	return slot + 1;
}

void hh_watchdog_remove(size_t slot)
{
	if (!slot || !watchdog.table)
		return;
	watchdog.table->entry[slot - 1].pid = 0;
	if (watchdog.free_len == watchdog.free_cap) {
		size_t cap = watchdog.free_cap ? 2 * watchdog.free_cap : 64;
		size_t *grown = realloc(watchdog.free_slots, cap * sizeof(*grown));
		if (!grown)
			return;         /* the slot is not reused: the table has a million */
		watchdog.free_slots = grown;
		watchdog.free_cap = cap;
	}
	watchdog.free_slots[watchdog.free_len++] = slot - 1;
}

/* SIGKILL every listed program that is still the process it was; how many. */
static unsigned sweep(void)
{
	const struct watch_table *t = watchdog.table;
	unsigned killed = 0;
	for (uint64_t i = 0; i < t->used; i++) {
		const struct watch_entry *e = &t->entry[i];
		if (!e->pid)
			continue;
		/* Pinned first, then checked: the pidfd cannot move on to a newer process. */
		int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
		if (fd < 0)
			continue;
		if (hh_procstat_field(e->pid, HH_STAT_START_TIME) == e->start &&
				syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) == 0)
			killed++;
		close(fd);
	}
	return killed;
}

/*
 * The emulator cannot say why its programs ended, and most of them die by
 * SIGKILL without a word: say it on the emulator's stderr.
 */
static void tell(void)
{
	static const char line[] = "helhost: the emulator has gone away; its watchdog ended its programs\n";
	(void)!write(STDERR_FILENO, line, sizeof(line) - 1);   /* no stderr: nobody to tell */
}

/*
 * Our copy of the emulator's memory holds its argument strings, which ps
 * and /proc/PID/cmdline show: overwrite them so that nobody who looks for
 * the emulator by its command line finds the watchdog too.  The strings run
 * from argv[0] up to the environment, which Linux puts right after them.
 */
static void rename_self(void)
{
	prctl(PR_SET_NAME, NAME, 0, 0, 0);
	char *start = program_invocation_name;
	size_t len = strlen(start) + 1;
	if (environ && environ[0] > start && (size_t)(environ[0] - start) <= 128 * 1024)
		len = (size_t)(environ[0] - start);
	memset(start, 0, len);
	memcpy(start, NAME, len > sizeof(NAME) ? sizeof(NAME) - 1 : len - 1);
}

__attribute__((noreturn)) static void watch(void)
{
	/* Hold none of the emulator's files (a pipe on stdout would not see EOF): stderr only. */
	close_range(0, 1, 0);
	close_range(3, ~0u, 0);
	rename_self();
	/* Every signal is blocked (inherited): only SIGKILL ends us early. */
	sigset_t death;
	sigemptyset(&death);
	sigaddset(&death, DEATH_SIGNAL);
	if (prctl(PR_SET_PDEATHSIG, DEATH_SIGNAL, 0, 0, 0) < 0)
		_exit(1);
	/*
	 * Asleep all the time but in the moment that counts, when it must win
	 * the CPU from programs that compute.  Only root may raise it: anyone
	 * else's watchdog keeps the emulator's priority, which works, later.
	 */
	(void)setpriority(PRIO_PROCESS, 0, -20);
	/* A new parent, not the signal, says the emulator is gone: anyone may send it. */
	while (getppid() == watchdog.emulator)
		sigwaitinfo(&death, NULL);
	/* An emulator that ends before it started any program (a bad setting) ended nothing. */
	if (sweep())
		tell();
	hh_coverage_write();
	_exit(0);
}

int hh_watchdog_start(void)
{
	void *table = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (table == MAP_FAILED)
		return -errno;
	sigset_t all, old;
	sigfillset(&all);
	/* Blocked from the first instruction on: Ctrl-C or a stray SIGTERM must not end it. */
	sigprocmask(SIG_SETMASK, &all, &old);
	watchdog.emulator = getpid();
	watchdog.table = table;
	pid_t pid = fork();
	if (pid == 0)
		watch();
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		munmap(table, TABLE_BYTES);
		watchdog.table = NULL;
		return -e;
	}
	watchdog.pid = pid;
	return 0;
}

void hh_watchdog_stop(void)
{
	if (watchdog.pid <= 0)
		return;
	/* Our child: its pid stays ours until we reap it, so kill() cannot miss. */
	kill(watchdog.pid, SIGKILL);
	while (waitpid(watchdog.pid, NULL, 0) < 0 && errno == EINTR)
		;
	watchdog.pid = 0;
}
