/* helhost's own extensions (include/helhost.h). */
#include "helhost.h"

const char *helhost_version(void)
{
	return HELHOST_VERSION;
}
