/*
 * One conversation between two lanes of a stream, for tests that must show
 * that a handle they got from somewhere really reaches a given peer.
 */
#ifndef HH_TEST_CONV_H
#define HH_TEST_CONV_H

#include <hel.h>

/* helSubmitAsync's signature, so that a test can route the offer its own way. */
typedef HelError (*conv_submit_fn)(HelHandle lane, const struct HelAction *actions, size_t count,
		HelHandle queue, uintptr_t context, uint32_t flags);

/*
 * Offer on client (through submit) with msg, accept and receive on server.
 * kHelErrNone if msg arrived intact; the first error otherwise, or
 * kHelErrCancelled when nothing completed within 20 s.
 */
HelError conv_hello(conv_submit_fn submit, HelHandle client, HelHandle server, const char *msg);

#endif
