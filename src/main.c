/* helhost: the emulator's command line. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alive.h"
#include "calls.h"
#include "launcher.h"
#include "loop.h"
#include "privilege.h"
#include "process.h"
#include "quota.h"
#include "trace.h"
#include "trap.h"
#include "watchdog.h"
#include "callpage.h"

static void usage(FILE *f)
{
	fputs("usage: helhost run [--trace] [--isolate] [--mbus PATH] [--max-memory SIZE]\n"
	      "                  [--max-memfds N] [--max-handles N] [--max-pending N]\n"
	      "                  PROG [ARGS] [-- PROG [ARGS]]...\n"
	      "       helhost coverage      print the API coverage table (Markdown)\n"
	      "Runs programs written against Managarm's Hel API as Linux processes,\n"
	      "with this process as their kernel. Exits with the first non-zero\n"
	      "status of the programs, or 0. HELHOST_TRACE=1 traces auto-started runs.\n"
	      "--isolate gives each program a user and a PID namespace of its own:\n"
	      "programs then reach each other only through Hel.\n"
	      "--mbus PATH starts Managarm's mbus from PATH first and gives every\n"
	      "program its lane; the run ends without it (docs/MANAGARM.md).\n"
	      "The --max-* options are per-program limits (per universe for handles),\n"
	      "the same as HELHOST_MAX_MEMORY, HELHOST_MAX_MEMFDS, HELHOST_MAX_HANDLES.\n", f);
}

static bool run_done(void)
{
	return !hh_process_any_launched_alive();
}

static bool serve_done(void)
{
	return hh_trap_open_listeners() == 0;
}

/*
 * Every memory object and queue is a memfd here: allow as many as the system
 * lets us.  The programs we launch get the limit they would have had.
 */
static struct rlimit programs_fd_limit;

static void raise_fd_limit(void)
{
	if (getrlimit(RLIMIT_NOFILE, &programs_fd_limit) < 0)
		return;
	struct rlimit r = programs_fd_limit;
	r.rlim_cur = r.rlim_max;
	setrlimit(RLIMIT_NOFILE, &r);
}

static int start_loop(bool trace)
{
	hh_trace_enable(trace);
	raise_fd_limit();
	hh_limits_init();       /* its memfd budget follows the raised fd limit */
	/* A trace piped into a reader that goes away must not take the kernel with it. */
	signal(SIGPIPE, SIG_IGN);
	/* First, while the copy it gets of our memory is small. */
	int r = hh_watchdog_start();
	if (r < 0) {
		fprintf(stderr, "helhost: watchdog: %s\n", strerror(-r));
		return r;
	}
	r = hh_loop_init();
	if (r < 0) {
		fprintf(stderr, "helhost: io_uring: %s\n", strerror(-r));
		return r;
	}
	r = hh_alive_init();
	if (r < 0)
		fprintf(stderr, "helhost: alive page: %s\n", strerror(-r));
	return r;
}

/* Once the programs are started: serving needs no more than privilege.c keeps. */
static int drop_privileges(void)
{
	int r = hh_privilege_drop();
	if (r < 0)
		fprintf(stderr, "helhost: cannot drop capabilities: %s\n", strerror(-r));
	return r;
}

/* A normal exit: the programs go first, then the watchdog, which has nothing left to do. */
static void finish(void)
{
	hh_process_kill_all();
	hh_trap_close_all();
	hh_loop_fini();
	hh_watchdog_stop();
}

/*
 * --mbus PATH: start Managarm's mbus before the others.  It takes the lane it
 * serves with peekauxval(AT_XPIPE), which libhelhost-managarm makes and
 * publishes under MBUS_NAME as HH_ENV_AUXV tells it; every program's
 * superGetProcessData looks MBUS_NAME up (HH_ENV_MBUS).  mbus serves until
 * the run ends, so the run does not wait for it.
 */
#define MBUS_NAME "managarm.mbus"

static int start_mbus(char *path, bool isolate)
{
	char *argv[] = { path, NULL };
	char *saved = getenv(HH_ENV_AUXV) ? strdup(getenv(HH_ENV_AUXV)) : NULL;
	if (setenv(HH_ENV_MBUS, MBUS_NAME, 1) || setenv(HH_ENV_AUXV, "AT_XPIPE=+" MBUS_NAME, 1)) {
		free(saved);
		return -errno;
	}
	int pid = hh_launch(argv, &programs_fd_limit, isolate);
	int r = saved ? setenv(HH_ENV_AUXV, saved, 1) : unsetenv(HH_ENV_AUXV);
	free(saved);
	if (pid < 0)
		return pid;
	hh_process_make_service(pid);
	return r < 0 ? -errno : 0;
}

/* helhost run: argv holds PROG ARGS [-- PROG ARGS]... */
static int cmd_run(int argc, char **argv)
{
	static const struct { const char *option, *variable; } limits[] = {
		{ "--max-memory", "HELHOST_MAX_MEMORY" },
		{ "--max-memfds", "HELHOST_MAX_MEMFDS" },
		{ "--max-handles", "HELHOST_MAX_HANDLES" },
		{ "--max-pending", "HELHOST_MAX_PENDING" },
	};
	bool trace = false, isolate = false;
	char *mbus = NULL;
	int i = 0;
	for (bool more = true; more && i < argc;) {
		more = false;
		bool *flag = !strcmp(argv[i], "--trace") ? &trace :
			!strcmp(argv[i], "--isolate") ? &isolate : NULL;
		if (flag) {
			*flag = true;
			more = true;
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--mbus") && i + 1 < argc) {
			mbus = argv[i + 1];
			more = true;
			i += 2;
			continue;
		}
		/* Through the environment, the one place the limits are read from. */
		for (size_t k = 0; !more && k < sizeof(limits) / sizeof(limits[0]); k++) {
			uint64_t v;
			if (strcmp(argv[i], limits[k].option))
				continue;
			if (i + 1 >= argc || hh_limits_parse(argv[i + 1], &v) < 0) {
				usage(stderr);
				return 2;
			}
			setenv(limits[k].variable, argv[i + 1], 1);
			more = true;
			i += 2;
		}
	}
	if (i >= argc || !strcmp(argv[i], "--mbus")) {
		usage(stderr);
		return 2;
	}
	if (start_loop(trace) < 0)
		return 1;
	if (mbus && start_mbus(mbus, isolate) < 0) {
		finish();
		return 1;
	}
	/* Split at "--" in place: each program's argv ends where the next begins. */
	for (int start = i; start < argc;) {
		int end = start;
		while (end < argc && strcmp(argv[end], "--"))
			end++;
		argv[end < argc ? end : argc] = NULL;
		if (end > start && hh_launch(&argv[start], &programs_fd_limit, isolate) < 0) {
			finish();
			return 1;
		}
		start = end + 1;
	}
	if (drop_privileges() < 0) {
		finish();
		return 1;
	}
	int r = hh_loop_run(run_done);
	/* Nothing a run started outlives it, not even a program's forked children. */
	finish();
	return r < 0 ? 1 : hh_process_exit_code();
}

/*
 * Auto-start (internal): serve the program that spawned us.  We fork once
 * more so that the server is no child of the program (its wait() calls must
 * not see us), tell the program the server's pid, and take its listener.
 */
static int cmd_serve(const char *fd_text)
{
	int sock = atoi(fd_text);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0)
		_exit(0);
	/* Hold none of the program's other files open (pipes would never see EOF). */
	if (sock != 3 && dup2(sock, 3) < 0)
		_exit(1);
	sock = 3;
	close_range(4, ~0u, 0);
	/* Ctrl-C is the program's to handle; we end when its filter has no users. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
#ifdef HELHOST_COVERAGE
	/*
	 * Check ends each test by killing its process group with SIGKILL, which
	 * would lose our gcov counters: leave the group, and end as usual (through
	 * exit, which writes them) when the test's filter has no users left.
	 */
	setpgid(0, 0);
#endif
	int32_t self = (int32_t)getpid();
	if (write(sock, &self, sizeof(self)) != sizeof(self))
		return 1;
	const char *trace = getenv(HH_ENV_TRACE);
	if (start_loop(trace && *trace && strcmp(trace, "0")) < 0)
		return 1;
	int r = hh_accept_listener(sock);
	close(sock);
	if (r < 0) {
		fprintf(stderr, "helhost: auto-start: no listener (%s)\n", strerror(-r));
		finish();
		return 1;
	}
	if (drop_privileges() < 0) {
		finish();
		return 1;
	}
	r = hh_loop_run(serve_done);
	finish();
	return r < 0 ? 1 : 0;
}

static const char *coverage_word(enum hh_coverage c)
{
	switch (c) {
	case HH_WORKS: return "works";
	case HH_NOT_YET: return "not yet";
	case HH_HOSTED_NO: return "cannot work hosted";
	}
	return "?";
}

static int cmd_coverage(void)
{
	puts("| # | call | status | notes |");
	puts("|---:|---|---|---|");
	const struct hh_call_info *info;
	for (size_t i = 0; (info = hh_call_at(i)) && info->number < kHelNumCalls; i++)
		printf("| %u | `%s` | %s | %s |\n", info->number, info->name,
				coverage_word(info->coverage), info->note);
	return 0;
}

int main(int argc, char **argv)
{
	/* First of all: programs of our user must not reach into the kernel. */
	int protect = hh_privilege_protect();
	if (protect < 0) {
		fprintf(stderr, "helhost: cannot make the emulator non-dumpable: %s\n", strerror(-protect));
		return 1;
	}
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "--serve"))
		return cmd_serve(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "coverage"))
		return cmd_coverage();
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
