#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "process.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

static bool enabled;

void hh_trace_enable(bool on)
{
	enabled = on;
}

bool hh_trace_enabled(void)
{
	return enabled;
}

const char *hh_error_name(HelError error)
{
	static const char *const names[] = {
		[kHelErrNone] = "kHelErrNone",
		[kHelErrBufferTooSmall] = "kHelErrBufferTooSmall",
		[kHelErrBadDescriptor] = "kHelErrBadDescriptor",
		[kHelErrNoDescriptor] = "kHelErrNoDescriptor",
		[kHelErrIllegalSyscall] = "kHelErrIllegalSyscall",
		[kHelErrIllegalArgs] = "kHelErrIllegalArgs",
		[kHelErrLaneShutdown] = "kHelErrLaneShutdown",
		[kHelErrEndOfLane] = "kHelErrEndOfLane",
		[kHelErrFault] = "kHelErrFault",
		[kHelErrThreadTerminated] = "kHelErrThreadTerminated",
		[kHelErrCancelled] = "kHelErrCancelled",
		[kHelErrTransmissionMismatch] = "kHelErrTransmissionMismatch",
		[kHelErrQueueTooSmall] = "kHelErrQueueTooSmall",
		[kHelErrIllegalState] = "kHelErrIllegalState",
		[kHelErrNoHardwareSupport] = "kHelErrNoHardwareSupport",
		[kHelErrNoMemory] = "kHelErrNoMemory",
		[kHelErrUnsupportedOperation] = "kHelErrUnsupportedOperation",
		[kHelErrOutOfBounds] = "kHelErrOutOfBounds",
		[kHelErrDismissed] = "kHelErrDismissed",
		[kHelErrRemoteFault] = "kHelErrRemoteFault",
		[kHelErrAlreadyExists] = "kHelErrAlreadyExists",
	};
	if (error >= 0 && (size_t)error < sizeof(names) / sizeof(names[0]) && names[error])
		return names[error];
	return "(unknown error)";
}

__attribute__((format(printf, 2, 3)))
static void put(struct hh_trace_line *line, const char *fmt, ...)
{
	if (line->len >= sizeof(line->text))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line->text + line->len, sizeof(line->text) - line->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		line->len += (size_t)n;
	if (line->len > sizeof(line->text) - 1)
		line->len = sizeof(line->text) - 1;
}

struct flag_name {
	uint32_t bit;
	const char *name;
};

static const struct flag_name map_flags[] = {
	{ kHelMapProtRead, "ProtRead" }, { kHelMapProtWrite, "ProtWrite" },
	{ kHelMapProtExecute, "ProtExecute" }, { kHelMapFixed, "Fixed" },
	{ kHelMapFixedNoReplace, "FixedNoReplace" },
	{ kHelMapDontRequireBacking, "DontRequireBacking" }, { 0, NULL },
};

static const struct flag_name alloc_flags[] = {
	{ kHelAllocOnDemand, "OnDemand" }, { kHelAllocContinuous, "Continuous" }, { 0, NULL },
};

static void put_flags(struct hh_trace_line *line, uint32_t value, const struct flag_name *names)
{
	const char *sep = "";
	if (!value) {
		put(line, "0");
		return;
	}
	for (const struct flag_name *f = names; f->name; f++) {
		if (value & f->bit) {
			put(line, "%s%s", sep, f->name);
			sep = "|";
			value &= ~f->bit;
		}
	}
	if (value)
		put(line, "%s%#x", sep, value);
}

static const char *enum_name(char kind, int64_t v)
{
	static const char *const severities[] = { "Emergency", "Alert", "Critical", "Error",
		"Warning", "Notice", "Info", "Debug" };
	static const char *const sets[] = { NULL, "Program", "General", "Thread", "Debug",
		"Virtualization", "Simd", "Signal" };
	if (kind == 'S' && v >= 0 && v < 8)
		return severities[v];
	if (kind == 'R' && v > 0 && v < 8)
		return sets[v];
	return NULL;
}

static void put_handle(struct hh_trace_line *line, const struct hh_call *c, int64_t h)
{
	switch (h) {
	case kHelNullHandle: put(line, "null"); return;
	case kHelThisUniverse: put(line, "this-universe"); return;
	case kHelThisThread: put(line, "this-thread"); return;
	case kHelZeroMemory: put(line, "zero-memory"); return;
	}
	struct hh_desc desc;
	HelError e = hh_universe_resolve(c->universe, h, 0, &desc);
	put(line, "%lld<%s>", (long long)h, e ? "none" : desc.obj->ops->name);
}

/* A string argument: its pointer, and its length in the argument after it. */
static void put_string(struct hh_trace_line *line, const struct hh_call *c, uint64_t addr, uint64_t len)
{
	char text[48];
	size_t n = len < sizeof(text) ? (size_t)len : sizeof(text);
	if (hh_user_read(&c->proc->mem, addr, text, n)) {
		put(line, "%#llx", (unsigned long long)addr);
		return;
	}
	put(line, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			put(line, "%c", ch);
		else
			put(line, "\\x%02x", ch);
	}
	put(line, len > n ? "\"..." : "\"");
}

static void put_value(struct hh_trace_line *line, const struct hh_call *c, char kind, uint64_t v,
		uint64_t next)
{
	const char *name;
	switch (kind) {
	case 'h': put_handle(line, c, (int64_t)v); break;
	case 'H': put(line, "%lld", (long long)v); break;
	case 'x': put(line, "%#llx", (unsigned long long)v); break;
	case 'u': put(line, "%llu", (unsigned long long)v); break;
	case 'd': put(line, "%lld", (long long)v); break;
	case 'p': put(line, v ? "%#llx" : "NULL", (unsigned long long)v); break;
	case 's': put_string(line, c, v, next); break;
	case 'M': put_flags(line, (uint32_t)v, map_flags); break;
	case 'A': put_flags(line, (uint32_t)v, alloc_flags); break;
	case 'S':
	case 'R':
		name = enum_name(kind, (int)v);
		if (name)
			put(line, "%s", name);
		else
			put(line, "%d", (int)v);
		break;
	default: put(line, "%#llx", (unsigned long long)v); break;
	}
}

/* Walk "kind:name" items; inputs (no '>') or outputs ('>') only. */
static void put_args(struct hh_trace_line *line, const struct hh_call *c, const char *spec,
		const uint64_t *values, size_t max, bool outputs)
{
	size_t i = 0;
	const char *sep = "";
	for (const char *s = spec; *s && i < max;) {
		while (*s == ' ')
			s++;
		bool is_out = *s == '>';
		if (is_out)
			s++;
		char kind = *s;
		const char *name = s + 2;
		size_t name_len = strcspn(name, " ");
		s = name + name_len;
		if (is_out != outputs || !kind)
			continue;
		put(line, "%s%.*s=", sep, (int)name_len, name);
		put_value(line, c, kind, values[i], i + 1 < max ? values[i + 1] : 0);
		i++;
		sep = ", ";
	}
}

void hh_trace_begin(struct hh_trace_line *line, const struct hh_call *c)
{
	line->len = 0;
	const struct hh_call_info *info = hh_call_lookup(c->number);
	put(line, "helhost: %s[%d] thread %d: ", c->proc->name, (int)c->proc->pid, (int)c->thread->tid);
	if (!info) {
		put(line, "call %u(...)", c->number);
		return;
	}
	put(line, "%s(", info->name);
	put_args(line, c, info->args, c->arg, HH_CALL_MAX_ARGS, false);
	put(line, ")");
}

void hh_trace_end(struct hh_trace_line *line, const struct hh_call *c, HelError error, uint64_t ns)
{
	const struct hh_call_info *info = hh_call_lookup(c->number);
	put(line, " = %s", hh_error_name(error));
	if (!error && info && strchr(info->args, '>')) {
		put(line, " [");
		put_args(line, c, info->args, c->out, 2, true);
		put(line, "]");
	}
	if (error && c->why[0])
		put(line, " (%s)", c->why);
	put(line, " %.1fus\n", (double)ns / 1000.0);
	fwrite(line->text, 1, line->len, stderr);
	fflush(stderr);
}
