/*
 * Calls whose arguments the trace must spell out of the ordinary: a string
 * with quotes, backslashes and control bytes longer than the trace shows, an
 * unreadable string, a severity and a register set with no name, map flags
 * with unknown bits, bytes past ASCII; a submission of more actions than the
 * trace names, answered on a lane whose peer is gone; an action of no known
 * type; credentials extracted from a stream.  Each call's result is checked
 * here; trace_calls.sh checks the lines the trace wrote for them.
 */
#include <hel.h>
#include <helhost.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int expect(const char *what, HelError got, HelError want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "trace_calls: %s answered %d, not %d\n", what, got, want);
	return 1;
}

/* 17 sends, one more than the trace names, on a lane whose peer is closed. */
static int many_actions(void)
{
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	HelHandle lane, peer;
	HEL_CHECK(helCreateStream(&lane, &peer, 0));
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, peer));
	struct HelAction actions[17];
	for (int i = 0; i < 17; i++)
		actions[i] = (struct HelAction){ .type = kHelActionSendFromBuffer,
			.flags = i < 16 ? kHelItemChain : 0, .buffer = "z", .length = 1 };
	HEL_CHECK(helSubmitAsync(lane, actions, 17, q.handle, 0x17, 0));
	struct HelElement *e;
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
	struct helhost_results r = helhost_results_of(e);
	int failed = 0;
	for (int i = 0; i < 17; i++)
		failed |= expect("a send to a closed peer", helhost_take_simple(&r)->error, kHelErrEndOfLane);
	return failed;
}

/* An action type Hel does not have: refused, and traced as "?". */
static int unknown_action(void)
{
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 1, 4096));
	HelHandle lane, peer;
	HEL_CHECK(helCreateStream(&lane, &peer, 0));
	struct HelAction odd = { .type = 99 };
	return expect("action type 99", helSubmitAsync(lane, &odd, 1, q.handle, 0x99, 0),
			kHelErrIllegalArgs);
}

/*
 * This thread's credentials, imbued on one end of a stream and extracted on
 * the other; prints them in hex for trace_calls.sh to find in the element.
 */
static int credentials(void)
{
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	HelHandle a, b;
	HEL_CHECK(helCreateStream(&a, &b, 0));
	struct HelAction imbue = { .type = kHelActionImbueCredentials, .handle = kHelThisThread };
	struct HelAction extract = { .type = kHelActionExtractCredentials };
	HEL_CHECK(helSubmitAsync(a, &imbue, 1, q.handle, 0xc1, 0));
	HEL_CHECK(helSubmitAsync(b, &extract, 1, q.handle, 0xc2, 0));
	char mine[16];
	HEL_CHECK(helGetCredentials(kHelThisThread, 0, mine));
	int failed = 0;
	for (int i = 0; i < 2; i++) {
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		if ((uintptr_t)e->context != 0xc2)
			continue;
		struct HelCredentialsResult *r = (struct HelCredentialsResult *)(e + 1);
		failed |= expect("extract credentials", r->error, kHelErrNone);
		failed |= expect("the credentials extracted are the thread's",
				memcmp(r->credentials, mine, 16) ? kHelErrIllegalArgs : kHelErrNone,
				kHelErrNone);
	}
	printf("credentials ");
	for (int i = 0; i < 16; i++)
		printf("%02x", (unsigned char)mine[i]);
	printf("\n");
	return failed;
}

int main(void)
{
	static const char odd[] = "a \"quoted\" back\\slash, a \x01 control byte, and more than 48 bytes";
	int failed = 0;
	failed |= expect("odd string", helLog(kHelLogSeverityInfo, odd, sizeof(odd) - 1), kHelErrNone);
	failed |= expect("severity 99", helLog((enum HelLogSeverity)99, "x", 1), kHelErrNone);
	failed |= expect("severity -1", helLog((enum HelLogSeverity)-1, "y", 1), kHelErrNone);
	failed |= expect("unreadable string", helLog(kHelLogSeverityInfo, (const char *)8, 4),
			kHelErrFault);
	void *p = NULL;
	failed |= expect("unknown map flags", helMapMemory(kHelZeroMemory, kHelNullHandle, NULL, 0,
			0x1000, kHelMapProtRead | 0x40000000, &p), kHelErrNoDescriptor);
	failed |= expect("bytes past ASCII", helLog(kHelLogSeverityInfo, "\x7f\x80", 2), kHelErrNone);
	failed |= many_actions();
	failed |= unknown_action();
	failed |= credentials();
	char image[4096];
	helLoadRegisters(kHelThisThread, 99, image);
	return failed;
}
