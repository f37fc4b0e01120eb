/*
 * Streams and lanes (STREAMS.md).  A stream has two lanes; items submitted
 * on one lane pair up, in order, with items submitted on the other.  One
 * helSubmitAsync is one submission: a flat array of items forming a root
 * chain plus ancillary lists, completing as a single queue element once
 * every item is done.
 */
#ifndef HH_STREAM_H
#define HH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callpage.h"
#include "credentials.h"
#include "hel.h"
#include "object.h"
#include "pending.h"
#include "universe.h"
#include "usermem.h"

struct hh_queue;
struct hh_space;
struct hh_submission;
struct hh_stream;
struct hh_stage;

#define HH_KERNEL_BUFFER_MAX 4096 /* larger SendFromBuffer is streamed after matching */
#define HH_ROOT (-1)

struct hh_item {
	struct hh_submission *sub;
	struct hh_item *next;           /* in its lane's queue of unmatched items */
	struct hh_item **pprev;         /* the link to it there, or NULL when not queued */
	struct hh_stream *stream;       /* the lane it travelled on (a lane reference), or NULL */
	int lane;
	int index;                      /* position in the submission's array */
	int parent;                     /* index of the Offer/Accept it is ancillary to, or HH_ROOT */
	int first_child, next_sibling;  /* its ancillary list, in array order; -1 ends it */
	int type;                       /* kHelAction* */
	uint32_t flags;                 /* kHelItem* */

	/* Inputs, filled by the decoder. */
	void *kbuf;                     /* kernel-buffer send: the bytes, copied at submission */
	size_t len;                     /* send length, or RecvToBuffer capacity */
	uint64_t ubuf;                  /* flow send source or RecvToBuffer destination */
	bool flow;                      /* SendFromBuffer over HH_KERNEL_BUFFER_MAX bytes */
	struct hh_desc pushed;          /* PushDescriptor: the captured copy (a reference) */
	unsigned char creds[HH_CREDENTIALS_SIZE]; /* Imbue: captured; Extract: received */

	/* Results. */
	bool done;
	HelError error;
	size_t length;                  /* bytes received */
	unsigned char inline_data[HH_INLINE_MAX];
	struct hh_desc received;        /* Pull, Accept, Offer(WantLane): what to attach (a reference) */
	struct hh_stream *child;        /* Offer/Accept: the new stream (a lane reference) */
	struct hh_stage *stage;         /* RecvToBuffer: the stage holding it, or NULL */
};

struct hh_stream {
	struct hh_object base;
	struct {
		uint32_t peers;         /* descriptors, pushed copies and items naming this lane */
		bool broken;            /* peers dropped to zero */
		bool shutdown;
		struct hh_item *head, **tail;
	} lane[2];
	bool has_credentials;
	unsigned char credentials[HH_CREDENTIALS_SIZE];
};

struct hh_stream *hh_stream_create(bool with_credentials);
void hh_stream_shutdown(struct hh_stream *s, int lane);

/* Who submits: each is held (or, for mem and pending, outlived) by the submission. */
struct hh_submitter {
	struct hh_universe *universe;   /* where received handles go */
	const struct hh_usermem *mem;   /* whose memory the buffers are in */
	struct hh_space *space;         /* and its Hel mappings */
	struct hh_pending_list *pending; /* discards the submission when the submitter dies */
};

/*
 * Build a submission: the decoder creates it, fills items[0..count), then
 * either starts it (after which nothing can fail) or aborts it.
 */
struct hh_submission *hh_submission_new(size_t count, struct hh_queue *q, uint64_t context,
		const struct hh_submitter *who, size_t result_bytes);
struct hh_item *hh_submission_item(struct hh_submission *sub, size_t i);
void hh_submission_start(struct hh_submission *sub, struct hh_stream *s, int lane);
void hh_submission_abort(struct hh_submission *sub);

/*
 * A staged write (callpage.h): while the emulator serves a posted call, a
 * message received into the calling program's private memory is handed to
 * the calling thread to write, instead of written through usermem.h.  One
 * per thread; the transport offers it through hh_usermem.stage for the
 * length of the call, and reports the thread's answer.
 */
struct hh_stage {
	unsigned char *buf;             /* where the thread finds the bytes: its call page */
	size_t cap;
	struct hh_item *held;           /* the receive that waits for the thread, or NULL */
	uint64_t addr;                  /* where its bytes go */
	size_t len;
	bool fresh;                     /* held since this call: its reply must say so */
};

/* The thread wrote the held receive (error kHelErrNone) or found it unwritable. */
void hh_stage_done(struct hh_stage *st, HelError error);
/* The thread will not write it (it called again, or ended): the emulator does. */
void hh_stage_flush(struct hh_stage *st);

/* Bytes an action can add to the element (QUEUES.md §7.2). */

static inline struct hh_stream *hh_stream_of(struct hh_object *obj)
{
	return (struct hh_stream *)obj;
}

#endif
