/*
 * Nothing outlives the emulator: start a program (orphan_victim) in a given
 * state under an emulator, SIGKILL the emulator, and check that the program
 * and the emulator's watchdog are gone.
 *
 *   orphans HELHOST VICTIM KIND STATE [RUNS]
 *
 * KIND is how the victim came to be: "launched" (by helhost run), "forked"
 * (the fork child of a launched program), "auto" (it started a private
 * emulator itself) or "auto-forked" (the fork child of such a program).
 * STATE is orphan_victim's.  Every process is found by exact pid: we are a
 * child subreaper, so an auto-started emulator, which leaves the program's
 * process tree at once, becomes our child.  Waits have generous deadlines
 * and nothing is timed against a threshold; with RUNS, the time from the
 * kill to the victim's death, and the part of it after the emulator's own
 * end, are measured that many times and their medians and maxima printed
 * (figures for the docs, not checks).
 *
 * STATE "exit" checks the normal exit instead: the emulator ends with
 * status 0 and leaves no watchdog behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 10000

static const char *helhost, *victim_path, *kind, *state;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fail(const char *what)
{
	printf("FAIL: %s %s: %s\n", kind, state, what);
	fflush(stdout);
}

/* "pid (comm) S ppid ...": the parent, the state letter and the name of pid. */
static bool stat_of(pid_t pid, pid_t *ppid, char *st, char *comm, size_t comm_size)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	char *open = strchr(line, '('), *close = strrchr(line, ')');
	int parent;
	if (!ok || !open || !close || sscanf(close + 1, " %c %d", st, &parent) != 2)
		return false;
	*ppid = parent;
	snprintf(comm, comm_size, "%.*s", (int)(close - open - 1), open + 1);
	return true;
}

/*
 * The children of ppid (zombies too) named comm, or all of them when comm
 * is NULL: up to max pids into out; returns how many there are.
 */
static int children(pid_t ppid, const char *comm, pid_t *out, int max)
{
	int count = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		pid_t pid = atoi(e->d_name), parent;
		char st, c[64];
		if (pid <= 0 || !stat_of(pid, &parent, &st, c, sizeof(c)) || parent != ppid ||
				(comm && strcmp(c, comm)))
			continue;
		if (count < max)
			out[count] = pid;
		count++;
	}
	if (d)
		closedir(d);
	return count;
}

/* The one child of ppid named comm, or 0. */
static pid_t child_named(pid_t ppid, const char *comm)
{
	pid_t pid;
	return children(ppid, comm, &pid, 1) == 1 ? pid : 0;
}

/* The watchdog of emulator: it names itself once it runs, which may take a while under load. */
static pid_t watchdog_of(pid_t emulator)
{
	pid_t pid = 0;
	for (int64_t end = now_us() + DEADLINE_MS * 1000; !pid && now_us() < end; usleep(1000))
		pid = child_named(emulator, "helhost-watch");
	return pid;
}

static int pidfd_of(pid_t pid)
{
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

/* True once the process behind pidfd has ended, within the deadline. */
static bool ends(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	return pidfd >= 0 && poll(&p, 1, DEADLINE_MS) == 1;
}

/* Is pid in the state the test names (its state letter, and the syscall it blocks in)? */
static bool in_state(pid_t pid)
{
	char path[64], text[64] = "", st, comm[64];
	pid_t ppid;
	if (!stat_of(pid, &ppid, &st, comm, sizeof(comm)))
		return false;
	if (!strcmp(state, "compute"))
		return st == 'R';
	if (!strcmp(state, "calls"))
		return st == 'R' || st == 'S';   /* between calls or in one */
	if (!strcmp(state, "stop"))
		return st == 'T';
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = 0;
		fclose(f);
	}
	if (st != 'S' || text[0] < '0' || text[0] > '9')
		return false;
	int nr = atoi(text);
	if (!strcmp(state, "sleep") || !strcmp(state, "exec"))
		return (nr == SYS_clock_nanosleep || nr == SYS_nanosleep) &&
				strcmp(comm, !strcmp(state, "exec") ? "sleep" : "orphan_victim") == 0;
	if (!strcmp(state, "read"))
		return nr == SYS_read;
	if (!strcmp(state, "futex"))
		return nr == SYS_futex_waitv || nr == SYS_futex;
	return false;
}

static bool wait_until_in_state(pid_t pid)
{
	for (int64_t end = now_us() + DEADLINE_MS * 1000; now_us() < end; usleep(1000))
		if (in_state(pid))
			return true;
	return false;
}

/* Start the victim; returns the pid we forked, with pipes from its stdout and stderr. */
static pid_t start(int *out, int *err)
{
	int o[2], e[2];
	if (pipe2(o, O_CLOEXEC))
		return -1;
	if (pipe2(e, O_CLOEXEC)) {
		close(o[0]);
		close(o[1]);
		return -1;
	}
	pid_t top = fork();
	if (top == 0) {
		dup2(o[1], STDOUT_FILENO);
		dup2(e[1], STDERR_FILENO);
		setenv("HELHOST_EMULATOR", helhost, 1);
		const char *fork_arg = strstr(kind, "forked") ? "fork" : NULL;
		if (!strncmp(kind, "auto", 4))
			execl(victim_path, victim_path, state, fork_arg, (char *)NULL);
		else
			execl(helhost, helhost, "run", victim_path, state, fork_arg, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	*out = o[0];
	*err = e[0];
	return top;
}

/*
 * Everything the run wrote to stderr: every writer has ended when we call
 * it, so it reads to the end (within the deadline).  Echoed when it lacks
 * what it should say.
 */
static bool stderr_says(int fd, const char *what)
{
	static char text[16384];
	size_t len = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = 1;
	while (n > 0 && len < sizeof(text) - 1 && poll(&p, 1, DEADLINE_MS) == 1)
		if ((n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
			len += (size_t)n;
	text[len] = 0;
	if (!strstr(text, what)) {
		fputs(text, stdout);
		return false;
	}
	return true;
}

/* The victim's pid, as it reports it on fd, or 0. */
static pid_t read_pid(int fd)
{
	char buf[32];
	size_t len = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len) && poll(&p, 1, DEADLINE_MS) == 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return memchr(buf, '\n', len) ? atoi(buf) : 0;
}

/*
 * Reap every child of ours (we are a subreaper: what a run leaves behind
 * ends up here).  True if all ended by themselves within the deadline;
 * else the rest is killed.
 */
static bool reap_all(void)
{
	int64_t end = now_us() + DEADLINE_MS * 1000;
	bool clean = true;
	pid_t r, left[64];
	while ((r = waitpid(-1, NULL, WNOHANG)) >= 0) {
		if (r > 0)
			continue;
		if (now_us() > end) {
			clean = false;
			int n = children(getpid(), NULL, left, 64);
			for (int i = 0; i < n && i < 64; i++)
				kill(left[i], SIGKILL);
		}
		usleep(1000);
	}
	return clean;
}

/* Children of ours apart from the emulator (which may wait to be reaped). */
static int leftovers(pid_t emulator)
{
	pid_t pids[64];
	int n = children(getpid(), NULL, pids, 64), left = n;
	for (int i = 0; i < n && i < 64; i++)
		if (pids[i] == emulator)
			left--;
	return left;
}

/* The normal exit: the emulator ends with 0, and has reaped its watchdog first. */
static bool exits_cleanly(pid_t top, pid_t emulator)
{
	int status, efd = pidfd_of(emulator);
	bool ok = false;
	if (waitpid(top, &status, 0) != top || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the run did not exit with status 0");
	else if (!ends(efd))
		fail("the emulator did not exit");
	/* Its children are ours once it has exited: a watchdog left over would be one. */
	else if (leftovers(emulator))
		fail("the watchdog outlived the emulator's normal exit");
	else
		ok = true;
	if (efd >= 0)
		close(efd);
	return ok;
}

/*
 * Kill the emulator with the victim in its state.  t[0] gets the time to
 * the victim's death, t[1] the part of it after the emulator's own end.
 */
static bool dies_with_emulator(pid_t victim, pid_t emulator, int64_t t[2])
{
	int vfd = pidfd_of(victim), efd = pidfd_of(emulator);
	int wfd = pidfd_of(watchdog_of(emulator));
	bool ok = false;
	if (vfd < 0 || efd < 0 || wfd < 0) {
		fail("the victim, its emulator or the watchdog is missing");
	} else if (!wait_until_in_state(victim)) {
		fail("the victim never got into its state");
	} else {
		int64_t t0 = now_us();
		syscall(SYS_pidfd_send_signal, efd, SIGKILL, NULL, 0);
		int64_t t_emulator = ends(efd) ? now_us() : t0;
		if (!ends(vfd))
			fail("the victim outlived its emulator");
		else if ((t[0] = now_us() - t0), (t[1] = t[0] - (t_emulator - t0)), !ends(wfd))
			fail("the watchdog outlived the emulator");
		else
			ok = true;
	}
	if (!ok && vfd >= 0)
		syscall(SYS_pidfd_send_signal, vfd, SIGKILL, NULL, 0);
	int fds[] = { vfd, efd, wfd };
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok;
}

static bool run_once(int64_t t[2])
{
	int fd, err;
	pid_t top = start(&fd, &err);
	if (top < 0) {
		fail("cannot fork");
		return false;
	}
	pid_t victim = read_pid(fd);
	close(fd);
	/* An auto-started emulator left the victim's tree for ours (we are a subreaper). */
	pid_t emulator = strncmp(kind, "auto", 4) ? top : child_named(getpid(), "helhost");
	bool ok;
	if (!victim || !emulator) {
		fail("the victim did not start under an emulator");
		kill(top, SIGKILL);
		ok = false;
	} else if (!strcmp(state, "exit")) {
		ok = exits_cleanly(top, emulator);
	} else {
		ok = dies_with_emulator(victim, emulator, t);
	}
	if (!reap_all()) {
		fail("a process of the run was left behind");
		ok = false;
	}
	/* The watchdog says why the programs ended; a normal exit has nothing to say. */
	bool told = stderr_says(err, "the emulator has gone away");
	close(err);
	if (ok && told != !!strcmp(state, "exit")) {
		fail(told ? "a normal exit said the emulator had gone away" : "nobody said why the programs ended");
		ok = false;
	}
	return ok;
}

static int cmp_us(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* "median M ms, max X ms" of n times in µs (sorted in place). */
static void print_spread(const char *what, int64_t *us, int n)
{
	qsort(us, (size_t)n, sizeof(*us), cmp_us);
	printf("%s median %.2f ms, max %.2f ms", what, us[n / 2] / 1000.0, us[n - 1] / 1000.0);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: orphans HELHOST VICTIM KIND STATE [RUNS]\n");
		return 2;
	}
	helhost = argv[1];
	victim_path = argv[2];
	kind = argv[3];
	state = argv[4];
	int runs = argc > 5 ? atoi(argv[5]) : 1;
	if (runs < 1 || runs > 1000 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 2;
	int64_t *total = calloc((size_t)runs, sizeof(*total)), *after = calloc((size_t)runs, sizeof(*after));
	for (int i = 0; i < runs; i++) {
		int64_t t[2] = { 0, 0 };
		if (!total || !after || !run_once(t))
			return 1;
		total[i] = t[0];
		after[i] = t[1];
	}
	if (!strcmp(state, "exit")) {
		printf("ok: %s exit: status 0, no watchdog left\n", kind);
	} else if (runs == 1) {
		printf("ok: %s %s: died %.2f ms after its emulator was killed\n", kind, state, total[0] / 1000.0);
	} else {
		printf("%s %s, %d runs: from the kill:", kind, state, runs);
		print_spread("", total, runs);
		print_spread("; after the emulator's end:", after, runs);
		printf("\n");
	}
	free(total);
	free(after);
	return 0;
}
