/*
 * Auto-start: a program linked with libhel that runs without `helhost run`
 * (a unit test under ctest, a program under gdb) starts a private emulator at
 * its first Hel call.  The emulator is spawned first (so it is not under the
 * filter), then the filter goes on every thread of this process and its
 * listener is handed over a socketpair.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

extern char **environ;

/*
 * The emulator: HELHOST_EMULATOR, else next to this library as installed
 * (LIBDIR/../bin/helhost, wherever the prefix was moved), else the install
 * path configured at build time, else the build tree's own.
 */
static const char *emulator_path(char *buf, size_t size)
{
	const char *env = getenv(HH_ENV_EMULATOR);
	if (env && *env)
		return env;
	Dl_info info;
	if (dladdr((void *)emulator_path, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');
		int len = slash ? (int)(slash - info.dli_fname) : 0;
		if (slash && snprintf(buf, size, "%.*s/../bin/helhost", len, info.dli_fname) < (int)size &&
				access(buf, X_OK) == 0)
			return buf;
	}
	if (access(HH_EMULATOR_INSTALLED, X_OK) == 0)
		return HH_EMULATOR_INSTALLED;
	return HH_EMULATOR_BUILT;
}

/* Spawn `helhost --serve FD`; it forks once more and reports the server's pid. */
static int spawn_emulator(int sock, int reply_sock, pid_t *server)
{
	char fd_text[16];
	snprintf(fd_text, sizeof(fd_text), "%d", sock);
	char buf[4096];
	const char *path = emulator_path(buf, sizeof(buf));
	char *argv[] = { (char *)"helhost", (char *)"--serve", fd_text, NULL };
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	/* dup2 onto itself clears close-on-exec for the child only. */
	posix_spawn_file_actions_adddup2(&actions, sock, sock);
	pid_t pid;
	int r = posix_spawn(&pid, path, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (r)
		return -r;
	/* The spawned process exits as soon as the server is forked: reap it here. */
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -ECHILD;
	int32_t pid_msg;
	if (read(reply_sock, &pid_msg, sizeof(pid_msg)) != sizeof(pid_msg))
		return -EPROTO;
	*server = pid_msg;
	return 0;
}

int hh_shim_autostart(void)
{
	static struct sock_filter code[] = HH_TRAP_FILTER_INIT;
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t server = 0;
	int r = spawn_emulator(sv[1], sv[0], &server);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	/* The server is no ancestor of ours: let it read our memory under Yama. */
	prctl(PR_SET_PTRACER, server, 0, 0, 0);
	int listener = -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, HH_TRAP_FILTER_FLAGS, &prog);
	if (listener < 0) {
		r = -errno;
		close(sv[0]);
		return r;
	}
	r = hh_send_fds(sv[0], &listener, 1);
	close(listener);
	close(sv[0]);
	return r;
}
