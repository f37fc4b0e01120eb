/*
 * Attacks a hosted program should not be able to make, for tests/programs/
 * isolation.sh.  Both modes are Hel programs (they register first).
 *
 *     intruder victim ADDRFILE
 *         writes the address of a secret string to ADDRFILE, then waits (on
 *         its queue, up to 60 s) for the name "attack-done" to be published:
 *         Hel IPC with the attacker.
 *     intruder attack TARGETFILE
 *         waits for TARGETFILE to hold "PID ADDR", then tries ptrace,
 *         process_vm_readv, pidfd_getfd, /proc/PID/mem and signals on PID
 *         and prints one line per attack, "NAME: ok" or "NAME: denied (why)";
 *         then publishes "attack-done".  With ADDR 0 a read counts as "ok"
 *         when Linux let it through to the (unmapped) address.
 *     intruder churn ROUNDS DIR
 *         prints "ready" and waits for DIR/start; then ROUNDS times forks a
 *         child that maps and unmaps fresh memory in a loop and kills it
 *         (SIGKILL) once it has done some, wherever it is; prints "churned"
 *         and waits for DIR/stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <hel.h>
#include <helhost.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hq.h"

static const char secret[] = "victim-secret";

static int report(const char *name, int ok, int err)
{
	if (ok)
		printf("%s: ok\n", name);
	else
		printf("%s: denied (%s)\n", name, strerror(err));
	return ok;
}

/* A read Linux allowed: it returned the secret, or faulted on an unmapped ADDR 0. */
static int read_allowed(ssize_t n, const char *buf, uintptr_t addr, int err)
{
	if (addr == 0)
		return n >= 0 || err == EFAULT || err == EIO;
	return n == (ssize_t)sizeof(secret) && !memcmp(buf, secret, sizeof(secret));
}

static void try_ptrace(pid_t pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	int err = errno;
	if (r == 0) {
		int status;
		waitpid(pid, &status, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	report("ptrace", r == 0, err);
}

static void try_vm_readv(pid_t pid, uintptr_t addr)
{
	char buf[sizeof(secret)] = { 0 };
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)addr, sizeof(buf) };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	int err = errno;
	report("process_vm_readv", read_allowed(n, buf, addr, err), err);
}

static void try_mem(pid_t pid, uintptr_t addr)
{
	char path[64], buf[sizeof(secret)] = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = errno;
	if (fd < 0) {
		report("proc_mem", 0, err);
		return;
	}
	ssize_t n = pread(fd, buf, sizeof(buf), (off_t)addr);
	err = errno;
	close(fd);
	report("proc_mem", read_allowed(n, buf, addr, err), err);
}

static void try_getfd(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int err = errno;
	if (pidfd < 0) {
		report("pidfd_getfd", 0, err);
		return;
	}
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, 1, 0);
	err = errno;
	report("pidfd_getfd", fd >= 0, err);
	if (fd >= 0)
		close(fd);
	close(pidfd);
}

/* Signal 0 asks Linux only whether a signal would be let through. */
static void try_signals(pid_t pid)
{
	int r = kill(pid, 0);
	report("kill", r == 0, errno);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = errno;
	if (dir >= 0) {
		r = (int)syscall(SYS_pidfd_send_signal, dir, 0, NULL, 0);
		err = errno;
		close(dir);
	}
	report("proc_pidfd_signal", dir >= 0 && r == 0, err);
}

static int victim(const char *addr_file)
{
	struct hq q;
	HEL_CHECK(hq_open(&q, 2, 2, 256));
	FILE *f = fopen(addr_file, "w");
	if (!f || fprintf(f, "%p\n", (void *)secret) < 0 || fclose(f))
		return 1;
	uint64_t now;
	HelHandle done;
	HEL_CHECK(helGetClock(&now));
	HelError e = helhost_lookup("attack-done", now + 60000000000ull, &done);
	printf("victim: attack-done %s\n", e == kHelErrNone ? "seen" : _helErrorString(e));
	return e == kHelErrNone ? 0 : 1;
}

/* The script writes a file once it knows what to put there: wait up to 60 s. */
static int wait_file(const char *path, unsigned long *pid, unsigned long *addr)
{
	for (int i = 0; i < 6000; i++) {
		FILE *f = fopen(path, "r");
		int n = f ? fscanf(f, "%lu %lx", pid, addr) : 0;
		if (f)
			fclose(f);
		if (n == 2)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int attack(const char *target_file)
{
	HEL_CHECK(helNop());
	unsigned long pid = 0, addr = 0;
	wait_file(target_file, &pid, &addr);
	if (!pid) {
		puts("attack: no target");
		return 1;
	}
	try_ptrace((pid_t)pid);
	try_vm_readv((pid_t)pid, addr);
	try_getfd((pid_t)pid);
	try_mem((pid_t)pid, addr);
	try_signals((pid_t)pid);
	fflush(stdout);
	HelHandle mine, theirs;
	HEL_CHECK(helCreateStream(&mine, &theirs, 0));
	HEL_CHECK(helhost_publish("attack-done", theirs));
	return 0;
}

static _Noreturn void map_forever(volatile uint64_t *count)
{
	for (;;) {
		HelHandle h;
		void *p;
		HEL_CHECK(helAllocateMemory(1 << 16, 0, NULL, &h));
		HEL_CHECK(helMapMemory(h, kHelNullHandle, NULL, 0, 1 << 16,
				kHelMapProtRead | kHelMapProtWrite, &p));
		HEL_CHECK(helUnmapMemory(kHelNullHandle, p, 1 << 16));
		HEL_CHECK(helCloseDescriptor(kHelThisUniverse, h));
		__atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
	}
}

static int wait_exists(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int i = 0; i < 6000; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int churn(int rounds, const char *dir)
{
	HEL_CHECK(helNop());
	volatile uint64_t *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED)
		return 1;
	puts("ready");
	if (wait_exists(dir, "start") < 0)
		return 1;
	for (int r = 0; r < rounds; r++) {
		*count = 0;
		pid_t child = fork();
		if (child < 0)
			return 1;
		if (child == 0)
			map_forever(count);
		/* Some maps done (up to 60 s), then the kill lands wherever the child is. */
		for (int i = 0; i < 60000 && __atomic_load_n(count, __ATOMIC_RELAXED) < 20 + (uint64_t)r; i++)
			usleep(1000);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	puts("churned");
	return wait_exists(dir, "stop") < 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "victim"))
		return victim(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "attack"))
		return attack(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]), argv[3]);
	fputs("usage: intruder victim ADDRFILE | intruder attack TARGETFILE | intruder churn ROUNDS DIR\n", stderr);
	return 2;
}
