#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "callpage.h"
#include "helhost.h"
#include "process.h"
#include "queue.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

static bool enabled;
static FILE *out;                       /* NULL: stderr */
/* The call being traced: the completions it makes are its elements. */
static const struct hh_call *current;

static const struct hh_queue_tracer completion_tracer;

void hh_trace_enable(bool on)
{
	enabled = on;
	hh_queue_set_tracer(on ? &completion_tracer : NULL);
}

int hh_trace_open(const char *path)
{
	/* Appended to: several auto-started emulators may share one file. */
	FILE *f = fopen(path, "ae");
	if (!f)
		return -errno;
	if (out)
		fclose(out);
	out = f;
	return 0;
}

static void emit(const struct hh_trace_line *line)
{
	FILE *f = out ? out : stderr;
	fwrite(line->text, 1, line->len, f);
	fflush(f);
}

/*
 * A call's line is complete only when it returns; the elements it wrote
 * meanwhile wait here so that they follow it, as they followed the call.
 */
static struct {
	char text[4096];
	size_t len;
} held;

static void emit_after_call(const struct hh_trace_line *line)
{
	if (!current || held.len + line->len > sizeof(held.text)) {
		emit(line);
		return;
	}
	memcpy(held.text + held.len, line->text, line->len);
	held.len += line->len;
}

static void emit_held(void)
{
	FILE *f = out ? out : stderr;
	if (!held.len)
		return;
	fwrite(held.text, 1, held.len, f);
	fflush(f);
	held.len = 0;
}

bool hh_trace_enabled(void)
{
	return enabled;
}

/* One table of names for the trace and for programs (include/helhost.h). */
const char *hh_error_name(HelError error)
{
	return helhost_error_name(error);
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

/* The end of a line; one cut at the buffer's end is marked so, and still ends. */
static void put_newline(struct hh_trace_line *line)
{
	put(line, "\n");
	if (line->text[line->len - 1] != '\n')
		memcpy(line->text + line->len - 4, "...\n", 4);
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

/* A handle with the type of what it names in universe u (NULL: the type is unknown). */
static void put_handle_in(struct hh_trace_line *line, struct hh_universe *u, int64_t h)
{
	switch (h) {
	case kHelNullHandle: put(line, "null"); return;
	case kHelThisUniverse: put(line, "this-universe"); return;
	case kHelThisThread: put(line, "this-thread"); return;
	case kHelZeroMemory: put(line, "zero-memory"); return;
	}
	struct hh_desc desc;
	HelError e = u ? hh_universe_resolve(u, h, 0, &desc) : kHelErrNoDescriptor;
	put(line, "%lld<%s>", (long long)h, e ? "none" : desc.obj->ops->name);
}

static void put_handle(struct hh_trace_line *line, const struct hh_call *c, int64_t h)
{
	put_handle_in(line, c->universe, h);
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
	current = c;
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
	put(line, " %.1fus", (double)ns / 1000.0);
	put_newline(line);
	emit(line);
	emit_held();
	current = NULL;
}

/* ---- completions: one line per element written into a queue ---- */

/* The position of input argument `name` in a call's argument spec, or -1. */
static int input_index(const char *spec, const char *name)
{
	int i = 0;
	size_t want = strlen(name);
	for (const char *s = spec; *s;) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		bool is_out = *s == '>';
		const char *item = s + (is_out ? 3 : 2);
		size_t len = strcspn(item, " ");
		if (!is_out && len == want && !strncmp(item, name, len))
			return i;
		s = item + len;
		if (!is_out)
			i++;
	}
	return -1;
}

/* helSubmitAsync: the types of its first actions, which decide its results' layout. */
static void record_actions(struct hh_completion_origin *origin, const struct hh_call *c)
{
	struct HelAction actions[HH_ORIGIN_KINDS];
	uint64_t count = c->arg[2];
	size_t n = count < HH_ORIGIN_KINDS ? (size_t)count : HH_ORIGIN_KINDS;
	origin->count = 0;
	if (hh_user_read(&c->proc->mem, c->arg[1], actions, n * sizeof(actions[0])))
		return;
	for (size_t i = 0; i < n; i++)
		origin->kinds[i] = (uint8_t)actions[i].type;
	origin->count = (uint32_t)count;
}

static void completion_made(struct hh_completion_origin *origin)
{
	if (!current)
		return;         /* made outside a traced call: its element is shown without origin */
	const struct hh_call_info *info = hh_call_lookup(current->number);
	int q = info ? input_index(info->args, "queue") : -1;
	origin->pid = current->proc->pid;
	origin->call = current->number;
	origin->queue = q >= 0 ? (int64_t)current->arg[q] : kHelNullHandle;
	origin->count = 0;
	if (current->number == kHelCallSubmitAsync)
		record_actions(origin, current);
}

static const char *action_name(unsigned kind)
{
	static const char *const names[] = {
		[kHelActionNone] = "None", [kHelActionSendFromBuffer] = "SendFromBuffer",
		[kHelActionPushDescriptor] = "PushDescriptor",
		[kHelActionRecvToBuffer] = "RecvToBuffer",
		[kHelActionPullDescriptor] = "PullDescriptor", [kHelActionOffer] = "Offer",
		[kHelActionAccept] = "Accept", [kHelActionRecvInline] = "RecvInline",
		[kHelActionImbueCredentials] = "ImbueCredentials",
		[kHelActionExtractCredentials] = "ExtractCredentials",
		[kHelActionSendFromBufferSg] = "SendFromBufferSg", [kHelActionDismiss] = "Dismiss",
	};
	return kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "?";
}

/* A walk over an element's payload; every read is checked against its length. */
struct results {
	const char *at;
	size_t left;
	struct hh_universe *universe;   /* the receiver's, for the types of handles */
};

static bool take(struct results *r, void *to, size_t len)
{
	size_t padded = (len + 7) & ~(size_t)7;
	if (r->left < padded)
		return false;
	memcpy(to, r->at, len);
	r->at += padded;
	r->left -= padded;
	return true;
}

/* One result of the layout `kind` (an action type, or one of the pseudo kinds below). */
enum { RESULT_SIMPLE = 0x100, RESULT_HANDLE, RESULT_EVENT };

static bool put_result(struct hh_trace_line *line, struct results *r, unsigned kind)
{
	struct HelHandleResult h;
	struct HelLengthResult l;
	struct HelCredentialsResult cr;
	struct HelEventResult e;
	struct HelSimpleResult s;
	switch (kind) {
	case kHelActionOffer: case kHelActionAccept: case kHelActionPullDescriptor: case RESULT_HANDLE:
		if (!take(r, &h, sizeof(h)))
			return false;
		put(line, "%s", hh_error_name(h.error));
		if (!h.error) {
			put(line, " handle=");
			put_handle_in(line, r->universe, h.handle);
		}
		return true;
	case kHelActionRecvInline:
	case kHelActionRecvToBuffer:
		if (!take(r, &l, sizeof(l)))
			return false;
		put(line, "%s length=%zu", hh_error_name(l.error), l.length);
		if (kind == kHelActionRecvInline) {
			size_t data = (l.length + 7) & ~(size_t)7;
			if (data > r->left)
				return false;
			r->at += data;
			r->left -= data;
		}
		return true;
	case kHelActionExtractCredentials:
		if (!take(r, &cr, sizeof(cr)))
			return false;
		put(line, "%s credentials=", hh_error_name(cr.error));
		for (size_t i = 0; i < sizeof(cr.credentials); i++)
			put(line, "%02x", (unsigned char)cr.credentials[i]);
		return true;
	case RESULT_EVENT:
		if (!take(r, &e, sizeof(e)))
			return false;
		put(line, "%s bitset=%#x sequence=%llu", hh_error_name(e.error), e.bitset,
				(unsigned long long)e.sequence);
		return true;
	default:
		if (!take(r, &s, sizeof(s)))
			return false;
		put(line, "%s", hh_error_name(s.error));
		return true;
	}
}

static void put_results(struct hh_trace_line *line, const struct hh_completion *c,
		struct results *r)
{
	const struct hh_completion_origin *o = &c->origin;
	if (o->call != kHelCallSubmitAsync) {
		unsigned kind = o->call == kHelCallSubmitAwaitEvent ? RESULT_EVENT :
			o->call == kHelCallSubmitLockMemoryView || o->call == HH_CALL_SUBMIT_LOOKUP ?
			RESULT_HANDLE : RESULT_SIMPLE;
		if (!put_result(line, r, kind))
			put(line, "(%u bytes)", c->length);
		return;
	}
	if (!o->count) {
		put(line, "(%u bytes; the actions could not be read)", c->length);
		return;
	}
	uint32_t shown = o->count < HH_ORIGIN_KINDS ? o->count : HH_ORIGIN_KINDS;
	for (uint32_t i = 0; i < shown; i++) {
		put(line, "%s%s: ", i ? ", " : "", action_name(o->kinds[i]));
		if (!put_result(line, r, o->kinds[i])) {
			put(line, "(cut short)");
			return;
		}
	}
	if (o->count > shown)
		put(line, ", ... %u more", o->count - shown);
}

static void completion_written(const struct hh_completion *c)
{
	struct hh_trace_line line = { .len = 0 };
	const struct hh_completion_origin *o = &c->origin;
	struct hh_process *p = o->pid ? hh_process_find(o->pid) : NULL;
	if (!p) {
		put(&line, "helhost: element context=%#llx (%u bytes)\n",
				(unsigned long long)c->context, c->length);
		emit_after_call(&line);
		return;
	}
	const struct hh_call_info *info = hh_call_lookup(o->call);
	put(&line, "helhost: %s[%d] element: queue=", p->name, (int)p->pid);
	put_handle_in(&line, p->universe, o->queue);
	put(&line, ", context=%#llx, of %s: ", (unsigned long long)c->context,
			info ? info->name : "?");
	struct results r = { .at = c->payload, .left = c->length, .universe = p->universe };
	put_results(&line, c, &r);
	put_newline(&line);
	emit_after_call(&line);
}

static const struct hh_queue_tracer completion_tracer = {
	.made = completion_made,
	.written = completion_written,
};
