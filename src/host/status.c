#include "status.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dump.h"
#include "loop.h"
#include "process.h"
#include "trace.h"

/*
 * The emulator's side: one listening socket, one client at a time (the
 * listener is armed again once the client has had its answer).  A client
 * that sends no request within REQUEST_NS is dropped, so that it holds up
 * other clients for that long at most, and the emulator never.
 */
#define REQUEST_NS 2000000000ull

static struct {
	int listener, client;
	struct hh_watcher accept_watch, client_watch;
	struct hh_timer patience;
} status = { .listener = -1, .client = -1 };

/* The abstract socket name of emulator pid: no file to leave behind, none to guard. */
static socklen_t address_of(pid_t pid, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s%d", HH_STATUS_PREFIX, (int)pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static void answer(const char *text, size_t len)
{
	/* A client that does not read gets what fits in 2 s, and the emulator goes on. */
	struct timeval limit = { .tv_sec = 2 };
	setsockopt(status.client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	while (len) {
		ssize_t n = send(status.client, text, len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		text += n;
		len -= (size_t)n;
	}
}

static void answer_string(const char *text)
{
	answer(text, strlen(text));
}

static void serve_command(const char *command)
{
	if (!strcmp(command, "status")) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f) {
			answer_string("helhost: the emulator has no memory for the state\n");
			return;
		}
		hh_dump_print(f);
		fclose(f);
		answer(text, len);
		free(text);
	} else if (!strncmp(command, "serves ", 7)) {
		const struct hh_process *p = hh_process_find((pid_t)atoi(command + 7));
		answer_string(p && !p->exited ? "yes\n" : "no\n");
	} else if (!strcmp(command, "trace on") || !strcmp(command, "trace off")) {
		hh_trace_enable(!strcmp(command, "trace on"));
		answer_string(hh_trace_enabled() ? "helhost: trace on\n" : "helhost: trace off\n");
	} else {
		answer_string("helhost: unknown request\n");
	}
}

static void end_client(void)
{
	hh_timer_stop(&status.patience);
	close(status.client);
	status.client = -1;
	hh_loop_poll(&status.accept_watch, status.listener, POLLIN);
}

static void client_ready(struct hh_watcher *w, int res)
{
	(void)w;
	char command[64];
	if (res < 0) {          /* cancelled: it was too slow */
		end_client();
		return;
	}
	ssize_t n = recv(status.client, command, sizeof(command) - 1, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN) {
		hh_loop_poll(&status.client_watch, status.client, POLLIN);
		return;
	}
	if (n > 0) {
		command[n] = 0;
		command[strcspn(command, "\n")] = 0;
		serve_command(command);
	}
	end_client();
}

/* The client sent nothing in time: its poll ends (cancelled), and with it the client. */
static void impatient(struct hh_timer *t)
{
	(void)t;
	if (status.client_watch.armed)
		hh_loop_cancel(&status.client_watch);
}

static void accepted(struct hh_watcher *w, int res)
{
	(void)w;
	int fd = res < 0 ? -1 : accept4(status.listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		hh_loop_poll(&status.accept_watch, status.listener, POLLIN);
		return;
	}
	status.client = fd;
	/* Only the user who started the emulator sees inside it. */
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
		char refusal[128];
		snprintf(refusal, sizeof(refusal), "helhost: permission denied: emulator %d is not yours\n",
				(int)getpid());
		answer_string(refusal);
		end_client();
		return;
	}
	hh_timer_start(&status.patience, hh_now() + REQUEST_NS);
	client_ready(&status.client_watch, 0);
}

int hh_status_init(void)
{
	struct sockaddr_un a;
	socklen_t len = address_of(getpid(), &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	status.listener = fd;
	status.accept_watch.cb = accepted;
	status.client_watch.cb = client_ready;
	hh_timer_init(&status.patience, impatient);
	hh_loop_poll(&status.accept_watch, fd, POLLIN);
	return 0;
}

/* ---- the client: helhost status [PID], helhost trace on|off [PID] ---- */

/* The Flags column of /proc/net/unix for a listening socket (__SO_ACCEPTCON). */
#define LISTENING 0x10000u

/* The owner of process pid, from its status (readable even when it is not dumpable). */
static long owner_of(pid_t pid)
{
	char path[32], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	long uid = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Uid:", 4))
			uid = strtol(line + 4, NULL, 10);
	if (f)
		fclose(f);
	return uid;
}

/* Connected to emulator pid, command sent; the socket or -errno. */
static int ask(pid_t pid, const char *command)
{
	struct sockaddr_un a;
	socklen_t len = address_of(pid, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* A refusal may close the connection before the request is sent: read it all the same. */
	if (send(fd, command, strlen(command), MSG_NOSIGNAL) < 0 && errno != EPIPE) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Whether emulator pid serves program `program`. */
static bool serves(pid_t pid, pid_t program)
{
	char command[32], reply[8] = "";
	snprintf(command, sizeof(command), "serves %d", (int)program);
	int fd = ask(pid, command);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, reply, sizeof(reply) - 1);
	close(fd);
	return n > 0 && !strncmp(reply, "yes", 3);
}

/*
 * Emulators listening now (/proc/net/unix lists abstract names with '@'),
 * those of the caller's user only.  Returns how many, the first in *pid;
 * with program > 0, only the one that serves it.
 */
static int find_emulators(pid_t *pid, pid_t program, bool list)
{
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "@%s", HH_STATUS_PREFIX);
	while (fgets(line, sizeof(line), f)) {
		const char *name = strstr(line, prefix);
		unsigned flags;
		/* Accepted connections carry the name too: only the listener counts. */
		if (!name || sscanf(line, "%*s %*s %*s %x", &flags) != 1 || !(flags & LISTENING))
			continue;
		pid_t p = (pid_t)atoi(name + strlen(prefix));
		if (p <= 0 || owner_of(p) != (long)getuid() || (program > 0 && !serves(p, program)))
			continue;
		if (!n++)
			*pid = p;
		if (list)
			fprintf(stderr, "helhost:   emulator %d\n", (int)p);
	}
	fclose(f);
	return n;
}

/* An emulator listens as pid (a connection it sees end at once, without a request). */
static bool listens(pid_t pid)
{
	struct sockaddr_un a;
	socklen_t len = address_of(pid, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, len) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* PID names an emulator, or a program one of the caller's emulators serves. */
static int pick_emulator(const char *arg, pid_t *pid)
{
	pid_t program = 0;
	if (arg) {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || v <= 0) {
			fprintf(stderr, "helhost: %s is no pid\n", arg);
			return -EINVAL;
		}
		bool listening = listens((pid_t)v);
		*pid = (pid_t)v;
		if (listening)
			return 0;
		program = (pid_t)v;
	}
	int n = find_emulators(pid, program, false);
	if (n == 1)
		return 0;
	if (!n) {
		if (program)
			fprintf(stderr, "helhost: %d is neither an emulator of yours nor a program one serves\n",
					(int)program);
		else
			fprintf(stderr, "helhost: no emulator of yours is running\n");
		return -ESRCH;
	}
	fprintf(stderr, "helhost: %d emulators of yours are running; name one by its pid:\n", n);
	find_emulators(pid, program, true);
	return -EINVAL;
}

int hh_status_request(const char *command, const char *pid_arg)
{
	pid_t pid;
	if (pick_emulator(pid_arg, &pid) < 0)
		return 1;
	int fd = ask(pid, command);
	if (fd < 0) {
		fprintf(stderr, "helhost: no emulator listens as pid %d: %s\n", (int)pid, strerror(-fd));
		return 1;
	}
	char buf[4096];
	ssize_t n;
	FILE *to = NULL;        /* a refusal goes to stderr, an answer to stdout */
	bool refused = false;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!to) {
			refused = !strncmp(buf, "helhost: permission denied", 26);
			to = refused ? stderr : stdout;
		}
		fwrite(buf, 1, (size_t)n, to);
	}
	close(fd);
	return refused ? 1 : 0;
}
