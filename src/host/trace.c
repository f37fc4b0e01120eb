#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callpage.h"
#include "helhost.h"
#include "process.h"
#include "queue.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

/*
 * What the trace shows (HELHOST_TRACE*, docs/GUIDE.md): everything by default,
 * or only some call groups, programs or one handle; never the calls libhel
 * makes for its own bookkeeping unless asked.
 */
#define MAX_PROGRAMS 8

static struct {
	bool on;
	bool json;
	bool internal;                  /* also the calls libhel makes for itself */
	unsigned groups;                /* bits of enum group; 0: all */
	size_t programs;                /* entries of program[]; 0: all */
	char program[MAX_PROGRAMS][32]; /* a pid or a program's name */
	bool by_handle;
	int64_t handle;
} cfg;

static FILE *out;                       /* NULL: stderr */
/* The call being traced: the completions it makes are its elements. */
static const struct hh_call *current;
/* Whether current's line is shown: its elements are shown with it. */
static bool current_shown;

static const struct hh_queue_tracer completion_tracer;

/* Call groups, named as the decoders' files are (src/calls/calls_<group>.c, roughly). */
enum group { G_MISC, G_DESC, G_QUEUE, G_MEMORY, G_SPACE, G_STREAM, G_EVENT, G_FUTEX,
	G_THREAD, G_REGISTRY, G_COUNT };

static const char *const group_names[G_COUNT] = {
	[G_MISC] = "misc", [G_DESC] = "desc", [G_QUEUE] = "queue", [G_MEMORY] = "memory",
	[G_SPACE] = "space", [G_STREAM] = "stream", [G_EVENT] = "event", [G_FUTEX] = "futex",
	[G_THREAD] = "thread", [G_REGISTRY] = "registry",
};

static enum group group_of(uint32_t call)
{
	switch (call) {
	case kHelCallCloseDescriptor: case kHelCallDescriptorInfo: case kHelCallCreateUniverse:
	case kHelCallTransferDescriptor: case kHelCallGetCredentials: case kHelCallCreateToken:
		return G_DESC;
	case kHelCallSubmitAsyncNop: case kHelCallSubmitAwaitClock: case kHelCallCreateQueue:
	case kHelCallCancelAsync:
		return G_QUEUE;
	case kHelCallMemoryInfo: case kHelCallCopyOnWrite: case kHelCallForkMemory:
	case kHelCallMapMemory: case kHelCallUnmapMemory: case kHelCallCreateIndirectMemory:
	case kHelCallSubmitManageMemory: case kHelCallUpdateMemory:
	case kHelCallSubmitLockMemoryView: case kHelCallLoadahead: case kHelCallAllocateMemory:
	case kHelCallAlterMemoryIndirection: case kHelCallCreateManagedMemory:
	case kHelCallResizeMemory: case kHelCallCreateSliceView: case kHelCallSubmitReadMemory:
	case kHelCallSubmitWriteMemory:
		return G_MEMORY;
	case kHelCallCreateSpace: case kHelCallSubmitSynchronizeSpace: case kHelCallSubmitProtectMemory:
		return G_SPACE;
	case kHelCallCreateStream: case kHelCallSubmitAsync: case kHelCallShutdownLane:
		return G_STREAM;
	case kHelCallCreateOneshotEvent: case kHelCallCreateBitsetEvent: case kHelCallRaiseEvent:
	case kHelCallSubmitAwaitEvent:
		return G_EVENT;
	case kHelCallFutexWait: case kHelCallFutexWake:
		return G_FUTEX;
	case kHelCallResume: case kHelCallCreateThread: case kHelCallSubmitObserve:
	case kHelCallLoadRegisters: case kHelCallStoreRegisters: case kHelCallSetPriority:
	case kHelCallInterruptThread: case kHelCallKillThread: case kHelCallQueryThreadStats:
	case kHelCallSetAffinity: case kHelCallGetAffinity: case kHelCallQueryRegisterInfo:
		return G_THREAD;
	}
	return call >= kHelNumCalls ? G_REGISTRY : G_MISC;
}

/* "stream,memory": the groups' bits; -EINVAL for a name that is none. */
static int parse_groups(const char *list, unsigned *bits)
{
	*bits = 0;
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ",");
		int g = 0;
		while (g < G_COUNT && (strlen(group_names[g]) != len || strncmp(s, group_names[g], len)))
			g++;
		if (g == G_COUNT)
			return -EINVAL;
		*bits |= 1u << g;
		s += len + (s[len] == ',');
	}
	return 0;
}

static int parse_programs(const char *list)
{
	cfg.programs = 0;
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ",");
		if (!len || len >= sizeof(cfg.program[0]) || cfg.programs == MAX_PROGRAMS)
			return -EINVAL;
		memcpy(cfg.program[cfg.programs], s, len);
		cfg.program[cfg.programs++][len] = 0;
		s += len + (s[len] == ',');
	}
	return 0;
}

static int parse_handle(const char *text)
{
	char *end;
	errno = 0;
	long long h = strtoll(text, &end, 0);
	if (errno || end == text || *end)
		return -EINVAL;
	cfg.by_handle = true;
	cfg.handle = h;
	return 0;
}

/* One HELHOST_TRACE* setting; an empty value leaves it as it was. */
static int configure(const char *variable, int (*parse)(const char *value))
{
	const char *value = getenv(variable);
	if (!value || !*value)
		return 0;
	int r = parse(value);
	if (r < 0)
		fprintf(stderr, "helhost: %s=%s is not understood (docs/GUIDE.md, \"The trace\")\n",
				variable, value);
	return r;
}

static int parse_switch(const char *value)
{
	/* "1" or anything that is not a list of groups turns everything on. */
	cfg.on = strcmp(value, "0") != 0;
	if (cfg.on && strcmp(value, "1") && parse_groups(value, &cfg.groups) < 0)
		return -EINVAL;
	return 0;
}

static int parse_format(const char *value)
{
	if (strcmp(value, "text") && strcmp(value, "json"))
		return -EINVAL;
	cfg.json = !strcmp(value, "json");
	return 0;
}

static int parse_internal(const char *value)
{
	cfg.internal = strcmp(value, "0") != 0;
	return 0;
}

int hh_trace_setup(void)
{
	int r = 0;
	r |= configure(HH_ENV_TRACE, parse_switch);
	r |= configure("HELHOST_TRACE_PID", parse_programs);
	r |= configure("HELHOST_TRACE_HANDLE", parse_handle);
	r |= configure("HELHOST_TRACE_FORMAT", parse_format);
	r |= configure("HELHOST_TRACE_INTERNAL", parse_internal);
	const char *path = getenv("HELHOST_TRACE_FILE");
	if (path && *path) {
		int o = hh_trace_open(path);
		if (o < 0) {
			fprintf(stderr, "helhost: cannot open the trace file %s: %s\n", path, strerror(-o));
			return o;
		}
		cfg.on = true;
	}
	hh_trace_enable(cfg.on);
	return r ? -EINVAL : 0;
}

void hh_trace_enable(bool on)
{
	cfg.on = on;
	hh_queue_set_tracer(on ? &completion_tracer : NULL);
	/* Threads report the calls libhel serves itself only while the trace is on. */
	for (struct hh_process *p = hh_process_list(); p; p = p->next)
		for (struct hh_thread *t = p->threads; t; t = t->next_in_proc)
			if (t->page)
				__atomic_store_n(&t->page->emu_flags, on ? HH_EMU_TRACE : 0, __ATOMIC_RELAXED);
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
	return cfg.on;
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

/*
 * The end of a line; one cut at the buffer's end is marked so, and still ends.
 * A JSON line cut short would not parse: it becomes an object that says so.
 */
static void put_newline(struct hh_trace_line *line)
{
	put(line, line->json ? "}\n" : "\n");
	if (line->text[line->len - 1] == '\n')
		return;
	if (line->json) {
		line->len = 0;
		put(line, "{\"type\":\"cut\"}\n");
		return;
	}
	memcpy(line->text + line->len - 4, "...\n", 4);
}

/*
 * Bytes inside quotes: quotes, backslashes, control bytes and bytes past ASCII
 * escaped, as \u00XX in JSON and \xXX in text.
 */
static void put_escaped(struct hh_trace_line *line, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			put(line, "%c", ch);
		else
			put(line, line->json ? "\\u%04x" : "\\x%02x", ch);
	}
}

/* `name=` in text, `"name":` in JSON, after the separator of the list it is in. */
static void put_key(struct hh_trace_line *line, const char *sep, const char *name, size_t len)
{
	put(line, line->json ? "%s\"%.*s\":" : "%s%.*s=", sep, (int)len, name);
}

/* A value that is text in JSON: opened and closed by quotes there, bare in text. */
static void quote(struct hh_trace_line *line)
{
	if (line->json)
		put(line, "\"");
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

static const struct flag_name item_flags[] = {
	{ kHelItemChain, "Chain" }, { kHelItemAncillary, "Ancillary" },
	{ kHelItemWantLane, "WantLane" }, { 0, NULL },
};

static void put_flags(struct hh_trace_line *line, uint32_t value, const struct flag_name *names)
{
	const char *sep = "";
	quote(line);
	if (!value)
		put(line, "0");
	for (const struct flag_name *f = names; value && f->name; f++) {
		if (value & f->bit) {
			put(line, "%s%s", sep, f->name);
			sep = "|";
			value &= ~f->bit;
		}
	}
	if (value)
		put(line, "%s%#x", sep, value);
	quote(line);
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
	static const char *const special[] = { [-kHelNullHandle] = "null",
		[-kHelThisUniverse] = "this-universe", [-kHelThisThread] = "this-thread",
		[-kHelZeroMemory] = "zero-memory" };
	quote(line);
	if (h <= 0 && -h < (int64_t)(sizeof(special) / sizeof(special[0])) && special[-h]) {
		put(line, "%s", special[-h]);
	} else {
		struct hh_desc desc;
		HelError e = u ? hh_universe_resolve(u, h, 0, &desc) : kHelErrNoDescriptor;
		put(line, "%lld<%s>", (long long)h, e ? "none" : desc.obj->ops->name);
	}
	quote(line);
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
		put(line, line->json ? "\"%#llx\"" : "%#llx", (unsigned long long)addr);
		return;
	}
	put(line, "\"");
	put_escaped(line, text, n);
	/* The ellipsis of a cut string is inside the quotes in JSON, so that it parses. */
	put(line, len <= n ? "\"" : line->json ? "...\"" : "\"...");
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

/* One action of a helSubmitAsync: its type, item flags, and what it moves. */
static void put_action(struct hh_trace_line *line, const struct hh_call *c, const struct HelAction *a)
{
	const char *open = line->json ? "{\"type\":\"" : "";
	put(line, "%s%s%s", open, action_name((unsigned)a->type), line->json ? "\"" : "");
	if (a->flags) {
		if (line->json)
			put_key(line, ",", "flags", 5);
		put(line, line->json ? "" : "{");
		put_flags(line, a->flags, item_flags);
		put(line, line->json ? "" : "}");
	}
	switch (a->type) {
	case kHelActionSendFromBuffer: case kHelActionRecvToBuffer:
		put_key(line, line->json ? "," : " ", "length", 6);
		put(line, "%zu", a->length);
		break;
	case kHelActionSendFromBufferSg:
		put_key(line, line->json ? "," : " ", "segments", 8);
		put(line, "%zu", a->length);
		break;
	case kHelActionPushDescriptor: case kHelActionImbueCredentials:
		put_key(line, line->json ? "," : " ", "handle", 6);
		put_handle(line, c, a->handle);
		break;
	}
	if (line->json)
		put(line, "}");
}

/* The action list of a helSubmitAsync, decoded; its length is the next argument. */
#define SHOWN_ACTIONS 8

static void put_actions(struct hh_trace_line *line, const struct hh_call *c, uint64_t addr,
		uint64_t count)
{
	struct HelAction actions[SHOWN_ACTIONS];
	size_t n = count < SHOWN_ACTIONS ? (size_t)count : SHOWN_ACTIONS;
	if (hh_user_read(&c->proc->mem, addr, actions, n * sizeof(actions[0]))) {
		put(line, line->json ? "\"%#llx\"" : "%#llx", (unsigned long long)addr);
		return;
	}
	put(line, "[");
	for (size_t i = 0; i < n; i++) {
		put(line, "%s", i ? ", " : "");
		put_action(line, c, &actions[i]);
	}
	if (count > n)
		put(line, line->json ? ", \"... %llu more\"" : ", ... %llu more",
				(unsigned long long)(count - n));
	put(line, "]");
}

static void put_value(struct hh_trace_line *line, const struct hh_call *c, char kind, uint64_t v,
		uint64_t next)
{
	const char *name;
	switch (kind) {
	case 'h': put_handle(line, c, (int64_t)v); return;
	case 'H': put(line, "%lld", (long long)v); return;
	case 'u': put(line, "%llu", (unsigned long long)v); return;
	case 'd': put(line, "%lld", (long long)v); return;
	case 's': put_string(line, c, v, next); return;
	case 'a': put_actions(line, c, v, next); return;
	case 'M': put_flags(line, (uint32_t)v, map_flags); return;
	case 'A': put_flags(line, (uint32_t)v, alloc_flags); return;
	}
	quote(line);
	switch (kind) {
	case 'p': put(line, v ? "%#llx" : "NULL", (unsigned long long)v); break;
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
	quote(line);
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
		put_key(line, sep, name, name_len);
		put_value(line, c, kind, values[i], i + 1 < max ? values[i + 1] : 0);
		i++;
		sep = line->json ? "," : ", ";
	}
}

/* A program's name and pid: the start of every line. */
static void put_program(struct hh_trace_line *line, const char *type, const struct hh_process *p)
{
	if (!line->json) {
		put(line, "helhost: %s[%d] ", p->name, (int)p->pid);
		return;
	}
	put(line, "{\"type\":\"%s\",\"program\":\"", type);
	put_escaped(line, p->name, strlen(p->name));
	put(line, "\",\"pid\":%d", (int)p->pid);
}

static bool program_chosen(const struct hh_process *p)
{
	if (!cfg.programs)
		return true;
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	for (size_t i = 0; i < cfg.programs; i++)
		if (!strcmp(cfg.program[i], pid) || !strcmp(cfg.program[i], p->name))
			return true;
	return false;
}

/* Whether the call names the chosen handle among its handle arguments. */
static bool names_handle(const struct hh_call *c, const struct hh_call_info *info)
{
	size_t i = 0;
	for (const char *s = info->args; *s; s += strcspn(s, " ")) {
		while (*s == ' ')
			s++;
		if (*s == '>' || !*s)
			break;
		if (*s == 'h' && (int64_t)c->arg[i] == cfg.handle)
			return true;
		i++;
	}
	return false;
}

static bool call_chosen(const struct hh_call *c, const struct hh_call_info *info)
{
	if (c->page && c->page->internal && !cfg.internal)
		return false;
	if (cfg.groups && !(cfg.groups & (1u << group_of(c->number))))
		return false;
	if (!program_chosen(c->proc))
		return false;
	return !cfg.by_handle || (info && names_handle(c, info));
}

void hh_trace_begin(struct hh_trace_line *line, const struct hh_call *c)
{
	current = c;
	line->len = 0;
	line->json = cfg.json;
	const struct hh_call_info *info = hh_call_lookup(c->number);
	line->shown = current_shown = call_chosen(c, info);
	if (!line->shown)
		return;
	put_program(line, "call", c->proc);
	put(line, line->json ? ",\"thread\":%d," : "thread %d: ", (int)c->thread->tid);
	if (!info) {
		put(line, line->json ? "\"call\":%u" : "call %u(...)", c->number);
		return;
	}
	put(line, line->json ? "\"call\":\"%s\",\"args\":{" : "%s(", info->name);
	put_args(line, c, info->args, c->arg, HH_CALL_MAX_ARGS, false);
	put(line, line->json ? "}" : ")");
	if (c->queued)
		put(line, line->json ? ",\"queued\":true" : " queued");
}

void hh_trace_end(struct hh_trace_line *line, const struct hh_call *c, HelError error, uint64_t ns)
{
	const struct hh_call_info *info = hh_call_lookup(c->number);
	if (!line->shown) {
		emit_held();    /* elements of other, chosen, operations it completed */
		current = NULL;
		return;
	}
	put(line, line->json ? ",\"error\":\"%s\"" : " = %s", hh_error_name(error));
	if (!error && info && strchr(info->args, '>')) {
		put(line, line->json ? ",\"outputs\":{" : " [");
		put_args(line, c, info->args, c->out, 2, true);
		put(line, line->json ? "}" : "]");
	}
	if (error && c->why[0]) {
		if (line->json) {
			put(line, ",\"reason\":\"");
			put_escaped(line, c->why, strlen(c->why));
			put(line, "\"");
		} else {
			put(line, " (%s)", c->why);
		}
	}
	put(line, line->json ? ",\"us\":%.1f" : " %.1fus", (double)ns / 1000.0);
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

/* The origin of an element whose call the filters leave out: it is left out too. */
#define HIDDEN (-1)

static void completion_made(struct hh_completion_origin *origin)
{
	if (!current)
		return;         /* made outside a traced call: its element is shown without origin */
	if (!current_shown) {
		origin->pid = HIDDEN;
		return;
	}
	const struct hh_call_info *info = hh_call_lookup(current->number);
	int q = info ? input_index(info->args, "queue") : -1;
	origin->pid = current->proc->pid;
	origin->call = current->number;
	origin->queue = q >= 0 ? (int64_t)current->arg[q] : kHelNullHandle;
	origin->count = 0;
	if (current->number == kHelCallSubmitAsync)
		record_actions(origin, current);
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

/* The error of a result: the first thing in its text, a field of its JSON object. */
static void put_error(struct hh_trace_line *line, HelError error)
{
	put(line, line->json ? "\"error\":\"%s\"" : "%s", hh_error_name(error));
}

static bool put_result(struct hh_trace_line *line, struct results *r, unsigned kind)
{
	struct HelHandleResult h;
	struct HelLengthResult l;
	struct HelCredentialsResult cr;
	struct HelEventResult e;
	struct HelSimpleResult s;
	const char *sep = line->json ? "," : " ";
	switch (kind) {
	case kHelActionOffer: case kHelActionAccept: case kHelActionPullDescriptor: case RESULT_HANDLE:
		if (!take(r, &h, sizeof(h)))
			return false;
		put_error(line, h.error);
		if (!h.error) {
			put_key(line, sep, "handle", 6);
			put_handle_in(line, r->universe, h.handle);
		}
		return true;
	case kHelActionRecvInline:
	case kHelActionRecvToBuffer:
		if (!take(r, &l, sizeof(l)))
			return false;
		put_error(line, l.error);
		put_key(line, sep, "length", 6);
		put(line, "%zu", l.length);
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
		put_error(line, cr.error);
		put_key(line, sep, "credentials", 11);
		quote(line);
		for (size_t i = 0; i < sizeof(cr.credentials); i++)
			put(line, "%02x", (unsigned char)cr.credentials[i]);
		quote(line);
		return true;
	case RESULT_EVENT:
		if (!take(r, &e, sizeof(e)))
			return false;
		put_error(line, e.error);
		put_key(line, sep, "bitset", 6);
		put(line, line->json ? "%u" : "%#x", e.bitset);
		put_key(line, sep, "sequence", 8);
		put(line, "%llu", (unsigned long long)e.sequence);
		return true;
	default:
		if (!take(r, &s, sizeof(s)))
			return false;
		put_error(line, s.error);
		return true;
	}
}

/* What an element holds when its layout is not known: its size. */
static void put_unknown(struct hh_trace_line *line, const struct hh_completion *c, const char *why)
{
	put(line, line->json ? "{\"bytes\":%u,\"note\":\"%s\"}" : "(%u bytes%s)", c->length, why);
}

static void put_results(struct hh_trace_line *line, const struct hh_completion *c,
		struct results *r)
{
	const struct hh_completion_origin *o = &c->origin;
	if (o->call != kHelCallSubmitAsync) {
		unsigned kind = o->call == kHelCallSubmitAwaitEvent ? RESULT_EVENT :
			o->call == kHelCallSubmitLockMemoryView || o->call == HH_CALL_SUBMIT_LOOKUP ?
			RESULT_HANDLE : RESULT_SIMPLE;
		put(line, line->json ? "{" : "");
		size_t mark = line->len;
		if (!put_result(line, r, kind)) {
			line->len = mark - (line->json ? 1 : 0);
			put_unknown(line, c, "");
			return;
		}
		put(line, line->json ? "}" : "");
		return;
	}
	if (!o->count) {
		put_unknown(line, c, line->json ? "the actions could not be read" :
				"; the actions could not be read");
		return;
	}
	uint32_t shown = o->count < HH_ORIGIN_KINDS ? o->count : HH_ORIGIN_KINDS;
	for (uint32_t i = 0; i < shown; i++) {
		if (line->json)
			put(line, "%s{\"action\":\"%s\",", i ? "," : "", action_name(o->kinds[i]));
		else
			put(line, "%s%s: ", i ? ", " : "", action_name(o->kinds[i]));
		if (!put_result(line, r, o->kinds[i])) {
			put(line, line->json ? "\"cut\":true}" : "(cut short)");
			return;
		}
		put(line, line->json ? "}" : "");
	}
	if (o->count > shown)
		put(line, line->json ? ",{\"more\":%u}" : ", ... %u more", o->count - shown);
}

static void completion_written(const struct hh_completion *c)
{
	struct hh_trace_line line = { .len = 0, .json = cfg.json };
	const struct hh_completion_origin *o = &c->origin;
	if (o->pid == HIDDEN)
		return;
	struct hh_process *p = o->pid ? hh_process_find(o->pid) : NULL;
	if (!p) {
		put(&line, line.json ? "{\"type\":\"element\",\"context\":\"%#llx\",\"bytes\":%u" :
				"helhost: element context=%#llx (%u bytes)",
				(unsigned long long)c->context, c->length);
		put_newline(&line);
		emit_after_call(&line);
		return;
	}
	const struct hh_call_info *info = hh_call_lookup(o->call);
	put_program(&line, "element", p);
	put(&line, line.json ? ",\"queue\":" : "element: queue=");
	put_handle_in(&line, p->universe, o->queue);
	put(&line, line.json ? ",\"context\":\"%#llx\",\"of\":\"%s\",\"results\":[" :
			", context=%#llx, of %s: ", (unsigned long long)c->context,
			info ? info->name : "?");
	struct results r = { .at = c->payload, .left = c->length, .universe = p->universe };
	put_results(&line, c, &r);
	put(&line, line.json ? "]" : "");
	put_newline(&line);
	emit_after_call(&line);
}

static const struct hh_queue_tracer completion_tracer = {
	.made = completion_made,
	.written = completion_written,
};
