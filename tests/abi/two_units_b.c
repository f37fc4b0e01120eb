/*
 * Second translation unit of the two-unit program (see two_units_a.c):
 * uses the same hel.h helpers and returns the number of failed checks.
 */
#include <string.h>

#include "hel.h"

int two_units_b(void);

static HelError succeed(void) {
	return kHelErrNone;
}

int two_units_b(void) {
	int failures = 0;

	HEL_CHECK(succeed());
	HEL_SOFT_CHECK(succeed());

	if (strcmp(_helErrorString(kHelErrEndOfLane), "End of lane") != 0)
		failures++;
	if (_helErrorString(3) != NULL || _helErrorString(23) != NULL)
		failures++;

	return failures;
}
