/*
 * Calls whose arguments the trace must spell out of the ordinary: a string
 * with quotes, backslashes and control bytes longer than the trace shows, an
 * unreadable string, a severity and a register set with no name, map flags
 * with unknown bits.  Each call's result is checked here; trace_calls.sh
 * checks the lines the trace wrote for them.
 */
#include <hel.h>
#include <stdint.h>
#include <stdio.h>

static int expect(const char *what, HelError got, HelError want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "trace_calls: %s answered %d, not %d\n", what, got, want);
	return 1;
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
	char image[4096];
	helLoadRegisters(kHelThisThread, 99, image);
	return failed;
}
