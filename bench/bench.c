/*
 * helhost-bench: each Hel operation next to its Linux-native counterpart,
 * measured in the same run.  Every figure is the median of ROUNDS rounds
 * (each round: many iterations, timed as a whole), with the min and max of
 * the rounds; the ratio is helhost's median over Linux's.  The machines are
 * noisy, so only ratios from one run are compared.
 *
 * A last table runs each attack on the emulator that docs/RELIABILITY.md
 * names next to a probe program (tests/support/probe.h) and reports the
 * worst and the 99th-percentile latency of the probe's helNop meanwhile.
 *
 *     helhost-bench [--json FILE] [--svg FILE] [--quick] [--attacks] [--ipc] [--threads [--split]]
 *                   [--memory]
 *
 * --attacks measures the attack table only (and prints it), --ipc the IPC
 * rows in their three placements only, --memory the memory calls in three
 * placements only.  --threads
 * measures the rows of created threads and their baselines only; with
 * --split the program runs on CPU 0, the emulator (and so every stub it
 * starts) and the futex ping-pong's partner on CPU 1, so that every
 * hand-off crosses cores.  Pin the whole run with taskset for one core.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <hel.h>
#include <helhost.h>
#include <helhost-queue.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hq.h"
#include "probe.h"

#define ROUNDS 11

static int quick;
static int attacks_only;
static int ipc_only;
static int threads_only, split;
static int memory_only;

static double pow10i(int e)
{
	return pow(10.0, e);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct stats {
	double median, min, max;        /* ns per operation */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct stats summarize(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return (struct stats){ v[n / 2], v[0], v[n - 1] };
}

/* Set-up time an operation spent that must not count (added by the op). */
static uint64_t untimed_ns;

/* Run op(iters) ROUNDS times; op returns the number of operations it did. */
static struct stats measure(long (*op)(long iters), long iters)
{
	double per_op[ROUNDS];
	if (quick)
		iters = iters / 10 + 1;
	op(iters / 10 + 1);     /* warm up */
	for (int r = 0; r < ROUNDS; r++) {
		untimed_ns = 0;
		uint64_t t0 = now_ns();
		long n = op(iters);
		per_op[r] = (double)(now_ns() - t0 - untimed_ns) / (double)n;
	}
	return summarize(per_op, ROUNDS);
}

/* ---- Linux-native baselines ---- */

static long op_getppid(long iters)
{
	for (long i = 0; i < iters; i++)
		syscall(SYS_getppid);
	return iters;
}

static int futex_word = 1;

static long op_futex_mismatch(long iters)
{
	for (long i = 0; i < iters; i++)
		syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return iters;
}

static long op_memfd(long iters)
{
	for (long i = 0; i < iters; i++) {
		int fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
			abort();
		close(fd);
	}
	return iters;
}

static int bench_memfd = -1;

/* A memory object's whole life in Linux terms: create, size, map, unmap, close. */
static long op_memfd_map(long iters)
{
	for (long i = 0; i < iters; i++) {
		int fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
			abort();
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			abort();
		munmap(p, 1 << 20);
		close(fd);
	}
	return iters;
}

static long op_mmap_munmap(long iters)
{
	for (long i = 0; i < iters; i++) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, bench_memfd, 0);
		if (p == MAP_FAILED)
			abort();
		munmap(p, 1 << 20);
	}
	return iters;
}

/* Page faults: touch every page of a fresh 1 MiB mapping; per page. */
static long op_faults_memfd(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		int fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
			abort();
		volatile char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		uint64_t t1 = now_ns();
		for (int off = 0; off < (1 << 20); off += 4096, pages++)
			p[off] = 1;
		uint64_t t2 = now_ns();
		munmap((void *)p, 1 << 20);
		untimed_ns += (t1 - t0) + (now_ns() - t2);
	}
	return pages;
}

/*
 * A raw seccomp user-notification round trip: a client process traps a magic
 * syscall, a supervisor process answers with RECV + SEND (sync wake-up set,
 * as helhost does).  Measured before the first Hel call, so that no other
 * filter is stacked on the client.
 */
#define RAW_NR 0x4856

static int send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	memset(&c, 0, sizeof(c));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
		.msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
		.msg_controllen = sizeof(c.buf) };
	if (recvmsg(sock, &msg, 0) != 1 || !CMSG_FIRSTHDR(&msg))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	return fd;
}

static void pin_to(int cpu);

/*
 * Placement decides IPC cost here by 10x (MECHANISMS.md), and the scheduler
 * flips unpinned runs between "one core" and "across cores", so the IPC and
 * memory rows are measured three ways (run_placed).  "Two cores": the bench
 * on CPU 0; its emulator, the ping-pong's second program and every
 * baseline's second process on CPU 1.  --threads --split is "two cores" too.
 */
struct placement {
	const char *name;
	int self, emulator, peer;       /* CPU of the bench, its emulator, the second process; -1 = any */
};
enum { PLACED_UNPINNED, PLACED_ONE_CORE, PLACED_TWO_CORES, NUM_PLACEMENTS };
static const struct placement placements[NUM_PLACEMENTS] = {
	[PLACED_UNPINNED] = { "unpinned", -1, -1, -1 },
	[PLACED_ONE_CORE] = { "one core", 0, 0, 0 },
	[PLACED_TWO_CORES] = { "two cores", 0, 1, 1 },
};
static const struct placement *place;   /* set while the rows of a placement run */

/* The second process of a baseline or of a ping-pong, placed like the emulator's peer. */
static void pin_peer(void)
{
	if (place)
		pin_to(place->peer);
}

static void raw_supervisor(int sock)
{
	if (place)
		pin_to(place->emulator);
	int listener = recv_fd(sock);
	if (listener < 0)
		_exit(1);
	ioctl(listener, SECCOMP_IOW(4, __u64), 1);     /* SET_FLAGS: sync wake-up */
	for (;;) {
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			_exit(0);
		struct seccomp_notif_resp resp = { .id = req.id, .val = 0 };
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static long op_raw_trap(long iters)
{
	for (long i = 0; i < iters; i++)
		syscall(RAW_NR);
	return iters;
}

static void raw_client(int sock, int result_fd, long iters)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RAW_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (listener < 0 || send_fd(sock, listener) < 0)
		_exit(1);
	close(listener);
	struct stats s = measure(op_raw_trap, iters);
	if (write(result_fd, &s, sizeof(s)) != sizeof(s))
		_exit(1);
	_exit(0);
}

static struct stats measure_raw_trap(long iters)
{
	int sv[2], pipefd[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || pipe(pipefd) < 0)
		abort();
	pid_t sup = fork();
	if (sup == 0) {
		close(sv[1]);
		raw_supervisor(sv[0]);
	}
	pid_t cli = fork();
	if (cli == 0) {
		close(sv[0]);
		raw_client(sv[1], pipefd[1], iters);
	}
	close(sv[0]);
	close(sv[1]);
	close(pipefd[1]);
	struct stats s = { 0 };
	if (read(pipefd[0], &s, sizeof(s)) != sizeof(s))
		fprintf(stderr, "raw seccomp baseline failed\n");
	close(pipefd[0]);
	waitpid(cli, NULL, 0);
	waitpid(sup, NULL, 0);
	return s;
}

/* ---- helhost ---- */

static struct hq bench_q;
static int *hel_word;
static HelHandle bench_mem;

static long op_hel_nop(long iters)
{
	for (long i = 0; i < iters; i++)
		helNop();
	return iters;
}

static long op_hel_futex_mismatch(long iters)
{
	for (long i = 0; i < iters; i++)
		helFutexWait(hel_word, 0, kHelWaitInfinite);
	return iters;
}

static long op_async_nop(long iters)
{
	for (long i = 0; i < iters; i++) {
		helSubmitAsyncNop(bench_q.handle, (uintptr_t)i);
		if (!hq_next(&bench_q, -1))
			abort();
	}
	return iters;
}

#define BATCH 32

static long op_async_nop_batched(long iters)
{
	long done = 0;
	for (long i = 0; i < iters; i += BATCH) {
		for (int j = 0; j < BATCH; j++)
			helSubmitAsyncNop(bench_q.handle, (uintptr_t)j);
		for (int j = 0; j < BATCH; j++)
			if (!hq_next(&bench_q, -1))
				abort();
		done += BATCH;
	}
	return done;
}

/* The same with libhel's installed reader, which checks its queue on every call. */
static struct helhost_queue helper_q;

/* Rounds of `batch` nops, then their elements, read with libhel's reader. */
static long helper_rounds(long iters, int batch)
{
	long done = 0;
	struct HelElement *e;
	for (long i = 0; i < iters; i += batch) {
		for (int j = 0; j < batch; j++)
			helSubmitAsyncNop(helper_q.handle, (uintptr_t)j);
		for (int j = 0; j < batch; j++)
			if (helhost_queue_next(&helper_q, kHelWaitInfinite, &e))
				abort();
		done += batch;
	}
	return done;
}

static long op_async_nop_helper(long iters)
{
	return helper_rounds(iters, BATCH);
}

static long op_async_nop_helper_one(long iters)
{
	return helper_rounds(iters, 1);
}

static long op_hel_allocate(long iters)
{
	for (long i = 0; i < iters; i++) {
		HelHandle h;
		if (helAllocateMemory(1 << 20, 0, NULL, &h) || helCloseDescriptor(kHelThisUniverse, h))
			abort();
	}
	return iters;
}

static long op_hel_map_unmap(long iters)
{
	for (long i = 0; i < iters; i++) {
		void *p;
		if (helMapMemory(bench_mem, kHelNullHandle, NULL, 0, 1 << 20,
				kHelMapProtRead | kHelMapProtWrite, &p) ||
				helUnmapMemory(kHelNullHandle, p, 1 << 20))
			abort();
	}
	return iters;
}

/* Every map names a memfd the shim has not seen: the whole hand-off each time. */
static long op_hel_allocate_map(long iters)
{
	for (long i = 0; i < iters; i++) {
		HelHandle h;
		void *p;
		if (helAllocateMemory(1 << 20, 0, NULL, &h) ||
				helMapMemory(h, kHelNullHandle, NULL, 0, 1 << 20,
					kHelMapProtRead | kHelMapProtWrite, &p) ||
				helUnmapMemory(kHelNullHandle, p, 1 << 20) ||
				helCloseDescriptor(kHelThisUniverse, h))
			abort();
	}
	return iters;
}

static long op_hel_faults(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		HelHandle h;
		void *p;
		if (helAllocateMemory(1 << 20, 0, NULL, &h) ||
				helMapMemory(h, kHelNullHandle, NULL, 0, 1 << 20,
					kHelMapProtRead | kHelMapProtWrite, &p))
			abort();
		uint64_t t1 = now_ns();
		for (int off = 0; off < (1 << 20); off += 4096, pages++)
			((volatile char *)p)[off] = 1;
		uint64_t t2 = now_ns();
		helUnmapMemory(kHelNullHandle, p, 1 << 20);
		helCloseDescriptor(kHelThisUniverse, h);
		/* Only the faults count, not the calls around them. */
		untimed_ns += (t1 - t0) + (now_ns() - t2);
	}
	return pages;
}


/* ---- messages: two lanes of one thread, and two programs ---- */

static size_t msg_size;                 /* the row being measured */
static char *msg_out, *msg_in;          /* heap buffers, like a pipe's user */
static HelHandle lane_a, lane_b;
static int pipe_fds[2];

static HelError submit(HelHandle lane, struct HelAction *a, size_t n, uintptr_t context)
{
	return helSubmitAsync(lane, a, n, bench_q.handle, context, 0);
}

static void expect_elements(int n)
{
	for (int i = 0; i < n; i++)
		if (!hq_next(&bench_q, -1))
			abort();
}

static long op_lanes(long iters)
{
	for (long i = 0; i < iters; i++) {
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = msg_out, .length = msg_size };
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = msg_in, .length = msg_size };
		if (submit(lane_b, &recv, 1, 1) || submit(lane_a, &send, 1, 2))
			abort();
		expect_elements(2);
	}
	return iters;
}

static long op_pipe_transfer(long iters)
{
	for (long i = 0; i < iters; i++) {
		for (size_t done = 0; done < msg_size;) {
			ssize_t n = write(pipe_fds[1], msg_out + done, msg_size - done);
			if (n <= 0)
				abort();
			done += (size_t)n;
		}
		for (size_t done = 0; done < msg_size;) {
			ssize_t n = read(pipe_fds[0], msg_in + done, msg_size - done);
			if (n <= 0)
				abort();
			done += (size_t)n;
		}
	}
	return iters;
}

static long op_memcpy(long iters)
{
	for (long i = 0; i < iters; i++) {
		memcpy(msg_in, msg_out, msg_size);
		__asm__ volatile("" ::: "memory");
	}
	return iters;
}

#define BURST 64

/* Many small messages: one submission of BURST chained sends, one of receives. */
static long op_lanes_burst(long iters)
{
	struct HelAction send[BURST], recv[BURST];
	for (int j = 0; j < BURST; j++) {
		send[j] = (struct HelAction){ .type = kHelActionSendFromBuffer,
			.flags = j + 1 < BURST ? kHelItemChain : 0, .buffer = msg_out, .length = 8 };
		recv[j] = (struct HelAction){ .type = kHelActionRecvInline,
			.flags = j + 1 < BURST ? kHelItemChain : 0 };
	}
	long done = 0;
	for (long i = 0; i < iters; i += BURST, done += BURST) {
		if (submit(lane_b, recv, BURST, 1) || submit(lane_a, send, BURST, 2))
			abort();
		expect_elements(2);
	}
	return done;
}

static long op_pipe_burst(long iters)
{
	for (long i = 0; i < iters; i++) {
		if (write(pipe_fds[1], msg_out, 8) != 8 || read(pipe_fds[0], msg_in, 8) != 8)
			abort();
	}
	return iters;
}

/* Ping-pong between two programs: the child echoes whatever arrives. */
static pid_t echo_child;
static int ping_fds[2], pong_fds[2];

/*
 * The echo of the first shape: it sends its reply, waits for the send's
 * element, and only then posts its next receive, as a server that answers
 * and then listens again does.  On one core that costs a second hand-off
 * through the emulator per message (6 switches a round trip).
 */
static void hel_echo_waiting(struct hq *q, HelHandle lane, char *buf)
{
	for (;;) {
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = buf, .length = 1 << 16 };
		if (helSubmitAsync(lane, &recv, 1, q->handle, 0, 0))
			_exit(2);
		struct HelLengthResult *r = hq_payload(hq_next(q, -1));
		if (r->error)
			_exit(0);       /* the parent closed its lane */
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = buf, .length = r->length };
		if (helSubmitAsync(lane, &send, 1, q->handle, 0, 0))
			_exit(3);
		hq_next(q, -1);
	}
}

/*
 * Unless echo_waits, the echo posts its reply and its next receive as one
 * chained submission, as the pinger does: 4 switches a round trip on one
 * core (docs/PERFORMANCE.md, "Ping-pong with queued submissions").
 */
static bool echo_waits;

static void hel_echo(HelHandle lane)
{
	struct hq q;
	char *buf = malloc(1 << 16);
	if (hq_open(&q, 9, 16, 4096) || !buf)
		_exit(1);
	if (echo_waits)
		hel_echo_waiting(&q, lane, buf);
	struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = buf, .length = 1 << 16 };
	if (helSubmitAsync(lane, &recv, 1, q.handle, 0, 0))
		_exit(2);
	struct helhost_results res = helhost_results_of(hq_next(&q, -1));
	for (;;) {
		struct HelLengthResult *r = helhost_take_length(&res);
		if (r->error)
			_exit(0);       /* the parent closed its lane */
		struct HelAction a[2] = {
			{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = buf, .length = r->length },
			{ .type = kHelActionRecvToBuffer, .buffer = buf, .length = 1 << 16 },
		};
		if (helSubmitAsync(lane, a, 2, q.handle, 0, 0))
			_exit(3);
		res = helhost_results_of(hq_next(&q, -1));
		if (helhost_take_simple(&res)->error)
			_exit(0);
	}
}

static void start_hel_echo(void)
{
	if (helCreateStream(&lane_a, &lane_b, 0))
		abort();
	echo_child = fork();
	if (echo_child == 0) {
		pin_peer();
		helCloseDescriptor(kHelThisUniverse, lane_a);
		hel_echo(lane_b);
	}
	helCloseDescriptor(kHelThisUniverse, lane_b);
}

static void stop_hel_echo(void)
{
	helCloseDescriptor(kHelThisUniverse, lane_a);
	waitpid(echo_child, NULL, 0);
}

static long op_hel_pingpong(long iters)
{
	for (long i = 0; i < iters; i++) {
		struct HelAction a[2] = {
			{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = msg_out, .length = msg_size },
			{ .type = kHelActionRecvToBuffer, .buffer = msg_in, .length = msg_size },
		};
		if (submit(lane_a, a, 2, 1))
			abort();
		expect_elements(1);
	}
	return iters;
}

static void start_pipe_echo(void)
{
	if (pipe(ping_fds) || pipe(pong_fds))
		abort();
	echo_child = fork();
	if (echo_child == 0) {
		pin_peer();
		char *buf = malloc(1 << 16);
		close(ping_fds[1]);     /* or the parent's close would never reach us */
		close(pong_fds[0]);
		for (;;) {
			ssize_t n = read(ping_fds[0], buf, 1 << 16);
			if (n <= 0)
				_exit(0);
			for (ssize_t done = 0; done < n;) {
				ssize_t w = write(pong_fds[1], buf + done, (size_t)(n - done));
				if (w <= 0)
					_exit(1);
				done += w;
			}
		}
	}
	close(ping_fds[0]);
	close(pong_fds[1]);
}

static void stop_pipe_echo(void)
{
	close(ping_fds[1]);
	close(pong_fds[0]);
	waitpid(echo_child, NULL, 0);
}

static long op_pipe_pingpong(long iters)
{
	for (long i = 0; i < iters; i++) {
		if (write(ping_fds[1], msg_out, msg_size) != (ssize_t)msg_size)
			abort();
		for (size_t done = 0; done < msg_size;) {
			ssize_t n = read(pong_fds[0], msg_in + done, msg_size - done);
			if (n <= 0)
				abort();
			done += (size_t)n;
		}
	}
	return iters;
}

/* ---- a neighbour's latency while the emulator is attacked ---- */

static struct hq attack_q;              /* big chunks: 65536 results fit one */
static HelHandle attack_l0, attack_l1;

static void attack_idle(void)
{
	usleep(300000);
}

/* Locks of 2 GiB (they used to populate the whole range). */
static void attack_lock(void)
{
	HelHandle mem, lock;
	if (helAllocateMemory(2ul << 30, 0, NULL, &mem))
		abort();
	for (int i = 0; i < 20; i++) {
		if (helSubmitLockMemoryView(mem, 0, 2ul << 30, attack_q.handle, 0))
			abort();
		struct HelElement *e = hq_next(&attack_q, -1);
		if (!e)
			abort();
		memcpy(&lock, (char *)hq_payload(e) + 8, sizeof(lock));
		helCloseDescriptor(kHelThisUniverse, lock);
	}
	helCloseDescriptor(kHelThisUniverse, mem);
}

/* What one call may send or copy: MAX_CALL_BYTES of src/calls_stream.c. */
#define CALL_MAX (16u << 20)

/* Submit `a` on one lane and `b` on the other, `times` times, waiting for both elements. */
static void exchange(struct HelAction *a, size_t na, struct HelAction *b, size_t nb, int times)
{
	for (int i = 0; i < times; i++) {
		if (helSubmitAsync(attack_l0, a, na, attack_q.handle, 1, 0) ||
				helSubmitAsync(attack_l1, b, nb, attack_q.handle, 2, 0))
			abort();
		for (int j = 0; j < 2; j++)
			if (!hq_next(&attack_q, -1))
				abort();
	}
}

/* The most a call may gather: 4096 segments, 16 MiB, met by a RecvInline that refuses it. */
static void attack_sg(void)
{
	size_t seg = CALL_MAX / 4096;
	char *buf = malloc(4096 * seg);
	struct HelSgItem *items = malloc(4096 * sizeof(*items));
	if (!buf || !items)
		abort();
	memset(buf, 1, 4096 * seg);
	for (int i = 0; i < 4096; i++)
		items[i] = (struct HelSgItem){ buf + (size_t)i * seg, seg };
	struct HelAction send = { .type = kHelActionSendFromBufferSg, .buffer = items, .length = 4096 };
	struct HelAction recv = { .type = kHelActionRecvInline };
	exchange(&send, 1, &recv, 1, 10);
	free(items);
	free(buf);
}

/* The most a call may stream: 16 MiB between heap buffers. */
static void attack_flow(void)
{
	size_t n = CALL_MAX;
	char *from = malloc(n), *to = malloc(n);
	if (!from || !to)
		abort();
	memset(from, 2, n);
	memset(to, 0, n);
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = from, .length = n };
	struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = to, .length = n };
	exchange(&send, 1, &recv, 1, 10);
	free(from);
	free(to);
}

/* 65536 Dismiss items a side (their matching once took 13-16 s). */
static void attack_actions(void)
{
	size_t n = 65536;
	struct HelAction *a = calloc(n, sizeof(*a));
	if (!a)
		abort();
	for (size_t i = 0; i < n; i++)
		a[i] = (struct HelAction){ .type = kHelActionDismiss, .flags = i + 1 < n ? kHelItemChain : 0 };
	exchange(a, n, a, n, 3);
	free(a);
}

/* 60000 pending clock waits (the default limit is 65536), cancelled oldest first (100000 once took 11.3 s: O(n^2)). */
static void attack_cancel(void)
{
	enum { N = 60000 };
	uint64_t now, id;
	helGetClock(&now);
	for (int i = 0; i < N; i++)
		if (helSubmitAwaitClock(now + 3600000000000ull, attack_q.handle, 0, &id))
			abort();
	for (uint64_t i = 1; i <= id; i++)
		helCancelAsync(attack_q.handle, i);
	for (int i = 0; i < N; i++)
		if (!hq_next(&attack_q, -1))
			abort();
}

/* A queue whose head word is garbage, flooded with 200000 nops. */
static void attack_broken_queue(void)
{
	struct hq q;
	if (hq_open(&q, 1, 1, 256))
		abort();
	__atomic_store_n(&q.queue->headFutex, 1 << 28, __ATOMIC_RELEASE);
	for (int i = 0; i < 200000; i++)
		helSubmitAsyncNop(q.handle, 0);
	helCloseDescriptor(kHelThisUniverse, q.handle);
}

/* Memory objects up to the per-program memfd limit (8192 by default), then closed. */
static void attack_memfds(void)
{
	static HelHandle h[8192];
	int n = 0;
	while (n < 8192 && !helAllocateMemory(4096, 0, NULL, &h[n]))
		n++;
	for (int i = 0; i < n; i++)
		helCloseDescriptor(kHelThisUniverse, h[i]);
}

struct attack {
	const char *name;
	void (*run)(void);
	double max, p99;
	uint64_t rounds;
};

static struct attack attacks[] = {
	{ "none (idle, 0.3 s)", attack_idle, 0, 0, 0 },
	{ "20 locks of 2 GiB", attack_lock, 0, 0, 0 },
	{ "10 x scatter-gather 4096 x 4 KiB", attack_sg, 0, 0, 0 },
	{ "10 x send 16 MiB heap to heap", attack_flow, 0, 0, 0 },
	{ "3 x 65536 Dismiss a side", attack_actions, 0, 0, 0 },
	{ "cancel 60000 clock waits", attack_cancel, 0, 0, 0 },
	{ "200000 nops into a broken queue", attack_broken_queue, 0, 0, 0 },
	{ "8192 memory objects, then closed", attack_memfds, 0, 0, 0 },
};

#define NUM_ATTACKS (sizeof(attacks) / sizeof(attacks[0]))

static void measure_attacks(void)
{
	struct probe p;
	if (hq_open(&attack_q, 2, 4, 1 << 20) || helCreateStream(&attack_l0, &attack_l1, 0) ||
			probe_start(&p) || probe_advance(&p, 10, 30000))
		abort();
	for (size_t i = 0; i < NUM_ATTACKS; i++) {
		uint64_t before = p.shared->rounds;
		probe_reset_latency(&p);
		attacks[i].run();
		if (probe_advance(&p, 1, 30000))
			abort();
		probe_latency(&p, &attacks[i].max, &attacks[i].p99);
		attacks[i].rounds = p.shared->rounds - before;
	}
	if (probe_stop(&p, 30000) != 0)
		fprintf(stderr, "helhost-bench: the probe saw failed calls\n");
}

static void print_attacks(void)
{
	printf("\n%-40s %12s %12s %10s\n", "probe helNop while an attack runs", "p99", "max",
			"rounds");
	for (size_t i = 0; i < NUM_ATTACKS; i++)
		printf("%-40s %9.1f us %9.1f us %10llu\n", attacks[i].name, attacks[i].p99 / 1e3,
				attacks[i].max / 1e3, (unsigned long long)attacks[i].rounds);
}

static void report_attacks(FILE *json)
{
	fprintf(json, "  \"attacks_us\": [\n");
	for (size_t i = 0; i < NUM_ATTACKS; i++)
		fprintf(json, "    {\"name\": \"%s\", \"probe_nop_p99\": %.1f, \"probe_nop_max\": %.1f, "
				"\"probe_rounds\": %llu}%s\n", attacks[i].name, attacks[i].p99 / 1e3,
				attacks[i].max / 1e3, (unsigned long long)attacks[i].rounds,
				i + 1 < NUM_ATTACKS ? "," : "");
	fprintf(json, "  ],\n");
}

/* ---- threads of their own (the native path) ---- */

struct row {
	const char *name;
	const char *baseline;
	struct stats hel, linux_;
};


/*
 * Run the caller (and what it starts from now on) on one CPU only; cpu < 0
 * leaves it on the CPUs it was given (all of them, or an outer taskset's).
 */
static void pin_to(int cpu)
{
	cpu_set_t set;
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		abort();
}

/*
 * The first Hel call auto-starts this process's emulator, which inherits
 * the CPUs of its caller: make it on the placement's emulator CPU, then go
 * back to the bench's own.
 */
static void start_emulator(const struct placement *p)
{
	pin_to(p->emulator);
	if (helNop() != kHelErrNone)
		abort();
	pin_to(p->self);
}

/* A futex ping-pong between two processes: the floor for a supercall round trip. */
static uint32_t *pp_word;
static pid_t pp_child;

static void futex_op(uint32_t *word, int op, uint32_t val)
{
	syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void start_futex_echo(void)
{
	pp_word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pp_word == MAP_FAILED)
		abort();
	*pp_word = 0;
	pp_child = fork();
	if (pp_child == 0) {
		pin_peer();
		/* 1 = a ping for the child, 2 = its pong, 3 = stop. */
		for (;;) {
			uint32_t v = __atomic_load_n(pp_word, __ATOMIC_ACQUIRE);
			if (v == 3)
				_exit(0);
			if (v != 1) {
				futex_op(pp_word, FUTEX_WAIT, v);
				continue;
			}
			__atomic_store_n(pp_word, 2, __ATOMIC_RELEASE);
			futex_op(pp_word, FUTEX_WAKE, 1);
		}
	}
}

static void stop_futex_echo(void)
{
	__atomic_store_n(pp_word, 3, __ATOMIC_RELEASE);
	futex_op(pp_word, FUTEX_WAKE, 1);
	waitpid(pp_child, NULL, 0);
	munmap(pp_word, 4096);
}

static long op_futex_pingpong(long iters)
{
	for (long i = 0; i < iters; i++) {
		__atomic_store_n(pp_word, 1, __ATOMIC_RELEASE);
		futex_op(pp_word, FUTEX_WAKE, 1);
		while (__atomic_load_n(pp_word, __ATOMIC_ACQUIRE) != 2)
			futex_op(pp_word, FUTEX_WAIT, 1);
	}
	return iters;
}

/* fork + kill + wait of a paused child: what helCreateThread + kill + close stands for. */
static long op_fork_kill(long iters)
{
	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0 || kill(pid, SIGKILL) < 0 || waitpid(pid, NULL, 0) != pid)
			abort();
	}
	return iters;
}

/*
 * Guest code, hand-assembled: r15 helNops in Managarm's convention, then a
 * supercall, again and again; the supervisor sets r15 before each resume.
 *   start: mov $kHelCallNop, %edi; syscall; dec %r15; jnz start
 *          mov $kHelCallSuper, %edi; syscall; jmp start
 */
static const unsigned char nop_loop[] = {
	0xbf, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x49, 0xff, 0xcf, 0x75, 0xf4,
	0xbf, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x05, 0xeb, 0xeb,
};
/* start: mov $kHelCallSuper + 1, %edi; syscall; jmp start */
static const unsigned char super_loop[] = { 0xbf, 0x01, 0x00, 0x00, 0x80, 0x0f, 0x05, 0xeb, 0xf7 };

#define GUEST_CODE 0x400000ull
static HelHandle guest_space, guest_thread;
static uint64_t guest_seq;
static void *guest_ip = (void *)GUEST_CODE;

/* A space holding code at GUEST_CODE, ready for threads. */
static HelHandle guest_load(const unsigned char *code, size_t len)
{
	HelHandle space, mem;
	void *mine, *at;
	if (helCreateSpace(&space) || helAllocateMemory(4096, 0, NULL, &mem) ||
			helMapMemory(mem, kHelNullHandle, NULL, 0, 4096, kHelMapProtRead | kHelMapProtWrite, &mine))
		abort();
	memcpy(mine, code, len);
	if (helMapMemory(mem, space, (void *)GUEST_CODE, 0, 4096,
			kHelMapProtRead | kHelMapProtExecute | kHelMapFixed, &at) ||
			helUnmapMemory(kHelNullHandle, mine, 4096) || helCloseDescriptor(kHelThisUniverse, mem))
		abort();
	return space;
}

/* The code in this process, for a thread in its own space (space kHelNullHandle). */
static void *own_load(const unsigned char *code, size_t len)
{
	void *at = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (at == MAP_FAILED)
		abort();
	memcpy(at, code, len);
	if (mprotect(at, 4096, PROT_READ | PROT_EXEC))
		abort();
	return at;
}

static void guest_start(const unsigned char *code, size_t len, bool own)
{
	guest_space = kHelNullHandle;
	guest_ip = (void *)GUEST_CODE;
	if (own)
		guest_ip = own_load(code, len);
	else
		guest_space = guest_load(code, len);
	if (helCreateThread(kHelNullHandle, guest_space, 0, guest_ip, NULL, kHelThreadStopped, &guest_thread))
		abort();
	guest_seq = 1;
}

static void guest_stop(void)
{
	if (helCloseDescriptor(kHelThisUniverse, guest_thread) || (guest_space != kHelNullHandle &&
			helCloseDescriptor(kHelThisUniverse, guest_space)))
		abort();
	/* The own-space code stays mapped: the thread's exit may still be on its way. */
}

/* Resume the guest and wait for its next stop. */
static void guest_run(void)
{
	if (helSubmitObserve(guest_thread, guest_seq, bench_q.handle, 0) || helResume(guest_thread))
		abort();
	struct HelElement *e = hq_next(&bench_q, -1);
	struct HelObserveResult *r = e ? hq_payload(e) : NULL;
	if (!r || r->error)
		abort();
	guest_seq = r->sequence;
}

static long op_native_nop(long iters)
{
	uintptr_t gprs[kHelNumGprs];
	if (helLoadRegisters(guest_thread, kHelRegsGeneral, gprs))
		abort();
	gprs[kHelRegR15] = (uintptr_t)iters;
	if (helStoreRegisters(guest_thread, kHelRegsGeneral, gprs))
		abort();
	guest_run();
	return iters;
}

/* Observe, load and store the registers, resume: the supervisor's side of a supercall. */
static long op_supercall(long iters)
{
	uintptr_t gprs[kHelNumGprs];
	for (long i = 0; i < iters; i++) {
		guest_run();
		if (helLoadRegisters(guest_thread, kHelRegsGeneral, gprs))
			abort();
		gprs[kHelRegError] = kHelErrNone;
		if (helStoreRegisters(guest_thread, kHelRegsGeneral, gprs))
			abort();
	}
	return iters;
}

static long op_thread_lifecycle(long iters)
{
	for (long i = 0; i < iters; i++) {
		HelHandle t;
		if (helCreateThread(kHelNullHandle, guest_space, 0, guest_ip, NULL,
				kHelThreadStopped, &t) || helKillThread(t) ||
				helCloseDescriptor(kHelThisUniverse, t))
			abort();
	}
	return iters;
}

/* ---- managed memory (docs/MEMORY.md) ---- */

#define MANAGED_PAGES 64

/* A pager on a thread of its own: initializes the pages asked for (with zeros, unwritten). */
struct bench_pager {
	HelHandle backing;
	long pages;
	pthread_t thread;
};

static void *pager_main(void *arg)
{
	struct bench_pager *pg = arg;
	struct hq q;
	if (hq_open(&q, 4, 4, 4096) || helSubmitManageMemory(pg->backing, q.handle, 0))
		abort();
	for (long served = 0; served < pg->pages;) {
		struct HelElement *e = hq_next(&q, -1);
		struct HelManageResult r;
		memcpy(&r, hq_payload(e), sizeof(r));
		served += (long)(r.length / 4096);
		if ((served < pg->pages && helSubmitManageMemory(pg->backing, q.handle, 0)) ||
				helUpdateMemory(pg->backing, r.type, r.offset, r.length))
			abort();
	}
	hq_close(&q);
	return NULL;
}

struct bench_managed {
	HelHandle backing, frontal;
	volatile char *map;
	struct bench_pager pager;
};

static void managed_open(struct bench_managed *m)
{
	if (helCreateManagedMemory(MANAGED_PAGES * 4096, 0, &m->backing, &m->frontal) ||
			helMapMemory(m->frontal, kHelNullHandle, NULL, 0, MANAGED_PAGES * 4096,
				kHelMapProtRead | kHelMapProtWrite, (void **)&m->map))
		abort();
	m->pager = (struct bench_pager){ .backing = m->backing, .pages = MANAGED_PAGES };
	if (pthread_create(&m->pager.thread, NULL, pager_main, &m->pager))
		abort();
}

static void managed_close(struct bench_managed *m)
{
	pthread_join(m->pager.thread, NULL);
	helUnmapMemory(kHelNullHandle, (void *)m->map, MANAGED_PAGES * 4096);
	helCloseDescriptor(kHelThisUniverse, m->backing);
	helCloseDescriptor(kHelThisUniverse, m->frontal);
}

/* First read of each page of frontal memory: a fault, a request, the pager's update. */
static long op_managed_first(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		struct bench_managed m;
		managed_open(&m);
		uint64_t t1 = now_ns();
		for (long off = 0; off < MANAGED_PAGES * 4096; off += 4096, pages++)
			(void)m.map[off];
		uint64_t t2 = now_ns();
		managed_close(&m);
		untimed_ns += (t1 - t0) + (now_ns() - t2);
	}
	return pages;
}

/* Pages that are there, in a fresh mapping of them: mapped with it, no pager (map timed). */
static struct bench_managed present;

static long op_managed_present(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		volatile char *p;
		if (helMapMemory(present.frontal, kHelNullHandle, NULL, 0, MANAGED_PAGES * 4096,
				kHelMapProtRead, (void **)&p))
			abort();
		for (long off = 0; off < MANAGED_PAGES * 4096; off += 4096, pages++)
			(void)p[off];
		uint64_t t0 = now_ns();
		helUnmapMemory(kHelNullHandle, (void *)p, MANAGED_PAGES * 4096);
		untimed_ns += now_ns() - t0;
	}
	return pages;
}

/* A page-cache hit: reading pages already mapped, frontal memory or a memfd. */
static volatile char *hit_map;

static long op_read_mapped(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++)
		for (long off = 0; off < MANAGED_PAGES * 4096; off += 4096, pages++)
			(void)hit_map[off];
	return pages;
}

/* Linux: a userfaultfd MINOR fault on a memfd mapping, resolved by a handler thread. */
static int uffd_linux = -1;

static void *uffd_handler(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd = { .fd = uffd_linux, .events = POLLIN };
		struct uffd_msg msg;
		if (poll(&pfd, 1, -1) < 0 || read(uffd_linux, &msg, sizeof(msg)) != sizeof(msg))
			return NULL;
		struct uffdio_continue c = { .range = { msg.arg.pagefault.address & ~4095ull, 4096 } };
		ioctl(uffd_linux, UFFDIO_CONTINUE, &c);
	}
}

/*
 * Read each page of a fresh mapping of the populated memfd, registered for
 * MINOR faults or not; the mmap is timed too when map_timed.
 */
static long read_fresh_memfd(long iters, bool minor, bool map_timed)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		volatile char *p = mmap(NULL, MANAGED_PAGES * 4096, PROT_READ, MAP_SHARED, bench_memfd, 0);
		struct uffdio_register reg = { .range = { (uintptr_t)p, MANAGED_PAGES * 4096 },
			.mode = UFFDIO_REGISTER_MODE_MINOR };
		if (p == MAP_FAILED || (minor && ioctl(uffd_linux, UFFDIO_REGISTER, &reg)))
			abort();
		uint64_t t1 = now_ns();
		for (long off = 0; off < MANAGED_PAGES * 4096; off += 4096, pages++)
			(void)p[off];
		uint64_t t2 = now_ns();
		munmap((void *)p, MANAGED_PAGES * 4096);
		untimed_ns += (map_timed ? 0 : t1 - t0) + (now_ns() - t2);
	}
	return pages;
}

static long op_uffd_minor(long iters)
{
	return read_fresh_memfd(iters, true, false);
}

/* A read fault on a mapping of a populated memfd. */
static long op_memfd_present(long iters)
{
	return read_fresh_memfd(iters, false, false);
}

static long op_memfd_map_present(long iters)
{
	return read_fresh_memfd(iters, false, true);
}

/* The Linux figures, before the emulator starts (bench_memfd is populated by then). */
struct managed_baselines {
	struct stats uffd, fault, map_fault, hit;
};

static struct managed_baselines managed_baselines(void)
{
	struct managed_baselines b;
	uffd_linux = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MINOR_SHMEM };
	pthread_t handler;
	if (uffd_linux < 0 || ioctl(uffd_linux, UFFDIO_API, &api) ||
			pthread_create(&handler, NULL, uffd_handler, NULL))
		abort();
	b.uffd = measure(op_uffd_minor, 20);
	/* The handler waits on for the rest of the run: closing the fd would not wake its poll. */
	pthread_detach(handler);
	b.fault = measure(op_memfd_present, 20);
	b.map_fault = measure(op_memfd_map_present, 20);
	hit_map = mmap(NULL, MANAGED_PAGES * 4096, PROT_READ, MAP_SHARED, bench_memfd, 0);
	if (hit_map == MAP_FAILED)
		abort();
	(void)op_read_mapped(1);
	b.hit = measure(op_read_mapped, 2000);
	munmap((void *)hit_map, MANAGED_PAGES * 4096);
	return b;
}

static int managed_rows(struct row *rows, int n, const struct managed_baselines *b)
{
	struct stats first = measure(op_managed_first, 20);
	rows[n++] = (struct row){ "managed page, first access (pager answers)",
		"userfaultfd MINOR round trip, handler thread", first, b->uffd };
	rows[n++] = (struct row){ "managed page, first access (pager answers)",
		"page fault on a populated memfd mapping", first, b->fault };
	managed_open(&present);
	for (long off = 0; off < MANAGED_PAGES * 4096; off += 4096)
		(void)present.map[off];
	rows[n++] = (struct row){ "map 64 present managed pages + read each, per page",
		"mmap of a populated memfd + read each page", measure(op_managed_present, 20), b->map_fault };
	hit_map = present.map;
	rows[n++] = (struct row){ "page-cache hit: mapped frontal page",
		"read of a mapped memfd page", measure(op_read_mapped, 2000), b->hit };
	managed_close(&present);
	return n;
}

/* ---- copy-on-write: first writes and forks (docs/MEMORY.md) ---- */

#define COW_PAGES 64
#define BIG_COW (1ull << 30)

static HelHandle cow_source;

/* A COW of COW_PAGES populated pages: create, map, write each page once (per page). */
static long op_cow_first_write(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		HelHandle cow;
		volatile char *p;
		if (helCopyOnWrite(cow_source, 0, COW_PAGES * 4096, &cow) ||
				helMapMemory(cow, kHelNullHandle, NULL, 0, COW_PAGES * 4096,
					kHelMapProtRead | kHelMapProtWrite, (void **)&p))
			abort();
		for (long off = 0; off < COW_PAGES * 4096; off += 4096, pages++)
			p[off] = 2;
		uint64_t t0 = now_ns();
		helUnmapMemory(kHelNullHandle, (void *)p, COW_PAGES * 4096);
		helCloseDescriptor(kHelThisUniverse, cow);
		untimed_ns += now_ns() - t0;
	}
	return pages;
}

/* Linux: the first write of each page of a private mapping of a populated memfd. */
static long op_private_first_write(long iters)
{
	long pages = 0;
	for (long i = 0; i < iters; i++) {
		volatile char *p = mmap(NULL, COW_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				bench_memfd, 0);
		if (p == MAP_FAILED)
			abort();
		for (long off = 0; off < COW_PAGES * 4096; off += 4096, pages++)
			p[off] = 2;
		uint64_t t0 = now_ns();
		munmap((void *)p, COW_PAGES * 4096);
		untimed_ns += now_ns() - t0;
	}
	return pages;
}

static HelHandle big_cow;

/* helForkMemory of a 1 GiB COW object with 10 pages written, and closing the fork. */
static long op_fork_big_cow(long iters)
{
	for (long i = 0; i < iters; i++) {
		HelHandle fork;
		if (helForkMemory(big_cow, &fork))
			abort();
		uint64_t t0 = now_ns();
		helCloseDescriptor(kHelThisUniverse, fork);
		untimed_ns += now_ns() - t0;
	}
	return iters;
}

/* Linux: fork(2) of this process with a private 1 GiB mapping, 10 pages written; the child exits. */
static long op_fork_big_private(long iters)
{
	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			abort();
	}
	return iters;
}

static struct stats fork_big_private(void)
{
	char *p = mmap(NULL, BIG_COW, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			-1, 0);
	if (p == MAP_FAILED)
		abort();
	for (int i = 0; i < 10; i++)
		p[(uint64_t)i * (BIG_COW / 10)] = 1;
	struct stats s = measure(op_fork_big_private, 50);
	munmap(p, BIG_COW);
	return s;
}

static int cow_rows(struct row *rows, int n, struct stats fork_private)
{
	void *p;
	if (helAllocateMemory(COW_PAGES * 4096, 0, NULL, &cow_source) ||
			helMapMemory(cow_source, kHelNullHandle, NULL, 0, COW_PAGES * 4096,
				kHelMapProtRead | kHelMapProtWrite, &p))
		abort();
	memset(p, 1, COW_PAGES * 4096);
	rows[n++] = (struct row){ "COW of 64 populated pages: create + map + first writes, per page",
		"first write to a MAP_PRIVATE page of a populated memfd",
		measure(op_cow_first_write, 50), measure(op_private_first_write, 50) };
	/* 1 GiB of zero memory, 10 pages written through the call. */
	if (helCopyOnWrite(kHelZeroMemory, 0, BIG_COW, &big_cow))
		abort();
	for (int i = 0; i < 10; i++) {
		char one = 1;
		if (helSubmitWriteMemory(big_cow, (uint64_t)i * (BIG_COW / 10) / 4096 * 4096, 1, &one,
				bench_q.handle, 0))
			abort();
		struct HelElement *e = hq_next(&bench_q, -1);
		if (!e || ((struct HelSimpleResult *)hq_payload(e))->error)
			abort();
	}
	rows[n++] = (struct row){ "helForkMemory, 1 GiB COW, 10 pages written",
		"fork(2) with a private 1 GiB mapping, 10 pages written", measure(op_fork_big_cow, 50),
		fork_private };
	helCloseDescriptor(kHelThisUniverse, big_cow);
	helUnmapMemory(kHelNullHandle, p, COW_PAGES * 4096);
	helCloseDescriptor(kHelThisUniverse, cow_source);
	return n;
}

/* One kind's rows: names[] for its helNop, supercall and lifecycle rows. */
static int native_kind(struct row *rows, int n, struct stats futex_pp, struct stats fork_kill,
		bool own, const char *const names[3])
{
	guest_start(nop_loop, sizeof(nop_loop), own);
	struct stats native_nop = measure(op_native_nop, 20000);
	rows[n++] = (struct row){ names[0], "getppid", native_nop, rows[0].linux_ };
	rows[n++] = (struct row){ names[0], "libhel helNop", native_nop, rows[0].hel };
	guest_stop();
	guest_start(super_loop, sizeof(super_loop), own);
	rows[n++] = (struct row){ names[1], "futex ping-pong, 2 processes",
		measure(op_supercall, 5000), futex_pp };
	rows[n++] = (struct row){ names[2], "fork + kill + waitpid",
		measure(op_thread_lifecycle, 100), fork_kill };
	guest_stop();
	return n;
}

/*
 * The native rows, for threads in a space of their own (a stub process
 * each) and in this program's own space (a Linux thread of it); libhel's
 * helNop (rows[0]) is the figure the native one is judged by.
 */
static int native_rows(struct row *rows, int n, struct stats futex_pp, struct stats fork_kill)
{
	static const char *const stub[3] = { "helNop from a created thread", "supercall round trip",
		"helCreateThread + kill + close" };
	static const char *const own[3] = { "helNop, own-space thread", "supercall round trip, own space",
		"create + kill + close, own space" };
	n = native_kind(rows, n, futex_pp, fork_kill, false, stub);
	return native_kind(rows, n, futex_pp, fork_kill, true, own);
}

static void print_rows(const struct row *rows, int n)
{
	printf("\n%-34s %12s %12s %8s\n", "operation (helhost vs Linux)", "helhost ns", "Linux ns", "ratio");
	for (int i = 0; i < n; i++)
		printf("%-34s %12.0f %12.0f %7.2fx   (vs %s)\n", rows[i].name, rows[i].hel.median,
				rows[i].linux_.median, rows[i].hel.median / rows[i].linux_.median, rows[i].baseline);
}

/* --threads: the native rows with their baselines, nothing else. */
static int thread_table(void)
{
	struct row rows[16];         /* helNop and the native rows, with room for more kinds */
	place = &placements[split ? PLACED_TWO_CORES : PLACED_UNPINNED];
	pin_to(place->self);
	start_futex_echo();
	struct stats futex_pp = measure(op_futex_pingpong, 20000);
	stop_futex_echo();
	struct stats fork_kill = measure(op_fork_kill, 200);
	struct stats getppid_s = measure(op_getppid, 200000);
	start_emulator(place);
	if (hq_open(&bench_q, 9, 16, 16384))
		abort();
	rows[0] = (struct row){ "helNop", "getppid", measure(op_hel_nop, 20000), getppid_s };
	int n = native_rows(rows, 1, futex_pp, fork_kill);
	print_rows(rows, n);
	return 0;
}

/* ---- rows measured in three placements ---- */

#define MAX_PLACED_ROWS 20

struct placed_row {
	char name[48], baseline[40];
	struct stats hel, linux_;
};

/* Single round trips of a ping-pong, and the context switches a round trip costs. */
struct latency {
	char name[48];
	double hel_p50, hel_p99, pipe_p50, pipe_p99;
	double hel_switches, pipe_switches;
};

/* What one set of rows measured in one placement; lat is the IPC set's only. */
struct placed_rows {
	int n;
	struct placed_row rows[MAX_PLACED_ROWS];
	struct latency lat[3];          /* one per pingpongs[] */
};

static struct placed_rows ipc[NUM_PLACEMENTS], memory[NUM_PLACEMENTS];

static void placed_add(struct placed_rows *r, const char *name, const char *baseline,
		struct stats hel, struct stats lin)
{
	if (r->n >= MAX_PLACED_ROWS)
		abort();        /* a row added without room: raise MAX_PLACED_ROWS */
	struct placed_row *row = &r->rows[r->n++];
	snprintf(row->name, sizeof(row->name), "%s", name);
	snprintf(row->baseline, sizeof(row->baseline), "%s", baseline);
	row->hel = hel;
	row->linux_ = lin;
}

/*
 * A set of rows, measured in a child that run_placed has pinned to p->self:
 * the Linux baselines first, then start_emulator(p) and the Hel rows.
 */
typedef void placed_set(const struct placement *p, struct placed_rows *r);

/*
 * Every placement in a child of its own, which starts an emulator of its own.
 * Call it before the bench's own first Hel call: a child forked after it
 * would share the bench's emulator, on whatever CPUs that one has.
 */
static void run_placed(placed_set *set, struct placed_rows out[NUM_PLACEMENTS])
{
	for (size_t i = 0; i < NUM_PLACEMENTS; i++) {
		int fds[2];
		if (pipe(fds))
			abort();
		pid_t child = fork();
		if (child < 0)
			abort();
		if (child == 0) {
			struct placed_rows r = { .n = 0 };
			close(fds[0]);
			place = &placements[i];
			pin_to(place->self);
			set(place, &r);
			_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
		}
		close(fds[1]);
		if (read(fds[0], &out[i], sizeof(out[i])) != (ssize_t)sizeof(out[i])) {
			fprintf(stderr, "helhost-bench: the %s placement failed\n", placements[i].name);
			out[i].n = 0;
		}
		close(fds[0]);
		waitpid(child, NULL, 0);
	}
}

/* The rows of every placement as rows of the main table, each named "row, placement". */
static int placed_as_rows(struct row *rows, int n, const struct placed_rows placed[NUM_PLACEMENTS])
{
	static char labels[NUM_PLACEMENTS][MAX_PLACED_ROWS][sizeof(placed[0].rows[0].name) + 16];
	for (size_t p = 0; p < NUM_PLACEMENTS; p++)
		for (int i = 0; i < placed[p].n; i++) {
			const struct placed_row *r = &placed[p].rows[i];
			snprintf(labels[p][i], sizeof(labels[p][i]), "%s, %s", r->name, placements[p].name);
			rows[n++] = (struct row){ labels[p][i], r->baseline, r->hel, r->linux_ };
		}
	return n;
}

/* The memory calls; fewer iterations than the main table's, since across two cores a trap waits for a wake-up. */
static void memory_set(const struct placement *p, struct placed_rows *r)
{
	bench_memfd = memfd_create("bench", MFD_CLOEXEC);
	if (bench_memfd < 0 || ftruncate(bench_memfd, 1 << 20) < 0)
		abort();
	struct stats memfd_s = measure(op_memfd, 2000);
	struct stats mmap_s = measure(op_mmap_munmap, 2000);
	start_emulator(p);
	if (helAllocateMemory(1 << 20, 0, NULL, &bench_mem))
		abort();
	placed_add(r, "allocate + close 1 MiB", "memfd_create + ftruncate + close",
			measure(op_hel_allocate, 2000), memfd_s);
	placed_add(r, "map + unmap 1 MiB", "mmap + munmap of a memfd", measure(op_hel_map_unmap, 2000), mmap_s);
}

/* ---- IPC rows ---- */

static char names[32][48];
static int names_used;

static const char *sized(const char *what, size_t size)
{
	char *n = names[names_used++ % 32];
	if (size >= (1 << 20))
		snprintf(n, sizeof(names[0]), "%s %zu MiB", what, size >> 20);
	else if (size >= 1024)
		snprintf(n, sizeof(names[0]), "%s %zu KiB", what, size >> 10);
	else
		snprintf(n, sizeof(names[0]), "%s %zu B", what, size);
	return n;
}

/* Scale iterations so that each figure takes a similar time. */
static long iters_for(size_t size, long small)
{
	long it = (long)((64ull << 20) / (size + 4096));
	return it < small ? it : small;
}

static void percentiles(long (*op)(long), int n, double *p50, double *p99)
{
	double *v = malloc((size_t)n * sizeof(*v));
	if (!v)
		abort();
	op(100);        /* warm up */
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		op(1);
		v[i] = (double)(now_ns() - t0);
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	*p50 = v[n / 2];
	*p99 = v[n * 99 / 100];
	free(v);
}

/* Voluntary plus involuntary context switches of a process so far (0 if it is gone). */
static long switches_of(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	long total = 0, v;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
				sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
			total += v;
	fclose(f);
	return total;
}

/*
 * The emulator serving us: the owner of its robust life-sign word, which
 * the shim maps read-only (src/alive.h: the word at offset 64 holds its tid).
 */
static pid_t emulator_pid(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long lo = 0;
	while (f && !lo && fgets(line, sizeof(line), f))
		if (!strstr(line, "helhost-alive") || sscanf(line, "%lx-", &lo) != 1)
			lo = 0;
	if (f)
		fclose(f);
	return lo ? (pid_t)(*(volatile uint32_t *)(lo + 64) & FUTEX_TID_MASK) : 0;
}

/* Context switches of the given processes per operation, over iters operations. */
static double switches_per_op(long (*op)(long), long iters, const pid_t *pids, int n)
{
	long before = 0, after = 0;
	for (int i = 0; i < n; i++)
		before += switches_of(pids[i]);
	long done = op(iters);
	for (int i = 0; i < n; i++)
		after += switches_of(pids[i]);
	return (double)(after - before) / (double)done;
}

static const size_t lane_sizes[] = { 1, 32, 128, 4096, 16384, 65536, 1 << 20 };
#define NUM_LANE_SIZES (sizeof(lane_sizes) / sizeof(lane_sizes[0]))
/* The ping-pongs: the message's size and the echo's shape (hel_echo). */
static const struct pingpong { size_t size; bool echo_waits; } pingpongs[] = {
	{ 8, false }, { 65536, false }, { 8, true },
};
#define NUM_PINGPONGS (sizeof(pingpongs) / sizeof(pingpongs[0]))

/* The Linux side, measured before this placement's first Hel call (see measure_raw_trap). */
struct ipc_baselines {
	struct stats raw, transfer[NUM_LANE_SIZES], copy, burst, pingpong[NUM_PINGPONGS];
};

static void ipc_baselines(struct ipc_baselines *b, struct placed_rows *r)
{
	b->raw = measure_raw_trap(20000);
	for (size_t i = 0; i < NUM_LANE_SIZES; i++) {
		msg_size = lane_sizes[i];
		b->transfer[i] = measure(op_pipe_transfer, iters_for(msg_size, 5000));
	}
	msg_size = 1 << 20;
	b->copy = measure(op_memcpy, 200);
	b->burst = measure(op_pipe_burst, 20000);
	for (size_t i = 0; i < NUM_PINGPONGS; i++) {
		struct latency *lat = &r->lat[i];
		msg_size = pingpongs[i].size;
		snprintf(lat->name, sizeof(lat->name), "%s", sized(pingpongs[i].echo_waits ?
				"ping-pong, echo waits for its send," : "ping-pong, 2 programs,", msg_size));
		start_pipe_echo();
		b->pingpong[i] = measure(op_pipe_pingpong, msg_size > 4096 ? 1000 : 5000);
		percentiles(op_pipe_pingpong, quick ? 300 : 3000, &lat->pipe_p50, &lat->pipe_p99);
		pid_t pids[2] = { getpid(), echo_child };
		lat->pipe_switches = switches_per_op(op_pipe_pingpong, 2000, pids, 2);
		stop_pipe_echo();
	}
}

static void ipc_messages(const struct ipc_baselines *b, struct placed_rows *r)
{
	if (helCreateStream(&lane_a, &lane_b, 0))
		abort();
	for (size_t i = 0; i < NUM_LANE_SIZES; i++) {
		msg_size = lane_sizes[i];
		placed_add(r, sized("send/receive, 2 lanes,", msg_size), "pipe write + read",
				measure(op_lanes, iters_for(msg_size, 5000)), b->transfer[i]);
	}
	placed_add(r, "send/receive 1 MiB, heap buffers", "memcpy 1 MiB", r->rows[r->n - 1].hel, b->copy);
	/* The same between buffers in Hel memory: the emulator copies through its own mapping. */
	HelHandle mem;
	void *hel_buf;
	char *heap_out = msg_out, *heap_in = msg_in;
	if (helAllocateMemory(2 << 20, 0, NULL, &mem) || helMapMemory(mem, kHelNullHandle, NULL, 0,
			2 << 20, kHelMapProtRead | kHelMapProtWrite, &hel_buf))
		abort();
	msg_out = hel_buf;
	msg_in = (char *)hel_buf + (1 << 20);
	memset(msg_out, 0x5a, 1 << 20);
	placed_add(r, "send/receive 1 MiB, Hel memory buffers", "memcpy 1 MiB", measure(op_lanes, 200), b->copy);
	msg_out = heap_out;
	msg_in = heap_in;
	placed_add(r, "64 x 8 B messages, one submission each side", "pipe write + read of 8 B",
			measure(op_lanes_burst, 20000), b->burst);
	helCloseDescriptor(kHelThisUniverse, lane_a);
	helCloseDescriptor(kHelThisUniverse, lane_b);
}

static void ipc_pingpong(const struct ipc_baselines *b, struct placed_rows *r)
{
	pid_t emulator = emulator_pid();
	for (size_t i = 0; i < NUM_PINGPONGS; i++) {
		struct latency *lat = &r->lat[i];
		msg_size = pingpongs[i].size;
		echo_waits = pingpongs[i].echo_waits;
		start_hel_echo();
		struct stats hel = measure(op_hel_pingpong, msg_size > 4096 ? 1000 : 5000);
		percentiles(op_hel_pingpong, quick ? 300 : 3000, &lat->hel_p50, &lat->hel_p99);
		pid_t pids[3] = { getpid(), echo_child, emulator };
		lat->hel_switches = switches_per_op(op_hel_pingpong, 2000, pids, 3);
		stop_hel_echo();
		placed_add(r, lat->name, "pipe ping-pong, 2 processes", hel, b->pingpong[i]);
	}
}

static void ipc_set(const struct placement *p, struct placed_rows *r)
{
	struct ipc_baselines b;
	msg_out = malloc(1 << 20);
	msg_in = malloc(1 << 20);
	if (!msg_out || !msg_in || pipe(pipe_fds) || fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20) < 0)
		abort();
	memset(msg_out, 0x5a, 1 << 20);
	memset(msg_in, 0, 1 << 20);
	ipc_baselines(&b, r);
	start_emulator(p);
	if (hq_open(&bench_q, 9, 16, 16384))
		abort();
	placed_add(r, "helNop", "raw seccomp notification", measure(op_hel_nop, 20000), b.raw);
	placed_add(r, "async nop round trip (one at a time)", "raw seccomp notification",
			measure(op_async_nop, 20000), b.raw);
	if (helhost_queue_open(&helper_q, 4, 4096))
		abort();
	placed_add(r, "the same, helhost_queue_next", "raw seccomp notification",
			measure(op_async_nop_helper_one, 20000), b.raw);
	struct stats batched = measure(op_async_nop_batched, 20000);
	placed_add(r, "async nop, batched by 32", "raw seccomp notification", batched, b.raw);
	placed_add(r, "async nop, batched by 32, helhost_queue_next", "the same, tests' bare reader (hq.c)",
			measure(op_async_nop_helper, 20000), batched);
	ipc_messages(&b, r);
	ipc_pingpong(&b, r);
}

static void print_ipc(void)
{
	printf("\n%-44s", "IPC: helhost ns / Linux ns (ratio)");
	for (size_t p = 0; p < NUM_PLACEMENTS; p++)
		printf(" %26s", placements[p].name);
	printf("\n");
	for (int i = 0; i < ipc[0].n; i++) {
		printf("%-44s", ipc[0].rows[i].name);
		for (size_t p = 0; p < NUM_PLACEMENTS; p++) {
			const struct placed_row *r = &ipc[p].rows[i];
			printf(" %9.0f /%9.0f %5.2fx", r->hel.median, r->linux_.median,
					r->hel.median / r->linux_.median);
		}
		printf("   (vs %s)\n", ipc[0].rows[i].baseline);
	}
	printf("\n%-44s %38s\n", "single round trips, per placement", "helhost p50 / p99  pipe p50 / p99  switches hel / pipe");
	for (size_t p = 0; p < NUM_PLACEMENTS; p++)
		for (size_t i = 0; i < NUM_PINGPONGS; i++) {
			const struct latency *l = &ipc[p].lat[i];
			printf("%-40s %-11s %7.1f / %7.1f us %6.1f / %7.1f us %5.2f / %4.2f\n", l->name,
					placements[p].name, l->hel_p50 / 1e3, l->hel_p99 / 1e3, l->pipe_p50 / 1e3,
					l->pipe_p99 / 1e3, l->hel_switches, l->pipe_switches);
		}
}

static void report_ipc(FILE *json)
{
	fprintf(json, "  \"placements\": [\n");
	for (size_t p = 0; p < NUM_PLACEMENTS; p++) {
		fprintf(json, "    {\"placement\": \"%s\", \"latency_us\": [\n", placements[p].name);
		for (size_t i = 0; i < NUM_PINGPONGS; i++) {
			const struct latency *l = &ipc[p].lat[i];
			fprintf(json, "      {\"name\": \"%s\", \"helhost_p50\": %.1f, \"helhost_p99\": %.1f, "
					"\"pipe_p50\": %.1f, \"pipe_p99\": %.1f, \"helhost_switches\": %.2f, "
					"\"pipe_switches\": %.2f}%s\n", l->name, l->hel_p50 / 1e3, l->hel_p99 / 1e3,
					l->pipe_p50 / 1e3, l->pipe_p99 / 1e3, l->hel_switches, l->pipe_switches,
					i + 1 < NUM_PINGPONGS ? "," : "");
		}
		fprintf(json, "    ], \"rows\": [\n");
		for (int i = 0; i < ipc[p].n; i++) {
			const struct placed_row *r = &ipc[p].rows[i];
			fprintf(json, "      {\"name\": \"%s\", \"baseline\": \"%s\", "
					"\"helhost_ns\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}, "
					"\"linux_ns\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}, \"ratio\": %.3f}%s\n",
					r->name, r->baseline, r->hel.median, r->hel.min, r->hel.max,
					r->linux_.median, r->linux_.min, r->linux_.max,
					r->hel.median / r->linux_.median, i + 1 < ipc[p].n ? "," : "");
		}
		fprintf(json, "    ]}%s\n", p + 1 < NUM_PLACEMENTS ? "," : "");
	}
	fprintf(json, "  ],\n");
}

/* ---- the table ---- */

static void print_stats(const char *label, struct stats s)
{
	printf("  %-44s %10.0f ns  (min %.0f, max %.0f)\n", label, s.median, s.min, s.max);
}

static void report(FILE *json, const struct row *rows, int n)
{
	print_rows(rows, n);
	print_ipc();
	print_attacks();
	if (!json)
		return;
	fprintf(json, "{\n  \"rounds\": %d,\n", ROUNDS);
	report_ipc(json);
	report_attacks(json);
	fprintf(json, "  \"rows\": [\n");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		fprintf(json, "    {\"name\": \"%s\", \"baseline\": \"%s\", "
				"\"helhost_ns\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}, "
				"\"linux_ns\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}, \"ratio\": %.3f}%s\n",
				r->name, r->baseline, r->hel.median, r->hel.min, r->hel.max,
				r->linux_.median, r->linux_.min, r->linux_.max, r->hel.median / r->linux_.median,
				i + 1 < n ? "," : "");
	}
	fprintf(json, "  ]\n}\n");
}


/* A bar per row: helhost / Linux, on a log scale, with 1x marked. */
static void draw_chart(const char *path, const struct row *rows, int n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	const int left = 540, width = 420, bar = 18, top = 40;
	const double lo = -1.0, hi = 2.0;  /* log10 of 0.1x .. 100x */
	int height = top + n * (bar + 6) + 30;
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
			"font-family='sans-serif' font-size='12'>\n", left + width + 80, height);
	fprintf(f, "<text x='10' y='20' font-size='14'>helhost / Linux (log scale; shorter is better)</text>\n");
	for (int t = 0; t < 4; t++) {
		double x = left + width * (double)t / 3.0;
		fprintf(f, "<line x1='%.0f' y1='%d' x2='%.0f' y2='%d' stroke='%s'/>"
				"<text x='%.0f' y='%d' text-anchor='middle'>%gx</text>\n",
				x, top - 5, x, height - 25, t == 1 ? "black" : "#ccc", x, height - 10, pow10i(t - 1));
	}
	for (int i = 0; i < n; i++) {
		double ratio = rows[i].hel.median / rows[i].linux_.median;
		double l = log10(ratio);
		l = l < lo ? lo : l > hi ? hi : l;
		double x0 = left + width * (0 - lo) / (hi - lo), x1 = left + width * (l - lo) / (hi - lo);
		int y = top + i * (bar + 6);
		fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%s (vs %s)</text>\n", left - 6, y + 13,
				rows[i].name, rows[i].baseline);
		fprintf(f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'/>\n",
				x1 < x0 ? x1 : x0, y, x1 < x0 ? x0 - x1 : x1 - x0, bar,
				ratio <= 1.0 ? "#4a4" : ratio <= 2.0 ? "#da3" : "#c44");
		fprintf(f, "<text x='%d' y='%d'>%.2fx</text>\n", left + width + 6, y + 13, ratio);
	}
	fprintf(f, "</svg>\n");
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *json_path = NULL, *svg_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_path = argv[++i];
		else if (!strcmp(argv[i], "--svg") && i + 1 < argc)
			svg_path = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--attacks"))
			attacks_only = 1;
		else if (!strcmp(argv[i], "--ipc"))
			ipc_only = 1;
		else if (!strcmp(argv[i], "--threads"))
			threads_only = 1;
		else if (!strcmp(argv[i], "--split"))
			split = 1;
		else if (!strcmp(argv[i], "--memory"))
			memory_only = 1;
		else {
			fprintf(stderr, "usage: helhost-bench [--json FILE] [--svg FILE] [--quick] [--attacks] [--ipc] "
					"[--threads [--split]] [--memory]\n");
			return 2;
		}
	}
	if (attacks_only) {
		measure_attacks();
		print_attacks();
		return 0;
	}
	if (ipc_only) {
		run_placed(ipc_set, ipc);
		print_ipc();
		return 0;
	}
	printf("helhost-bench: %d rounds per figure, median (min, max) per operation\n", ROUNDS);
	if (threads_only)
		return thread_table();
	run_placed(memory_set, memory);
	if (memory_only) {
		struct row rows[NUM_PLACEMENTS * MAX_PLACED_ROWS];
		print_rows(rows, placed_as_rows(rows, 0, memory));
		return 0;
	}

	/* Linux baselines first: the raw trap must not run under helhost's filter. */
	struct stats getppid_s = measure(op_getppid, 200000);
	struct stats raw = measure_raw_trap(20000);
	struct stats futex_s = measure(op_futex_mismatch, 200000);
	struct stats memfd_s = measure(op_memfd, 5000);
	struct stats memfd_map_s = measure(op_memfd_map, 5000);
	bench_memfd = memfd_create("bench", MFD_CLOEXEC);
	if (bench_memfd < 0 || ftruncate(bench_memfd, 1 << 20) < 0)
		abort();
	struct stats mmap_s = measure(op_mmap_munmap, 5000);
	/* The same with every page of the memfd present. */
	if (fallocate(bench_memfd, 0, 0, 1 << 20) < 0)
		abort();
	struct stats mmap_full_s = measure(op_mmap_munmap, 5000);
	struct stats faults_s = measure(op_faults_memfd, 100);
	start_futex_echo();
	struct stats futex_pp_s = measure(op_futex_pingpong, 20000);
	stop_futex_echo();
	struct stats fork_kill_s = measure(op_fork_kill, 200);
	struct managed_baselines managed_b = managed_baselines();
	struct stats fork_big_s = fork_big_private();
	print_stats("getppid", getppid_s);
	print_stats("raw seccomp notification round trip", raw);
	run_placed(ipc_set, ipc);

	/* helhost: the first call auto-starts the emulator. */
	if (hq_open(&bench_q, 9, 16, 16384))
		abort();
	HelHandle word_mem;
	void *word_page;
	if (helAllocateMemory(4096, 0, NULL, &word_mem) ||
			helMapMemory(word_mem, kHelNullHandle, NULL, 0, 4096,
				kHelMapProtRead | kHelMapProtWrite, &word_page) ||
			helAllocateMemory(1 << 20, 0, NULL, &bench_mem))
		abort();
	hel_word = word_page;
	*hel_word = 1;
	HelHandle fresh_mem = bench_mem;
	HelHandle full_mem;
	void *full_map;
	if (helAllocateMemory(1 << 20, 0, NULL, &full_mem) ||
			helMapMemory(full_mem, kHelNullHandle, NULL, 0, 1 << 20,
				kHelMapProtRead | kHelMapProtWrite, &full_map))
		abort();
	memset(full_map, 1, 1 << 20);   /* every page present */
	if (helUnmapMemory(kHelNullHandle, full_map, 1 << 20))
		abort();

	struct row rows[128] = {
		{ "helNop", "getppid", measure(op_hel_nop, 20000), getppid_s },
		{ "helNop", "raw seccomp notification", { 0, 0, 0 }, raw },
		{ "helFutexWait, mismatching value", "futex(2) FUTEX_WAIT, mismatching", measure(op_hel_futex_mismatch, 200000), futex_s },
		{ "allocate + close 1 MiB", "memfd_create + ftruncate + close", measure(op_hel_allocate, 5000), memfd_s },
		{ "map + unmap 1 MiB, fresh object", "mmap + munmap of a memfd", measure(op_hel_map_unmap, 5000), mmap_s },
		{ "map + unmap 1 MiB, populated object", "mmap + munmap of a populated memfd", { 0, 0, 0 }, mmap_full_s },
		{ "page fault, fresh 1 MiB mapping", "the same on a memfd mapping", measure(op_hel_faults, 100), faults_s },
		{ "allocate + map + unmap + close 1 MiB", "memfd_create + ftruncate + mmap + munmap + close",
			measure(op_hel_allocate_map, 5000), memfd_map_s },
	};
	int n = 8;
	bench_mem = full_mem;
	rows[5].hel = measure(op_hel_map_unmap, 5000);
	bench_mem = fresh_mem;
	rows[1].hel = rows[0].hel;
	n = native_rows(rows, n, futex_pp_s, fork_kill_s);
	n = managed_rows(rows, n, &managed_b);
	n = cow_rows(rows, n, fork_big_s);
	n = placed_as_rows(rows, n, memory);
	measure_attacks();
	FILE *json = json_path ? fopen(json_path, "w") : NULL;
	report(json, rows, n);
	if (svg_path)
		draw_chart(svg_path, rows, n);
	if (json)
		fclose(json);
	return 0;
}
