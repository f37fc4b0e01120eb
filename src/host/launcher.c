#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callpage.h"
#include "calls.h"
#include "coverage.h"
#include "isolate.h"
#include "process.h"
#include "trap.h"

static int recv_fd(int sock)
{
	int fd;
	int n = hh_recv_fds(sock, &fd, 1, 0);
	return n == 1 ? fd : n < 0 ? n : -EPROTO;
}

/* Between fork and exec: write(2) only. */
static void say(const char *text)
{
	if (write(STDERR_FILENO, text, strlen(text)) < 0)
		return;         /* nowhere left to say it */
}

int hh_launch_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}

/*
 * exec_fd is the write end of the exec-status pipe (close-on-exec): a
 * successful execve closes it, a failed one sends its errno there, so that
 * hh_launch knows which before it returns.
 */
static _Noreturn void exec_program(char **argv, int exec_fd)
{
	/* A successful execve drops our counters (and libgcov writes them only once). */
	hh_coverage_write();
	execvp(argv[0], argv);
	int err = errno;
	if (write(exec_fd, &err, sizeof(err)) != (ssize_t)sizeof(err)) {
		/* The emulator is single-threaded, so strerror is safe in its fork. */
		say("helhost: cannot execute ");
		say(argv[0]);
		say(": ");
		say(strerror(err));
		say("\n");
	}
	_exit(hh_launch_exec_status(err));
}

/* What execve would say about path, as far as we can tell before it runs. */
static int check_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;         /* execve says EACCES; this says why */
	return access(path, X_OK) < 0 ? -errno : 0;
}

int hh_launch_check(const char *file)
{
	if (!*file)
		return -ENOENT;
	if (strchr(file, '/'))
		return check_file(file);
	/* Search PATH as execvp will: the first usable entry wins, EACCES beats ENOENT. */
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	int err = -ENOENT;
	for (const char *dir = path;; dir++) {
		size_t len = strcspn(dir, ":");
		char full[4096];
		/* An empty entry is the current directory (the precision must cover "."). */
		int n = len ? snprintf(full, sizeof(full), "%.*s/%s", (int)len, dir, file)
				: snprintf(full, sizeof(full), "./%s", file);
		int r = n > 0 && (size_t)n < sizeof(full) ? check_file(full) : -ENAMETOOLONG;
		if (!r)
			return 0;
		if (r != -ENOENT && r != -ENOTDIR)
			err = r;
		dir += len;
		if (!*dir)
			return err;
	}
}

void hh_launch_report_end(const struct hh_process *p, const siginfo_t *info)
{
	char how[64], last[96] = "";
	if (info->si_code == CLD_EXITED) {
		snprintf(how, sizeof(how), "exited with %d", info->si_status);
	} else {
		/* Real-time signals have no abbreviation: those are named by their number. */
		const char *sig = sigabbrev_np(info->si_status);
		const char *core = info->si_code == CLD_DUMPED ? " (core dumped)" : "";
		if (sig)
			snprintf(how, sizeof(how), "killed by SIG%s%s", sig, core);
		else
			snprintf(how, sizeof(how), "killed by signal %d%s", info->si_status, core);
		const struct hh_call_info *call = p->last_call ? hh_call_lookup(p->last_call) : NULL;
		if (call)
			snprintf(last, sizeof(last), " last Hel call: %s (thread %d)", call->name,
					(int)p->last_call_tid);
	}
	char which[32] = "--mbus";
	if (p->index)
		snprintf(which, sizeof(which), "program %d", p->index);
	fprintf(stderr, "helhost: %s[%d] (%s) +++ %s +++%s\n", p->name, (int)p->pid, which, how, last);
}

/* The child cannot become the program: the launch sees status 127. */
__attribute__((noreturn)) static void child_failed(void)
{
	hh_coverage_write();
	_exit(127);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(char **argv, int sock, int exec_fd, pid_t emulator, const struct rlimit *fd_limit,
		bool isolate)
{
	static struct sock_filter code[] = HH_TRAP_FILTER_INIT;
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	/* The emulator going away takes its programs with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != emulator)
		child_failed();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_failed();
	/* The emulator ignores SIGPIPE; ignored signals would stay ignored across exec. */
	signal(SIGPIPE, SIG_DFL);
	/*
	 * The emulator blocks SIGUSR1 for its state dump (dump.c) and SIGCHLD once it
	 * runs created threads (native.c); a mask survives exec.
	 */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The emulator raised its own fd limit; the program gets the one it would have had. */
	if (fd_limit->rlim_max)
		setrlimit(RLIMIT_NOFILE, fd_limit);
	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, HH_TRAP_FILTER_FLAGS, &prog);
	if (listener < 0 || hh_send_fds(sock, &listener, 1) < 0)
		child_failed();
	close(listener);
	close(sock);
	if (isolate && hh_isolate_enter(exec_fd) < 0) {
		static const char msg[] = "helhost: --isolate: cannot create a user namespace\n";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			child_failed();
		child_failed();
	}
	if (isolate)
		hh_isolate_run(argv, exec_fd, exec_program);
	exec_program(argv, exec_fd);
}

static void close_pair(const int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

/* Says why a program did not start (the run ends, so the user must learn why); returns -e. */
static int cannot_start(const char *program, int e)
{
	fprintf(stderr, "helhost: cannot start %s: %s\n", program, strerror(e));
	return -e;
}

/*
 * Until the child's execve succeeds (end of file) or fails (its errno):
 * 0 or that errno.  Between its fork and its execve the child waits for
 * nothing of ours, so this does not block the emulator for longer than an
 * execve takes.  Under --isolate the program is the child's grandchild, and
 * the two between close their copies (isolate.c).
 */
static int exec_error(int exec_fd)
{
	int err;
	ssize_t n;
	while ((n = read(exec_fd, &err, sizeof(err))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(err) ? err : 0;
}

/* The child set itself up but could not become argv[0]: reap it, say why. */
static int cannot_execute(char **argv, pid_t pid, int pidfd, int listener, int err, bool *not_executed)
{
	siginfo_t info;
	close(listener);
	/* It exits right after telling us; no report, it never ran. */
	if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0)
		kill(pid, SIGKILL);
	close(pidfd);
	/* execve's ENOENT for a file that is there: what is missing is its #! interpreter or ELF loader. */
	bool there = err == ENOENT && hh_launch_check(argv[0]) == 0;
	fprintf(stderr, "helhost: cannot execute %s: %s%s\n", argv[0], strerror(err),
			there ? " (its interpreter or loader is missing)" : "");
	*not_executed = true;
	return -err;
}

int hh_launch(char **argv, const struct rlimit *fd_limit, bool isolate, int index, bool *not_executed)
{
	int sv[2], exec_pipe[2];
	*not_executed = false;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cannot_start(argv[0], errno);
	if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
		int e = errno;
		close_pair(sv);
		return cannot_start(argv[0], e);
	}
	pid_t emulator = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close_pair(sv);
		close_pair(exec_pipe);
		return cannot_start(argv[0], e);
	}
	if (pid == 0) {
		close(sv[0]);
		close(exec_pipe[0]);
		child(argv, sv[1], exec_pipe[1], emulator, fd_limit, isolate);
	}
	close(sv[1]);
	close(exec_pipe[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int listener = recv_fd(sv[0]);
	close(sv[0]);
	if (pidfd < 0 || listener < 0) {
		kill(pid, SIGKILL);
		close(exec_pipe[0]);
		if (pidfd >= 0)
			close(pidfd);
		if (listener >= 0)
			close(listener);
		/* A child that cannot set itself up (prctl, seccomp) ends without a word. */
		return cannot_start(argv[0], pidfd < 0 ? ESRCH : ECHILD);
	}
	int err = exec_error(exec_pipe[0]);
	close(exec_pipe[0]);
	if (err)
		return cannot_execute(argv, pid, pidfd, listener, err, not_executed);
	const char *name = strrchr(argv[0], '/');
	if (!hh_process_launched(pid, pidfd, name ? name + 1 : argv[0], index) || !hh_trap_listen(listener)) {
		kill(pid, SIGKILL);
		return cannot_start(argv[0], ENOMEM);
	}
	return pid;
}

int hh_accept_listener(int sock)
{
	int listener = recv_fd(sock);
	if (listener < 0)
		return listener;
	return hh_trap_listen(listener) ? 0 : -ENOMEM;
}
