/*
 * A probe: a second program (a fork child, so it shares its parent's
 * emulator) that keeps making small Hel calls — helNop and a ping-pong of
 * 8 bytes over a stream of its own — while a test or a benchmark attacks
 * the emulator from the parent.  The probe counts every call that fails and
 * records the latency of every helNop, so a test can assert that its
 * neighbour was served throughout and a benchmark can report how long the
 * neighbour waited at worst.
 */
#ifndef HH_TEST_PROBE_H
#define HH_TEST_PROBE_H

#include <stdint.h>
#include <sys/types.h>

#define PROBE_SAMPLES (1 << 20)

/* Shared between the probe and its parent (MAP_SHARED). */
struct probe_shared {
	uint64_t rounds;                /* completed rounds of calls */
	uint64_t failures;              /* calls that failed or never completed */
	uint32_t stop;                  /* set by the parent */
	uint32_t samples;               /* helNop latencies recorded, in ns */
	uint32_t latency[PROBE_SAMPLES];
};

struct probe {
	pid_t pid;
	struct probe_shared *shared;
};

/*
 * Start a probe.  The caller must have made a Hel call already, so that the
 * child inherits its trap and emulator.  Returns 0, or -1.
 */
int probe_start(struct probe *p);
/* Wait up to ms for the probe to complete n more rounds than now; 0 or -1. */
int probe_advance(struct probe *p, uint64_t n, int ms);
/* Forget the latencies recorded so far. */
void probe_reset_latency(struct probe *p);
/* Worst and 99th-percentile helNop latency (ns) recorded since the reset. */
void probe_latency(struct probe *p, double *max, double *p99);
/*
 * Stop the probe and reap it (killing it after ms).  Returns its failed
 * calls, or -1 if it did not exit normally.
 */
int64_t probe_stop(struct probe *p, int ms);

#endif
