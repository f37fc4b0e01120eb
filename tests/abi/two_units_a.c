/*
 * Two translation units of one program both use the hel.h helpers
 * (HEL_CHECK, _helErrorString).  In C the helpers are static inline, so the
 * program links without duplicate symbols; this unit holds main and checks a
 * few of the texts.  Nothing here fails a Hel call, so neither helLog nor
 * helPanic runs, though the program must be linked with something that
 * defines them (libhel).
 */
#include <string.h>

#include "hel.h"

int two_units_b(void);

static HelError succeed(void) {
	return kHelErrNone;
}

static int text_is(HelError error, const char *expected) {
	const char *text = _helErrorString(error);
	if (!text || !expected)
		return text == expected;
	return strcmp(text, expected) == 0;
}

int main(void) {
	int failures = 0;

	HEL_CHECK(succeed());

	if (!text_is(kHelErrNone, "Success"))
		failures++;
	if (!text_is(kHelErrQueueTooSmall, "Buffer too small"))
		failures++;
	if (!text_is(kHelErrRemoteFault, NULL))
		failures++;

	failures += two_units_b();
	return failures ? 1 : 0;
}
