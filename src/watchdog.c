#include "watchdog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What Linux sends the watchdog when the emulator's thread ends. */
#define DEATH_SIGNAL SIGUSR1
#define NAME "helhost-watch"

extern char **environ;

static struct {
	pid_t pid;              /* the watchdog, a child of the emulator; 0 when none */
	pid_t emulator;
	/* The watchdog's stack: clone without CLONE_VM copies it with the rest. */
	char stack[64 * 1024] __attribute__((aligned(16)));
} watchdog;

static void kill_through(int fd)
{
	/* Not a pidfd (a memfd, a listener, the ring): EBADF, nothing happens. */
	syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

/*
 * The emulator is dead and the table it shared with us is ours alone now:
 * every pidfd in it names a program or a thread of one (the emulator opens
 * pidfds of nothing else), so SIGKILL through all of them.
 */
static void sweep(void)
{
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		/* No /proc: try every number the table can hold. */
		struct rlimit r;
		int top = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < (1u << 24)
				? (int)r.rlim_cur : (1 << 24);
		for (int fd = 0; fd < top; fd++)
			kill_through(fd);
		return;
	}
	char buf[4096];
	ssize_t n;
	while ((n = getdents64(dir, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] >= '0' && d->d_name[0] <= '9')
				kill_through(atoi(d->d_name));
		}
	}
	close(dir);
}

/*
 * The emulator cannot say why its programs ended, and most of them die by
 * SIGKILL without a word: say it on the emulator's stderr, which we share.
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

static int watch(void *arg)
{
	(void)arg;
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
	sweep();
	tell();
	_exit(0);
}

int hh_watchdog_start(void)
{
	sigset_t all, old;
	sigfillset(&all);
	/* Blocked from the first instruction on: Ctrl-C or a stray SIGTERM must not end it. */
	sigprocmask(SIG_SETMASK, &all, &old);
	watchdog.emulator = getpid();
	pid_t pid = clone(watch, watchdog.stack + sizeof(watchdog.stack), CLONE_FILES | SIGCHLD, NULL);
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -e;
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
