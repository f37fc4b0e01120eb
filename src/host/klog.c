#include "klog.h"

#include <stdio.h>
#include <string.h>

#include "hel.h"

static const char *channel(int severity)
{
	/* thor's channels (ABI.md §2.12); info is the default and goes untagged. */
	if (severity >= kHelLogSeverityEmergency && severity <= kHelLogSeverityError)
		return " error";
	if (severity == kHelLogSeverityWarning)
		return " warning";
	if (severity == kHelLogSeverityDebug)
		return " debug";
	return "";
}

void hh_klog_piece(const char *prog, pid_t pid, int severity, const char *piece, size_t len)
{
	size_t at = 0;
	while (at < len) {
		size_t n = 0;
		while (at + n < len && piece[at + n] != '\n' && piece[at + n] != '\0')
			n++;
		fprintf(stderr, "%s[%d]%s: %.*s\n", prog, (int)pid, channel(severity), (int)n, piece + at);
		if (at + n < len && piece[at + n] == '\0')
			break;
		at += n + 1;
	}
	fflush(stderr);
}

void hh_klog_panic(const char *prog, pid_t pid, pid_t tid, const char *msg, size_t len)
{
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\0'))
		len--;
	if (len)
		fprintf(stderr, "%s[%d] panic: thread %d: %.*s\n", prog, (int)pid, (int)tid, (int)len, msg);
	else
		fprintf(stderr, "%s[%d] panic: thread %d called helPanic\n", prog, (int)pid, (int)tid);
	fflush(stderr);
}
