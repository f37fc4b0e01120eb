/*
 * pager: a file served as managed memory, the way Managarm's file systems
 * serve their page cache (OBJECTS.md §3.5).
 *
 * The "file" is either computed (each page starts with a line naming it)
 * or a host file given with -f.  The pager creates managed memory of the
 * file's size, keeps the backing view to itself and hands the frontal view
 * to each client that opens a conversation on the lane it publishes as
 * "pager".  Clients map the frontal view and use it like any memory: a
 * page they touch first makes the kernel ask the pager to initialize it
 * (the pager copies it from the file into the backing view), and a page
 * they write is handed back for writeback (the pager copies it from the
 * backing view into the file).  A client says "done" when it has finished;
 * the pager answers with what it wrote back and exits.
 *
 * Run: helhost run pager [-f FILE] [-p PAGES] -- pager-client
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PAGE = 4096, MANAGE = 1, ACCEPT = 2, REPLY = 3 };

struct file {
	int fd;                 /* the host file, or -1: computed pages */
	size_t size;
	char *written;          /* computed file: what was written back */
};

static void read_page(const struct file *f, size_t page, char *to)
{
	memset(to, 0, PAGE);
	if (f->fd >= 0) {
		if (pread(f->fd, to, PAGE, (off_t)(page * PAGE)) < 0)
			perror("pager: reading the file");
		return;
	}
	if (f->written[page * PAGE])
		memcpy(to, f->written + page * PAGE, PAGE);
	else
		snprintf(to, PAGE, "page %zu, computed by the pager\n", page);
}

static void write_page(struct file *f, size_t page, const char *from)
{
	if (f->fd < 0)
		memcpy(f->written + page * PAGE, from, PAGE);
	else if (pwrite(f->fd, from, PAGE, (off_t)(page * PAGE)) != PAGE)
		perror("pager: writing the file");
}

/* The first line of a page, for the log. */
static int line_length(const char *page)
{
	const char *nl = memchr(page, '\n', 80);
	return nl ? (int)(nl - page) : (int)strnlen(page, 80);
}

/* Serve one request: copy between the file and the backing view, then say so. */
static void serve(struct file *f, HelHandle backing, char *view, const struct HelManageResult *r,
		char *log, size_t log_size)
{
	for (size_t at = r->offset; at < r->offset + r->length; at += PAGE) {
		size_t page = at / PAGE;
		if (r->type == kHelManageInitialize) {
			read_page(f, page, view + at);
			printf("pager: initialize page %zu: \"%.*s\"\n", page, line_length(view + at), view + at);
		} else {
			write_page(f, page, view + at);
			printf("pager: write back page %zu: \"%.*s\"\n", page, line_length(view + at), view + at);
			size_t used = strlen(log);
			snprintf(log + used, log_size - used, "page %zu: \"%.*s\"; ", page,
					line_length(view + at), view + at);
		}
	}
	HEL_CHECK(helUpdateMemory(backing, r->type, r->offset, r->length));
}

static int open_file(struct file *f, const char *path, size_t pages)
{
	f->fd = -1;
	f->size = pages * PAGE;
	f->written = NULL;
	if (!path) {
		f->written = calloc(pages, PAGE);
		return f->written ? 0 : -1;
	}
	f->fd = open(path, O_RDWR);
	struct stat st;
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		perror(path);
		return -1;
	}
	/* Whole pages: the tail of the last page reads as zeros. */
	f->size = ((size_t)st.st_size + PAGE - 1) / PAGE * PAGE;
	return f->size ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	size_t pages = 8;
	int opt;
	while ((opt = getopt(argc, argv, "f:p:")) != -1) {
		if (opt == 'f')
			path = optarg;
		else if (opt == 'p' && atoi(optarg) > 0)
			pages = (size_t)atoi(optarg);
		else {
			fprintf(stderr, "usage: pager [-f FILE] [-p PAGES]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct file file;
	if (open_file(&file, path, pages))
		return 1;

	HelHandle backing, frontal;
	HEL_CHECK(helCreateManagedMemory(file.size, kHelManagedReadahead, &backing, &frontal));
	char *view;
	HEL_CHECK(helMapMemory(backing, kHelNullHandle, NULL, 0, file.size,
			kHelMapProtRead | kHelMapProtWrite, (void **)&view));

	HelHandle published, lane;
	HEL_CHECK(helCreateStream(&published, &lane, 0));
	HEL_CHECK(helhost_publish("pager", published));
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, published));
	printf("pager: serving %zu bytes (%s) as \"pager\"\n", file.size, path ? path : "computed");

	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	/*
	 * One request per submission.  Two stay submitted, so that one always
	 * waits while the pager serves the other: a page written by a client
	 * is then handed out at once, before anything the client sends later
	 * (its "done") reaches the pager.
	 */
	HEL_CHECK(helSubmitManageMemory(backing, q.handle, MANAGE));
	HEL_CHECK(helSubmitManageMemory(backing, q.handle, MANAGE));
	/* A client's conversation: it gets the frontal view, and later says "done". */
	struct HelAction accept[] = {
		{ .type = kHelActionAccept, .flags = kHelItemAncillary },
		{ .type = kHelActionPushDescriptor, .flags = kHelItemChain, .handle = frontal },
		{ .type = kHelActionRecvInline },
	};
	HEL_CHECK(helSubmitAsync(lane, accept, 3, q.handle, ACCEPT, 0));

	char log[1024] = "";
	for (;;) {
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		struct helhost_results r = helhost_results_of(e);
		if ((uintptr_t)e->context == MANAGE) {
			struct HelManageResult request;
			memcpy(&request, helhost_take(&r, sizeof(request)), sizeof(request));
			HEL_CHECK(request.error);
			HEL_CHECK(helSubmitManageMemory(backing, q.handle, MANAGE));
			serve(&file, backing, view, &request, log, sizeof(log));
		} else if ((uintptr_t)e->context == ACCEPT) {
			struct HelHandleResult *conversation = helhost_take_handle(&r);
			HEL_CHECK(conversation->error);
			HEL_CHECK(helhost_take_simple(&r)->error);
			struct HelInlineResult *done = helhost_take_inline(&r);
			HEL_CHECK(done->error);
			printf("pager: the client says \"%.*s\"\n", (int)done->length, done->data);
			struct HelAction reply = { .type = kHelActionSendFromBuffer,
				.buffer = log, .length = strlen(log) };
			HEL_CHECK(helSubmitAsync(conversation->handle, &reply, 1, q.handle, REPLY, 0));
		} else if ((uintptr_t)e->context == REPLY) {
			HEL_CHECK(helhost_take_simple(&r)->error);
			break;
		}
	}
	HEL_CHECK(helhost_queue_close(&q));
	if (file.fd >= 0)
		close(file.fd);
	free(file.written);
	return 0;
}
