/*
 * loader: runs a static, libc-free program in a thread of its own, the way
 * Managarm's POSIX server starts a program.  It reads the guest's ELF file,
 * builds a fresh address space with helCreateSpace, helAllocateMemory,
 * helMapMemory and helSubmitWriteMemory, makes a universe holding one lane
 * of a stream, creates the thread stopped, passes the lane's handle in rdi,
 * resumes it, and serves its supercalls (1: print a string, 2: exit) until
 * it exits.  Then it prints what the guest sent over the lane.
 *
 *     loader [GUEST]     (default: the guest built next to the loader)
 */
#include <elf.h>
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PAGE = 4096, STACK_SIZE = 64 * 1024 };
#define STACK_TOP 0x7f0000000000ull
enum { SUPER_PRINT = 1, SUPER_EXIT = 2 };
/* Contexts of the loader's queue elements. */
enum { CTX_COPY = 1, CTX_OBSERVE, CTX_RECV };

static struct helhost_queue q;

static void fail(const char *what, HelError e)
{
	fprintf(stderr, "loader: %s: %s\n", what, helhost_error_name(e));
	exit(1);
}

static void check(HelError e, const char *what)
{
	if (e != kHelErrNone)
		fail(what, e);
}

/* helSubmitRead/WriteMemory on a space or thread, waited for. */
static void copy(HelHandle handle, uint64_t address, void *buf, size_t len, int write)
{
	check(write ? helSubmitWriteMemory(handle, address, len, buf, q.handle, CTX_COPY)
			: helSubmitReadMemory(handle, address, len, buf, q.handle, CTX_COPY), "copy");
	struct HelElement *e;
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
	struct helhost_results r = helhost_results_of(e);
	check(helhost_take_simple(&r)->error, "copy result");
}

static unsigned char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	unsigned char *data = malloc(len > 0 ? (size_t)len : 1);
	if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "loader: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*size = (size_t)len;
	return data;
}

static uint32_t protection(uint32_t p_flags)
{
	return ((p_flags & PF_R) ? kHelMapProtRead : 0) | ((p_flags & PF_W) ? kHelMapProtWrite : 0) |
		((p_flags & PF_X) ? kHelMapProtExecute : 0);
}

/* One PT_LOAD segment: whole pages of fresh memory, the file's bytes written through the space. */
static void load_segment(HelHandle space, const unsigned char *file, size_t size, const Elf64_Phdr *ph)
{
	uint64_t start = ph->p_vaddr & ~(uint64_t)(PAGE - 1);
	uint64_t end = (ph->p_vaddr + ph->p_memsz + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset) {
		fprintf(stderr, "loader: a segment lies outside the file\n");
		exit(1);
	}
	HelHandle memory;
	void *at;
	check(helAllocateMemory(end - start, 0, NULL, &memory), "helAllocateMemory");
	check(helMapMemory(memory, space, (void *)start, 0, end - start,
			protection(ph->p_flags) | kHelMapFixed, &at), "helMapMemory");
	if (ph->p_filesz)
		copy(space, ph->p_vaddr, (void *)(file + ph->p_offset), ph->p_filesz, 1);
	check(helCloseDescriptor(kHelThisUniverse, memory), "close memory");
}

/* The guest's image in a new space; returns its entry point. */
static uint64_t load(HelHandle space, const char *path)
{
	size_t size;
	unsigned char *file = read_file(path, &size);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_EXEC ||
			eh->e_machine != EM_X86_64 || eh->e_phoff > size ||
			eh->e_phnum > (size - eh->e_phoff) / sizeof(Elf64_Phdr)) {
		fprintf(stderr, "loader: %s is no static x86-64 executable\n", path);
		exit(1);
	}
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			load_segment(space, file, size, &ph[i]);
	uint64_t entry = eh->e_entry;
	free(file);
	return entry;
}

/* Serve one supercall; returns 1 when the guest asked to exit (its code in *code). */
static int serve(HelHandle thread, unsigned observation, int *code)
{
	uintptr_t gprs[kHelNumGprs];
	check(helLoadRegisters(thread, kHelRegsGeneral, gprs), "helLoadRegisters");
	switch (observation - kHelObserveSuperCall) {
	case SUPER_PRINT: {
		char text[512];
		size_t len = gprs[kHelRegArg1] < sizeof(text) ? gprs[kHelRegArg1] : sizeof(text);
		/* Through the thread handle, as Managarm's POSIX server reads a program's memory. */
		copy(thread, gprs[kHelRegArg0], text, len, 0);
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		gprs[kHelRegError] = kHelErrNone;
		break;
	}
	case SUPER_EXIT:
		*code = (int)gprs[kHelRegArg0];
		return 1;
	default:
		gprs[kHelRegError] = kHelErrIllegalSyscall;
	}
	check(helStoreRegisters(thread, kHelRegsGeneral, gprs), "helStoreRegisters");
	check(helResume(thread), "helResume");
	return 0;
}

static const char *default_guest(const char *argv0)
{
	static char path[4096];
	const char *slash = strrchr(argv0, '/');
	int dir = slash ? (int)(slash - argv0) : 1;
	snprintf(path, sizeof(path), "%.*s/loader-guest", dir, slash ? argv0 : ".");
	return path;
}

int main(int argc, char **argv)
{
	const char *guest = argc > 1 ? argv[1] : default_guest(argv[0]);
	HEL_CHECK(helhost_queue_open(&q, 4, 512));

	HelHandle space, universe, mine, theirs, lane_there, stack;
	void *at;
	check(helCreateSpace(&space), "helCreateSpace");
	uint64_t entry = load(space, guest);
	check(helAllocateMemory(STACK_SIZE, 0, NULL, &stack), "helAllocateMemory (stack)");
	check(helMapMemory(stack, space, (void *)(STACK_TOP - STACK_SIZE), 0, STACK_SIZE,
			kHelMapProtRead | kHelMapProtWrite | kHelMapFixed, &at), "helMapMemory (stack)");

	/* A universe of its own, holding its end of a stream. */
	check(helCreateUniverse(&universe), "helCreateUniverse");
	check(helCreateStream(&mine, &theirs, 0), "helCreateStream");
	check(helTransferDescriptor(theirs, universe, &lane_there), "helTransferDescriptor");

	HelHandle thread;
	check(helCreateThread(universe, space, kHelAbiSystemV, (void *)entry, (void *)STACK_TOP,
			kHelThreadStopped, &thread), "helCreateThread");
	uintptr_t gprs[kHelNumGprs];
	check(helLoadRegisters(thread, kHelRegsGeneral, gprs), "helLoadRegisters");
	gprs[kHelRegRdi] = (uintptr_t)lane_there;
	check(helStoreRegisters(thread, kHelRegsGeneral, gprs), "helStoreRegisters");
	printf("loader: %s loaded at entry %#llx, thread created stopped\n", guest,
			(unsigned long long)entry);

	/* Its message arrives whenever it sends it. */
	struct HelAction recv = { .type = kHelActionRecvInline };
	check(helSubmitAsync(mine, &recv, 1, q.handle, CTX_RECV, 0), "helSubmitAsync (recv)");
	check(helResume(thread), "helResume");

	uint64_t sequence = 1;
	int code = -1, exited = 0, observing = 0;
	char message[128] = "";
	while (!exited || !message[0]) {
		/* One observer at a time: each stop completes every observer waiting for it. */
		if (!exited && !observing) {
			check(helSubmitObserve(thread, sequence, q.handle, CTX_OBSERVE), "helSubmitObserve");
			observing = 1;
		}
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		struct helhost_results r = helhost_results_of(e);
		if ((uintptr_t)e->context == CTX_RECV) {
			struct HelInlineResult *in = helhost_take_inline(&r);
			check(in->error, "receive");
			snprintf(message, sizeof(message), "%.*s", (int)in->length, in->data);
			continue;
		}
		struct HelObserveResult *o = (struct HelObserveResult *)r.at;
		observing = 0;
		check(o->error, "observe");
		sequence = o->sequence;
		if (o->observation < kHelObserveSuperCall) {
			fprintf(stderr, "loader: the guest stopped with observation %u\n", o->observation);
			return 1;
		}
		exited = serve(thread, o->observation, &code);
	}
	printf("loader: the guest sent \"%s\" and exited with %d\n", message, code);
	check(helCloseDescriptor(kHelThisUniverse, thread), "close thread");
	return code;
}
