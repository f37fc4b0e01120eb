/*
 * Compile-only check that the Hel headers build as C17 with strict warnings
 * (GCC and Clang), and that the error-checking helpers compile where code
 * uses them.  hel-types.h comes first to show it stands alone; hel.h twice
 * to exercise its include guard.
 */
#include "hel-types.h"
#include "hel.h"
#include "hel.h"
#include "hel-syscalls.h"
#include "helhost.h"

/* External declarations keep -Wmissing-prototypes quiet if it is enabled. */
void header_c_check(HelHandle lane, int fatal);
const char *header_c_describe(HelError error);
HelWord header_c_word(HelWord word);

void header_c_check(HelHandle lane, int fatal) {
	HEL_CHECK(helNop());
	HEL_SOFT_CHECK(helShutdownLane(lane));

	/* Both macros are single statements, also between if and else. */
	if (fatal)
		HEL_CHECK(helCloseDescriptor(kHelThisUniverse, lane));
	else
		HEL_SOFT_CHECK(helCloseDescriptor(kHelThisUniverse, lane));
}

const char *header_c_describe(HelError error) {
	const char *text = _helErrorString(error);
	return text ? text : "unknown";
}

HelWord header_c_word(HelWord word) {
	return word + (HelWord)sizeof(struct HelQueue);
}

/* The queue reader's result cursor, inline in helhost-queue.h. */
size_t header_c_results(struct HelElement *e);
size_t header_c_results(struct HelElement *e) {
	struct helhost_results r = helhost_results_of(e);
	size_t n = 0;
	while (helhost_take_simple(&r))
		n++;
	return n + (helhost_take_inline(&r) != NULL) + (helhost_error_name(kHelErrNone)[0] == 'k');
}
