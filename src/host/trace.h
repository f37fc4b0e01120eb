/*
 * The call trace: one line per Hel call with the program, thread, call name,
 * arguments (handles with their object type, flags by name), result by error
 * name and duration.  Arguments are formatted before the call runs, so that a
 * handle the call closes still shows its type.
 */
#ifndef HH_TRACE_H
#define HH_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "calls.h"

struct hh_trace_line {
	char text[2048];
	size_t len;
	bool json;              /* one JSON object per line (HELHOST_TRACE_FORMAT=json) */
	bool shown;             /* the filters choose it */
};

/*
 * While on, also one line per element written into a queue: the program that
 * submitted it, the queue, the context and each result by name.
 */
void hh_trace_enable(bool on);
/*
 * Read HELHOST_TRACE (1, or a list of call groups), HELHOST_TRACE_PID,
 * HELHOST_TRACE_HANDLE, HELHOST_TRACE_FORMAT, HELHOST_TRACE_INTERNAL and
 * HELHOST_TRACE_FILE, and turn the trace on if they ask for it.  0, or
 * -EINVAL (after saying which setting) or -errno of the trace file.
 */
int hh_trace_setup(void);
bool hh_trace_enabled(void);
/* Trace lines go to path (appended to) instead of stderr; 0 or -errno. */
int hh_trace_open(const char *path);

/* Program, thread, call name and arguments. */
void hh_trace_begin(struct hh_trace_line *line, const struct hh_call *c);
/* Outputs, result, reason and duration; then the line is written out. */
void hh_trace_end(struct hh_trace_line *line, const struct hh_call *c, HelError error, uint64_t ns);

const char *hh_error_name(HelError error);

#endif
