/*
 * Compile-only check that the Hel headers build as C++20 with strict
 * warnings (GCC and Clang): the helpers compile where code uses them, the
 * flexible-array structures keep their C layout, the queue bits (static const
 * int, not usable in C constant expressions) have their ABI values, and the
 * functions have C linkage.  hel-syscalls.h comes first to show it stands
 * alone.
 */
#include "hel-syscalls.h"
#include "hel.h"
#include "helhost.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

static_assert(kHelHeadMask == 0xFFFFFF, "kHelHeadMask");
static_assert(kHelHeadWaiters == 0x1000000, "kHelHeadWaiters");
static_assert(kHelProgressMask == 0xFFFFFF, "kHelProgressMask");
static_assert(kHelProgressWaiters == 0x1000000, "kHelProgressWaiters");
static_assert(kHelProgressDone == 0x2000000, "kHelProgressDone");
static_assert(std::is_same<decltype(kHelHeadMask), const int>::value,
		"the queue bits are const int");

static_assert(sizeof(HelQueue) == 8 && offsetof(HelQueue, indexQueue) == 8, "HelQueue");
static_assert(sizeof(HelChunk) == 8 && offsetof(HelChunk, buffer) == 8, "HelChunk");
static_assert(sizeof(HelInlineResult) == 16 && offsetof(HelInlineResult, data) == 16,
		"HelInlineResult");
static_assert(sizeof(HelX86VirtualizationRegs) == 424, "HelX86VirtualizationRegs");

static_assert(kHelCallSuper == 0x80000000u && kHelObserveSuperCall == 0x80000000u,
		"supercall base");
static_assert(std::is_same<HelWord, std::uint64_t>::value, "HelWord");
static_assert(std::is_same<decltype(&helCreateStream),
		HelError (*)(HelHandle *, HelHandle *, std::uint32_t)>::value,
		"helCreateStream");
static_assert(std::is_same<decltype(&_helErrorString), const char *(*)(HelError)>::value,
		"_helErrorString");

/* References to Hel functions from here must name the unmangled C symbols;
   `nm header_cxx.o` shows helNop, helShutdownLane, helCreateStream, helLog
   and helPanic as undefined. */
void header_cxx_check(HelHandle lane, bool fatal);
const char *header_cxx_describe(HelError error);

void header_cxx_check(HelHandle lane, bool fatal) {
	HEL_CHECK(helNop());
	HEL_SOFT_CHECK(helShutdownLane(lane));

	HelHandle lanes[2];
	if (fatal)
		HEL_CHECK(helCreateStream(&lanes[0], &lanes[1], 0));
	else
		HEL_SOFT_CHECK(helCreateStream(&lanes[0], &lanes[1], 0));
}

const char *header_cxx_describe(HelError error) {
	const char *text = _helErrorString(error);
	return text ? text : "unknown";
}

// The queue reader's inline cursor compiles as C++ too.
std::size_t header_cxx_results(HelElement *e);
std::size_t header_cxx_results(HelElement *e) {
	helhost_results r = helhost_results_of(e);
	std::size_t n = helhost_take_handle(&r) != nullptr;
	return n + (helhost_take_inline(&r) != nullptr) + (helhost_error_name(kHelErrNone)[0] == 'k');
}
