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
	char text[512];
	size_t len;
};

/*
 * While on, also one line per element written into a queue: the program that
 * submitted it, the queue, the context and each result by name.
 */
void hh_trace_enable(bool on);
bool hh_trace_enabled(void);
/* Trace lines go to path (appended to) instead of stderr; 0 or -errno. */
int hh_trace_open(const char *path);

/* Program, thread, call name and arguments. */
void hh_trace_begin(struct hh_trace_line *line, const struct hh_call *c);
/* Outputs, result, reason and duration; then the line is written out. */
void hh_trace_end(struct hh_trace_line *line, const struct hh_call *c, HelError error, uint64_t ns);

const char *hh_error_name(HelError error);

#endif
