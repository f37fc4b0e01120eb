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
#include "coverage.h"
#include "dump.h"
#include "hang.h"
#include "launcher.h"
#include "loop.h"
#include "privilege.h"
#include "process.h"
#include "quota.h"
#include "ring.h"
#include "status.h"
#include "trace.h"
#include "trap.h"
#include "watchdog.h"
#include "callpage.h"

static void usage(FILE *f)
{
	fputs("usage: helhost run [OPTIONS] PROG [ARGS] [-- PROG [ARGS]]...\n"
	      "       helhost status [PID]  the state of a running emulator of yours\n"
	      "       helhost trace on|off [PID]  its trace on or off\n"
	      "                             (PID: the emulator's, or a program's it serves)\n"
	      "       helhost coverage      print the API coverage table (Markdown)\n"
	      "       helhost --version\n"
	      "Runs programs written against Managarm's Hel API as Linux processes,\n"
	      "with this process as their kernel, and reports each program's end.\n"
	      "Options of run:\n"
	      "  --trace[=GROUPS]   trace every Hel call and every queue element written\n"
	      "                     (as HELHOST_TRACE=1); GROUPS: only those calls, of\n"
	      "                     desc,queue,memory,space,stream,event,futex,thread,\n"
	      "                     registry,misc (as HELHOST_TRACE=stream,memory)\n"
	      "  --trace-file FILE  the trace, appended to FILE (as HELHOST_TRACE_FILE)\n"
	      "  --trace-pid LIST   only these programs: pids or names, comma-separated\n"
	      "  --trace-handle N   only calls with handle N among their arguments\n"
	      "  --trace-format F   text (the default) or json: one object per line\n"
	      "  --trace-internal   also the calls libhel makes for itself\n"
	      "                     (each: as HELHOST_TRACE_PID, _HANDLE, _FORMAT, _INTERNAL)\n"
	      "  --fail-fast        end the run as soon as one program fails\n"
	      "  --hang MODE        when every program is blocked for good: report (the\n"
	      "                     default), fail (report and end the run, status 124)\n"
	      "                     or off (as HELHOST_HANG)\n"
	      "  --isolate          a user and a PID namespace for each program:\n"
	      "                     programs then reach each other only through Hel\n"
	      "  --mbus PATH        start Managarm's mbus from PATH first and give every\n"
	      "                     program its lane; the run ends without it\n"
	      "                     (docs/MANAGARM.md)\n"
	      "  --max-memory SIZE  per-program limits (per universe for handles), the\n"
	      "  --max-memfds N     same as HELHOST_MAX_MEMORY, HELHOST_MAX_MEMFDS,\n"
	      "  --max-handles N    HELHOST_MAX_HANDLES, HELHOST_MAX_PENDING\n"
	      "  --max-pending N\n"
	      "  --help, --version\n"
	      "Exit status: that of the program that failed first (its exit code, or\n"
	      "128 + the signal that killed it), named on the last line; 0 when all\n"
	      "succeeded; 126/127 when a program cannot be executed / is not found;\n"
	      "2 for a usage error; 1 when the emulator itself fails.\n"
	      "SIGUSR1 to the emulator prints its state (programs, handles, names);\n"
	      "SIGUSR2 turns its trace on or off.\n", f);
}

static void version(void)
{
	printf("helhost %s\n", HELHOST_VERSION);
}

/* Set when a program fails under --fail-fast: the run ends at once. */
static bool fail_fast, stop_run;

static void program_ended(const struct hh_process *p, const siginfo_t *info)
{
	hh_launch_report_end(p, info);
	if (fail_fast && p->status && !p->service && !stop_run) {
		fprintf(stderr, "helhost: --fail-fast: %s[%d] (program %d) failed; ending the run\n",
				p->name, (int)p->pid, p->index);
		stop_run = true;
	}
}

static bool run_done(void)
{
	return stop_run || hh_hang_failed() || !hh_process_any_launched_alive();
}

static bool serve_done(void)
{
	return hh_trap_open_listeners() == 0 || hh_hang_failed();
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

/*
 * The trace file is opened before privileges go.  An auto-started emulator
 * (not strict) serves on with a trace setting it does not understand: the
 * message says which, and the program is not failed for it.
 */
static int start_loop(bool strict, enum hh_hang_mode hang)
{
	int r = hh_trace_setup();
	if (r < 0 && (strict || r != -EINVAL))
		return r;
	raise_fd_limit();
	hh_limits_init();       /* its memfd budget follows the raised fd limit */
	/* A trace piped into a reader that goes away must not take the kernel with it. */
	signal(SIGPIPE, SIG_IGN);
	/* First, while the copy it gets of our memory is small. */
	r = hh_watchdog_start();
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
	if (r < 0) {
		fprintf(stderr, "helhost: alive page: %s\n", strerror(-r));
		return r;
	}
	hh_ring_init();
	r = hh_dump_init();
	if (r < 0) {
		fprintf(stderr, "helhost: SIGUSR1 for the state dump: %s\n", strerror(-r));
		return r;
	}
	r = hh_status_init();
	if (r < 0) {
		fprintf(stderr, "helhost: the status socket: %s\n", strerror(-r));
		return r;
	}
	r = hh_hang_init(hang);
	return r < 0 && strict ? r : 0;
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

struct run_options {
	bool isolate;
	char *mbus;
};

/*
 * Options that are settings of the environment, read from there by run and
 * auto-start alike: an option sets its variable.  `value` is what an option
 * without an argument sets; NULL: it takes one (as --opt ARG or --opt=ARG).
 */
static const struct setting {
	const char *option, *variable, *value;
} settings[] = {
	{ "--trace", HH_ENV_TRACE, "1" },
	{ "--trace-file", "HELHOST_TRACE_FILE", NULL },
	{ "--trace-pid", "HELHOST_TRACE_PID", NULL },
	{ "--trace-handle", "HELHOST_TRACE_HANDLE", NULL },
	{ "--trace-format", "HELHOST_TRACE_FORMAT", NULL },
	{ "--trace-internal", "HELHOST_TRACE_INTERNAL", "1" },
	{ "--hang", "HELHOST_HANG", NULL },
	{ "--max-memory", "HELHOST_MAX_MEMORY", NULL },
	{ "--max-memfds", "HELHOST_MAX_MEMFDS", NULL },
	{ "--max-handles", "HELHOST_MAX_HANDLES", NULL },
	{ "--max-pending", "HELHOST_MAX_PENDING", NULL },
};

/* The setting argv[*i] names, or NULL; *i moves past it and *value is its value. */
static const struct setting *find_setting(int argc, char **argv, int *i, const char **value)
{
	const char *a = argv[*i];
	for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]); k++) {
		const struct setting *s = &settings[k];
		size_t len = strlen(s->option);
		if (strncmp(a, s->option, len) || (a[len] && a[len] != '='))
			continue;
		/* --trace=stream,memory: an option that needs no value may have one. */
		if (a[len] == '=') {
			*value = a + len + 1;
		} else if (s->value) {
			*value = s->value;
		} else {
			*value = *i + 1 < argc ? argv[*i + 1] : NULL;
			*i += 1;
		}
		*i += 1;
		return s;
	}
	return NULL;
}

static bool is_limit(const struct setting *s)
{
	return !strncmp(s->option, "--max-", 6);
}

/*
 * Options before the first program; returns the index of PROG, or -1 after
 * printing why (or -2 when --help/--version answered already).
 */
static int parse_run_options(int argc, char **argv, struct run_options *o)
{
	int i = 0;
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--")) {
		const char *a = argv[i];
		bool *flag = !strcmp(a, "--isolate") ? &o->isolate :
			!strcmp(a, "--fail-fast") ? &fail_fast : NULL;
		if (flag) {
			*flag = true;
			i++;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return -2;
		}
		if (!strcmp(a, "--version")) {
			version();
			return -2;
		}
		if (!strcmp(a, "--mbus")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "helhost run: %s needs a path\n", a);
				return -1;
			}
			o->mbus = argv[i + 1];
			i += 2;
			continue;
		}
		const char *value;
		const struct setting *s = find_setting(argc, argv, &i, &value);
		if (!s) {
			fprintf(stderr, "helhost run: unknown option %s (helhost run --help lists them)\n", a);
			return -1;
		}
		uint64_t v;
		if (is_limit(s) && (!value || hh_limits_parse(value, &v) < 0)) {
			fprintf(stderr, "helhost run: %s needs a number, optionally with K, M, G or T (got %s)\n",
					s->option, value ? value : "nothing");
			return -1;
		}
		if (!value) {
			fprintf(stderr, "helhost run: %s needs a value\n", s->option);
			return -1;
		}
		/* Through the environment, the one place settings are read from. */
		setenv(s->variable, value, 1);
	}
	if (i >= argc) {
		fputs("helhost run: no program to run (helhost run --help)\n", stderr);
		return -1;
	}
	return i;
}

/* 0 if file can be executed; else says why and returns 127 or 126, as a shell does. */
static int check_program(const char *file)
{
	int r = hh_launch_check(file);
	if (r < 0)
		fprintf(stderr, "helhost: cannot execute %s: %s\n", file, strerror(-r));
	return r < 0 ? hh_launch_exec_status(-r) : 0;
}

/* Every program, and the mbus (NULL: none), must be executable before any starts. */
static int check_programs(const char *mbus, int argc, char **argv)
{
	int bad = mbus ? check_program(mbus) : 0;
	for (int start = 0; start < argc && !bad;) {
		int end = start;
		while (end < argc && strcmp(argv[end], "--"))
			end++;
		bad = end > start ? check_program(argv[start]) : 0;
		start = end + 1;
	}
	return bad;
}

/* The run's status when hh_launch failed with r: the program's if it could not be executed. */
static int launch_failed(int r, bool not_executed)
{
	finish();
	return not_executed ? hh_launch_exec_status(-r) : 1;
}

/* The last line of a failed run names the program whose status is the run's. */
static void report_failure(void)
{
	const struct hh_process *p = hh_process_first_failure();
	if (p)
		fprintf(stderr, "helhost: exit status %d: %s[%d] (program %d) failed first\n",
				p->status, p->name, (int)p->pid, p->index);
}

/*
 * --mbus PATH: start Managarm's mbus before the others.  It takes the lane it
 * serves with peekauxval(AT_XPIPE), which libhelhost-managarm makes and
 * publishes under MBUS_NAME as HH_ENV_AUXV tells it; every program's
 * superGetProcessData looks MBUS_NAME up (HH_ENV_MBUS).  mbus serves until
 * the run ends, so the run does not wait for it; one that cannot be
 * executed ends the run before any program starts.
 */
#define MBUS_NAME "managarm.mbus"

static int start_mbus(char *path, bool isolate, bool *not_executed)
{
	char *argv[] = { path, NULL };
	char *saved = getenv(HH_ENV_AUXV) ? strdup(getenv(HH_ENV_AUXV)) : NULL;
	if (setenv(HH_ENV_MBUS, MBUS_NAME, 1) || setenv(HH_ENV_AUXV, "AT_XPIPE=+" MBUS_NAME, 1)) {
		free(saved);
		return -errno;
	}
	int pid = hh_launch(argv, &programs_fd_limit, isolate, 0, not_executed);
	int r = saved ? setenv(HH_ENV_AUXV, saved, 1) : unsetenv(HH_ENV_AUXV);
	free(saved);
	if (pid < 0)
		return pid;
	hh_process_make_service(pid);
	return r < 0 ? -errno : 0;
}

/* The status of a run ended by HELHOST_HANG=fail: timeout(1)'s, for "it would never end". */
#define HANG_STATUS 124

/* helhost run: argv holds [OPTIONS] PROG ARGS [-- PROG ARGS]... */
static int cmd_run(int argc, char **argv)
{
	struct run_options o = { .isolate = false };
	int i = parse_run_options(argc, argv, &o);
	if (i < 0)
		return i == -2 ? 0 : 2;
	/* Clients of an mbus that never started would only see their lookups time out. */
	int bad = check_programs(o.mbus, argc - i, argv + i);
	if (bad)
		return bad;
	/* Someone watches a run: the report is enough, and a debugger may attach. */
	int started = start_loop(true, HH_HANG_REPORT);
	if (started < 0)
		return started == -EINVAL ? 2 : 1;
	hh_process_on_launched_exit(program_ended);
	bool not_executed = false;
	int r = o.mbus ? start_mbus(o.mbus, o.isolate, &not_executed) : 0;
	if (r < 0)
		return launch_failed(r, not_executed);
	/* Split at "--" in place: each program's argv ends where the next begins. */
	int index = 0;
	for (int start = i; start < argc;) {
		int end = start;
		while (end < argc && strcmp(argv[end], "--"))
			end++;
		argv[end < argc ? end : argc] = NULL;
		r = end > start ? hh_launch(&argv[start], &programs_fd_limit, o.isolate, ++index, &not_executed) : 0;
		if (r < 0)
			return launch_failed(r, not_executed);
		start = end + 1;
	}
	if (drop_privileges() < 0) {
		finish();
		return 1;
	}
	r = hh_loop_run(run_done);
	/* Nothing a run started outlives it, not even a program's forked children. */
	finish();
	if (r < 0)
		return 1;
	if (hh_hang_failed()) {
		fprintf(stderr, "helhost: exit status %d: the programs hung\n", HANG_STATUS);
		return HANG_STATUS;
	}
	report_failure();
	return hh_process_exit_code();
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
	if (pid > 0) {
		hh_coverage_write();    /* _exit writes no counters */
		_exit(0);
	}
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
	/*
	 * A test that hangs ends at once, with the report, instead of at ctest's
	 * timeout with nothing said (docs/GUIDE.md).
	 */
	if (start_loop(false, HH_HANG_FAIL) < 0)
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
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "status"))
		return hh_status_request("status", argc == 3 ? argv[2] : NULL);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "trace") &&
			(!strcmp(argv[2], "on") || !strcmp(argv[2], "off")))
		return hh_status_request(strcmp(argv[2], "on") ? "trace off" : "trace on",
				argc == 4 ? argv[3] : NULL);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		version();
		return 0;
	}
	if (argc >= 2)
		fprintf(stderr, "helhost: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
