/*
 * hel.h: the Hel microkernel API (helhost edition).
 *
 * Source- and binary-compatible with Managarm's hel.h as of July 2025: every
 * name, value, structure layout and prototype is Managarm's.  On helhost the
 * hel* functions are ordinary functions exported by libhel; the emulator
 * behind them plays the kernel.  docs/GUIDE.md (installed as
 * share/doc/helhost/GUIDE.md) explains how to use them: queues and the
 * layout of their elements, streams, futexes, errors.  Host-only extensions
 * live in helhost.h, never here.
 *
 * Works as C17 and as C++20 (GCC and Clang), also with -pedantic.
 */
#ifndef HEL_H
#define HEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hel-types.h"

/* Gives every Hel function C linkage when the header is read by C++. */
#ifdef __cplusplus
#define HEL_C_LINKAGE extern "C"
#else
#define HEL_C_LINKAGE
#endif

/*
 * Marks the functions libhel exports, so that the library can be built with
 * -fvisibility=hidden and still export exactly the API.
 */
#ifndef HEL_API
#define HEL_API __attribute__((visibility("default")))
#endif

/*
 * A few Managarm definitions go beyond ISO C17 / C++20: enumerators above
 * INT_MAX (kHelCallSuper, kHelObserveSuperCall; GCC and Clang then give the
 * enumeration type unsigned int) and flexible array members in C++.  Both
 * compilers support them; the blocks that use them silence -Wpedantic locally.
 */

/* ------------------------------------------------------------------------- */
/* System call numbers.  Gaps in the numbering are unassigned.                */
/* ------------------------------------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
enum {
	kHelCallLog = 1,
	kHelCallNop = 2,
	kHelCallSubmitAsyncNop = 3,
	kHelCallPanic = 10,
	kHelCallAccessIo = 11,
	kHelCallEnableIo = 12,
	kHelCallAccessIrq = 14,
	kHelCallCloseDescriptor = 21,
	kHelCallMemoryInfo = 26,
	kHelCallCreateSpace = 27,
	kHelCallAccessPhysical = 30,
	kHelCallDescriptorInfo = 32,
	kHelCallYield = 34,
	kHelCallEnableFullIo = 35,
	kHelCallUnmapMemory = 36,
	kHelCallCreateVirtualizedCpu = 37,
	kHelCallRunVirtualizedCpu = 38,
	kHelCallCopyOnWrite = 39,
	kHelCallForkMemory = 40,
	kHelCallWriteFsBase = 41,
	kHelCallGetClock = 42,
	kHelCallPointerPhysical = 43,
	kHelCallMapMemory = 44,
	kHelCallCreateIndirectMemory = 45,
	kHelCallSubmitManageMemory = 46,
	kHelCallUpdateMemory = 47,
	kHelCallSubmitLockMemoryView = 48,
	kHelCallLoadahead = 49,
	kHelCallCreateVirtualizedSpace = 50,
	kHelCallAllocateMemory = 51,
	kHelCallAlterMemoryIndirection = 52,
	kHelCallSubmitSynchronizeSpace = 53,
	kHelCallWriteGsBase = 54,
	kHelCallReadFsBase = 55,
	kHelCallReadGsBase = 56,
	kHelCallGetCurrentCpu = 57,
	kHelCallResume = 61,
	kHelCallCreateUniverse = 62,
	kHelCallCreateManagedMemory = 64,
	kHelCallTransferDescriptor = 66,
	kHelCallCreateThread = 67,
	kHelCallCreateStream = 68,
	kHelCallFutexWake = 71,
	kHelCallFutexWait = 73,
	kHelCallSubmitObserve = 74,
	kHelCallLoadRegisters = 75,
	kHelCallStoreRegisters = 76,
	kHelCallSubmitReadMemory = 77,
	kHelCallSubmitWriteMemory = 78,
	kHelCallSubmitAsync = 79,
	kHelCallSubmitAwaitClock = 80,
	kHelCallAcknowledgeIrq = 81,
	kHelCallSubmitAwaitEvent = 82,
	kHelCallResizeMemory = 83,
	kHelCallGetCredentials = 84,
	kHelCallSetPriority = 85,
	kHelCallInterruptThread = 86,
	kHelCallKillThread = 87,
	kHelCallCreateSliceView = 88,
	kHelCallCreateQueue = 89,
	kHelCallShutdownLane = 91,
	kHelCallCancelAsync = 92,
	kHelCallBindKernlet = 93,
	kHelCallAutomateIrq = 94,
	kHelCallQueryThreadStats = 95,
	kHelCallCreateOneshotEvent = 96,
	kHelCallCreateBitsetEvent = 97,
	kHelCallRaiseEvent = 98,
	kHelCallSubmitProtectMemory = 99,
	kHelCallSetAffinity = 100,
	kHelCallGetRandomBytes = 101,
	kHelCallQueryRegisterInfo = 102,
	kHelCallGetAffinity = 103,
	kHelCallCreateToken = 104,

	/* One past the largest call number. */
	kHelNumCalls = 105,

	/* Numbers from here up are supercalls: the thread stops and its
	   supervisor sees kHelObserveSuperCall + (number - kHelCallSuper). */
	kHelCallSuper = 0x80000000
};
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------------- */
/* Error codes (GUIDE.md: Errors).  3 and 6 are unused.                       */
/* ------------------------------------------------------------------------- */

enum {
	kHelErrNone = 0,
	kHelErrBufferTooSmall = 1,
	kHelErrBadDescriptor = 2,
	kHelErrNoDescriptor = 4,
	kHelErrIllegalSyscall = 5,
	kHelErrIllegalArgs = 7,
	kHelErrLaneShutdown = 8,
	kHelErrEndOfLane = 9,
	kHelErrFault = 10,
	kHelErrThreadTerminated = 11,
	kHelErrCancelled = 12,
	kHelErrTransmissionMismatch = 13,
	kHelErrQueueTooSmall = 14,
	kHelErrIllegalState = 15,
	kHelErrNoHardwareSupport = 16,
	kHelErrNoMemory = 17,
	kHelErrUnsupportedOperation = 18,
	kHelErrOutOfBounds = 19,
	kHelErrDismissed = 20,
	kHelErrRemoteFault = 21,
	kHelErrAlreadyExists = 22
};

/* ------------------------------------------------------------------------- */
/* Special handles and other single values.                                   */
/* ------------------------------------------------------------------------- */

enum {
	/* No handle; some calls read it as the caller's universe or space. */
	kHelNullHandle = 0,
	kHelThisUniverse = -1,
	kHelThisThread = -2,
	/* The shared all-zero memory object; only helCopyOnWrite accepts it. */
	kHelZeroMemory = -3
};

enum {
	/* helFutexWait deadline that never expires. */
	kHelWaitInfinite = -1
};

enum {
	kHelAbiSystemV = 1
};

/* ------------------------------------------------------------------------- */
/* IPC actions (GUIDE.md: Streams): HelAction.type and HelAction.flags.       */
/* ------------------------------------------------------------------------- */

enum {
	kHelActionNone = 0,
	kHelActionSendFromBuffer = 1,
	kHelActionPushDescriptor = 2,
	kHelActionRecvToBuffer = 3,
	kHelActionPullDescriptor = 4,
	kHelActionOffer = 5,
	kHelActionAccept = 6,
	kHelActionRecvInline = 7,
	kHelActionImbueCredentials = 8,
	kHelActionExtractCredentials = 9,
	kHelActionSendFromBufferSg = 10,
	kHelActionDismiss = 11
};

enum {
	/* The current list of actions continues after this one. */
	kHelItemChain = 1,
	/* The actions that follow form this action's own list (used by Offer
	   and Accept for what travels on the new stream). */
	kHelItemAncillary = 2,
	/* Offer: also return a handle to the offerer's end of the new stream. */
	kHelItemWantLane = (1 << 16)
};

/* ------------------------------------------------------------------------- */
/* Memory flags.                                                              */
/* ------------------------------------------------------------------------- */

enum HelAllocFlags {
	kHelAllocOnDemand = 1,
	kHelAllocContinuous = 4
};

enum HelManagedFlags {
	kHelManagedReadahead = 1
};

enum HelManageRequests {
	kHelManageInitialize = 1,
	kHelManageWriteback = 2
};

enum HelMapFlags {
	kHelMapDontRequireBacking = 128,
	kHelMapProtRead = 256,
	kHelMapProtWrite = 512,
	kHelMapProtExecute = 1024,
	kHelMapFixed = 2048,
	kHelMapFixedNoReplace = 4096
};

enum HelSliceFlags {
	kHelSliceCacheWriteCombine = 1
};

/* ------------------------------------------------------------------------- */
/* Threads, observations, register sets.                                      */
/* ------------------------------------------------------------------------- */

enum HelThreadFlags {
	kHelThreadStopped = 1
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
enum HelObservation {
	kHelObserveNull = 0,
	kHelObserveBreakpoint = 1,
	kHelObservePageFault = 2,
	kHelObservePanic = 3,
	kHelObserveInterrupt = 4,
	kHelObserveGeneralFault = 5,
	kHelObserveIllegalInstruction = 6,
	kHelObserveDivByZero = 7,
	/* Base of the supercall observations; see kHelCallSuper. */
	kHelObserveSuperCall = 0x80000000
};
#pragma GCC diagnostic pop

enum HelRegisterSets {
	kHelRegsProgram = 1,
	kHelRegsGeneral = 2,
	kHelRegsThread = 3,
	kHelRegsDebug = 4,
	kHelRegsVirtualization = 5,
	kHelRegsSimd = 6,
	kHelRegsSignal = 7
};

/* ------------------------------------------------------------------------- */
/* x86-64 register images and system-call registers.                          */
/* ------------------------------------------------------------------------- */

#if defined(__x86_64__)

/* Slots of the kHelRegsGeneral image (kHelNumGprs words), and of the
   two-word kHelRegsProgram image (kHelRegIp, kHelRegSp). */
enum HelRegisterIndex {
	kHelRegRax = 0,
	kHelRegRbx = 1,
	kHelRegRcx = 2,
	kHelRegRdx = 3,
	kHelRegRdi = 4,
	kHelRegRsi = 5,
	kHelRegR8 = 6,
	kHelRegR9 = 7,
	kHelRegR10 = 8,
	kHelRegR11 = 9,
	kHelRegR12 = 10,
	kHelRegR13 = 11,
	kHelRegR14 = 12,
	kHelRegR15 = 13,
	kHelRegRbp = 14,
	kHelNumGprs = 15,

	kHelRegIp = 0,
	kHelRegSp = 1
};

/* Where a Hel system call finds its number and arguments and leaves its
   results, as slots of the kHelRegsGeneral image.  The number goes in rdi,
   not rax as on Linux. */
enum HelSyscallArgs {
	kHelRegNumber = kHelRegRdi,
	kHelRegError = kHelRegRdi,

	kHelRegArg0 = kHelRegRsi,
	kHelRegArg1 = kHelRegRdx,
	kHelRegArg2 = kHelRegRax,
	kHelRegArg3 = kHelRegR8,
	kHelRegArg4 = kHelRegR9,
	kHelRegArg5 = kHelRegR10,
	kHelRegArg6 = kHelRegR12,
	kHelRegArg7 = kHelRegR13,
	kHelRegArg8 = kHelRegR14,

	kHelRegOut0 = kHelRegRsi,
	kHelRegOut1 = kHelRegRdx
};

#endif /* __x86_64__ */

/* ------------------------------------------------------------------------- */
/* Queue protocol bits (GUIDE.md: Completion queues).                         */
/* ------------------------------------------------------------------------- */

/* HelQueue.headFutex: the low 24 bits count the ring slots user space has
   filled; the kernel sets kHelHeadWaiters before it sleeps on the word. */
static const int kHelHeadMask = 0xFFFFFF;
static const int kHelHeadWaiters = (1 << 24);

/* HelChunk.progressFutex: the low 24 bits are the bytes the kernel has
   written; user space sets kHelProgressWaiters before it sleeps on the word,
   the kernel sets kHelProgressDone when it retires the chunk. */
static const int kHelProgressMask = 0xFFFFFF;
static const int kHelProgressWaiters = (1 << 24);
static const int kHelProgressDone = (1 << 25);

/* ------------------------------------------------------------------------- */
/* IRQs, virtual machines, logging.                                           */
/* ------------------------------------------------------------------------- */

enum HelAckFlags {
	kHelAckKick = 1,
	kHelAckAcknowledge = 2,
	kHelAckNack = 3,
	kHelAckClear = 0x100
};

/* Values of HelVmexitReason.exitReason (a uint32_t, so the negative ones
   arrive as 0xFFFFFFFF and 0xFFFFFFFE). */
enum {
	kHelVmexitHlt = 0,
	kHelVmexitTranslationFault = 1,
	kHelVmexitError = -1,
	kHelVmexitUnknownPlatformSpecificExitCode = -2
};

/* Severity of a helLog record, most severe first (the RFC 5424 levels). */
enum HelLogSeverity {
	kHelLogSeverityEmergency = 0,
	kHelLogSeverityAlert = 1,
	kHelLogSeverityCritical = 2,
	kHelLogSeverityError = 3,
	kHelLogSeverityWarning = 4,
	kHelLogSeverityNotice = 5,
	kHelLogSeverityInfo = 6,
	kHelLogSeverityDebug = 7
};

/* ------------------------------------------------------------------------- */
/* Queues (GUIDE.md: Completion queues).                                      */
/* ------------------------------------------------------------------------- */

/* Argument of helCreateQueue. */
struct HelQueueParameters {
	uint32_t flags;          /* must be 0 */
	unsigned int ringShift;  /* the index ring has 1 << ringShift slots */
	unsigned int numChunks;
	size_t chunkSize;        /* payload bytes per chunk */
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif

/* Start of a queue's memory.  User space writes indexQueue and the head
   count in headFutex; the kernel only ever sets kHelHeadWaiters there, and
   the user's next head update clears it. */
struct HelQueue {
	int headFutex;
	char padding[4];
	int indexQueue[];        /* 1 << ringShift chunk numbers */
};

/* One chunk of a queue.  The kernel appends elements to buffer and publishes
   their extent in progressFutex; user space resets the word to 0 before it
   hands the chunk back through the index ring. */
struct HelChunk {
	int progressFutex;
	char padding[4];
	char buffer[];           /* chunkSize bytes of elements */
};

#pragma GCC diagnostic pop

/* Header of one completion inside HelChunk.buffer; the result payload
   (length bytes, a multiple of 8) follows it. */
struct HelElement {
	unsigned int length;
	unsigned int reserved;   /* written as 0 */
	void *context;           /* the context given when the operation was submitted */
};

/* ------------------------------------------------------------------------- */
/* Completion payloads (GUIDE.md: What an element holds).                     */
/* ------------------------------------------------------------------------- */

struct HelSimpleResult {
	HelError error;
	int reserved;
};

struct HelCredentialsResult {
	HelError error;
	int reserved;
	char credentials[16];
};

struct HelManageResult {
	HelError error;
	int type;                /* kHelManageInitialize or kHelManageWriteback */
	uintptr_t offset;
	size_t length;
};

struct HelObserveResult {
	HelError error;
	unsigned int observation; /* a kHelObserve* value */
	uint64_t sequence;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif

struct HelInlineResult {
	HelError error;
	int reserved;
	size_t length;
	char data[];             /* length bytes, padded to a multiple of 8 */
};

#pragma GCC diagnostic pop

/* HelInlineResult without its trailing data, for code that cannot use
   flexible array members. */
struct HelInlineResultNoFlex {
	HelError error;
	int reserved;
	size_t length;
};

struct HelLengthResult {
	HelError error;
	int reserved;
	size_t length;
};

struct HelHandleResult {
	HelError error;
	int reserved;
	HelHandle handle;
};

struct HelEventResult {
	HelError error;
	uint32_t bitset;
	uint64_t sequence;
};

/* ------------------------------------------------------------------------- */
/* Message passing (GUIDE.md: Streams).                                       */
/* ------------------------------------------------------------------------- */

/* One step of a helSubmitAsync transmission. */
struct HelAction {
	int type;                /* a kHelAction* value */
	uint32_t flags;          /* kHelItem* bits */
	void *buffer;            /* data; for SendFromBufferSg a HelSgItem array */
	size_t length;           /* bytes; for SendFromBufferSg the item count */
	HelHandle handle;        /* PushDescriptor, ImbueCredentials */
};

/* One piece of a kHelActionSendFromBufferSg message. */
struct HelSgItem {
	void *buffer;
	size_t length;
};

/* ------------------------------------------------------------------------- */
/* Other structures.                                                          */
/* ------------------------------------------------------------------------- */

struct HelDescriptorInfo {
	int type;
};

struct HelAllocRestrictions {
	int addressBits;
};

struct HelRegisterInfo {
	int setSize;             /* bytes in the image of the queried set */
};

struct HelThreadStats {
	uint64_t userTime;
};

struct HelVmexitReason {
	uint32_t exitReason;     /* a kHelVmexit* value */
	uint32_t code;
	size_t address;
	size_t flags;
};

union HelKernletData {
	HelHandle handle;
};

struct HelX86DescriptorTable {
	uint64_t base;
	uint16_t limit;
};

struct HelX86SegmentRegister {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type;
	uint8_t present;
	uint8_t dpl;
	uint8_t db;
	uint8_t s;
	uint8_t l;
	uint8_t g;
	uint8_t avl;
};

/* The kHelRegsVirtualization image of a virtualized CPU. */
struct HelX86VirtualizationRegs {
	uint64_t rax;
	uint64_t rbx;
	uint64_t rcx;
	uint64_t rdx;
	uint64_t rsi;
	uint64_t rdi;
	uint64_t rbp;
	uint64_t r8;
	uint64_t r9;
	uint64_t r10;
	uint64_t r11;
	uint64_t r12;
	uint64_t r13;
	uint64_t r14;
	uint64_t r15;

	uint64_t rsp;
	uint64_t rip;
	uint64_t rflags;

	struct HelX86SegmentRegister cs;
	struct HelX86SegmentRegister ds;
	struct HelX86SegmentRegister es;
	struct HelX86SegmentRegister fs;
	struct HelX86SegmentRegister gs;
	struct HelX86SegmentRegister ss;
	struct HelX86SegmentRegister tr;
	struct HelX86SegmentRegister ldt;

	struct HelX86DescriptorTable gdt;
	struct HelX86DescriptorTable idt;

	uint64_t cr0;
	uint64_t cr2;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t cr8;
	uint64_t efer;
	uint64_t apic_base;
};

/* ------------------------------------------------------------------------- */
/* Functions.  All return a HelError except helPanic.                         */
/* ------------------------------------------------------------------------- */

/* Logging and debugging. */
HEL_C_LINKAGE HEL_API HelError helLog(const enum HelLogSeverity severity,
		const char *string, size_t length);
HEL_C_LINKAGE HEL_API __attribute__((noreturn)) void helPanic(const char *string,
		size_t length);
HEL_C_LINKAGE HEL_API HelError helNop(void);
HEL_C_LINKAGE HEL_API HelError helSubmitAsyncNop(HelHandle queueHandle,
		uintptr_t context);

/* Descriptors and universes. */
HEL_C_LINKAGE HEL_API HelError helCreateUniverse(HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helTransferDescriptor(HelHandle handle,
		HelHandle universeHandle, HelHandle *outHandle);
HEL_C_LINKAGE HEL_API HelError helDescriptorInfo(HelHandle handle,
		struct HelDescriptorInfo *info);
HEL_C_LINKAGE HEL_API HelError helGetCredentials(HelHandle handle, uint32_t flags,
		char *credentials);
HEL_C_LINKAGE HEL_API HelError helCloseDescriptor(HelHandle universeHandle,
		HelHandle handle);

/* Queues. */
HEL_C_LINKAGE HEL_API HelError helCreateQueue(const struct HelQueueParameters *params,
		HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helCancelAsync(HelHandle queueHandle, uint64_t asyncId);

/* Memory objects and address spaces. */
HEL_C_LINKAGE HEL_API HelError helAllocateMemory(size_t size, uint32_t flags,
		const struct HelAllocRestrictions *restrictions, HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helResizeMemory(HelHandle handle, size_t newSize);
HEL_C_LINKAGE HEL_API HelError helCreateManagedMemory(size_t size, uint32_t flags,
		HelHandle *backingHandle, HelHandle *frontalHandle);
HEL_C_LINKAGE HEL_API HelError helCopyOnWrite(HelHandle memory, uintptr_t offset,
		size_t size, HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helAccessPhysical(uintptr_t physical, size_t size,
		HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helCreateIndirectMemory(size_t numSlots,
		HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helAlterMemoryIndirection(HelHandle indirectHandle,
		size_t slotIndex, HelHandle memoryHandle, uintptr_t offset, size_t size);
HEL_C_LINKAGE HEL_API HelError helCreateSliceView(HelHandle bundle, uintptr_t offset,
		size_t size, uint32_t flags, HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helForkMemory(HelHandle handle,
		HelHandle *forkedHandle);
HEL_C_LINKAGE HEL_API HelError helCreateSpace(HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helMapMemory(HelHandle memoryHandle,
		HelHandle spaceHandle, void *pointer, uintptr_t offset, size_t size,
		uint32_t flags, void **actualPointer);
HEL_C_LINKAGE HEL_API HelError helSubmitProtectMemory(HelHandle spaceHandle,
		void *pointer, size_t size, uint32_t flags, HelHandle queueHandle,
		uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helSubmitSynchronizeSpace(HelHandle spaceHandle,
		void *pointer, size_t size, HelHandle queueHandle, uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helUnmapMemory(HelHandle spaceHandle, void *pointer,
		size_t size);
HEL_C_LINKAGE HEL_API HelError helPointerPhysical(const void *pointer,
		uintptr_t *physical);
HEL_C_LINKAGE HEL_API HelError helSubmitReadMemory(HelHandle handle,
		uintptr_t address, size_t length, void *buffer, HelHandle queue,
		uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helSubmitWriteMemory(HelHandle handle,
		uintptr_t address, size_t length, const void *buffer, HelHandle queue,
		uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helMemoryInfo(HelHandle handle, size_t *size);
HEL_C_LINKAGE HEL_API HelError helSubmitManageMemory(HelHandle handle,
		HelHandle queue, uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helUpdateMemory(HelHandle handle, int type,
		uintptr_t offset, size_t length);
HEL_C_LINKAGE HEL_API HelError helSubmitLockMemoryView(HelHandle handle,
		uintptr_t offset, size_t size, HelHandle queue, uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helLoadahead(HelHandle handle, uintptr_t offset,
		size_t length);
HEL_C_LINKAGE HEL_API HelError helCreateVirtualizedSpace(HelHandle *handle);

/* Threads, clock and CPUs. */
HEL_C_LINKAGE HEL_API HelError helCreateThread(HelHandle universe,
		HelHandle spaceHandle, HelAbi abi, void *ip, void *sp, uint32_t flags,
		HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helQueryThreadStats(HelHandle handle,
		struct HelThreadStats *stats);
HEL_C_LINKAGE HEL_API HelError helSetPriority(HelHandle handle, int priority);
HEL_C_LINKAGE HEL_API HelError helYield(void);
HEL_C_LINKAGE HEL_API HelError helSubmitObserve(HelHandle handle, uint64_t sequence,
		HelHandle queue, uintptr_t context);
HEL_C_LINKAGE HEL_API HelError helKillThread(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helInterruptThread(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helResume(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helLoadRegisters(HelHandle handle, int set,
		void *image);
HEL_C_LINKAGE HEL_API HelError helStoreRegisters(HelHandle handle, int set,
		const void *image);
HEL_C_LINKAGE HEL_API HelError helQueryRegisterInfo(int set,
		struct HelRegisterInfo *info);
HEL_C_LINKAGE HEL_API HelError helWriteFsBase(void *pointer);
HEL_C_LINKAGE HEL_API HelError helReadFsBase(void **pointer);
HEL_C_LINKAGE HEL_API HelError helWriteGsBase(void *pointer);
HEL_C_LINKAGE HEL_API HelError helReadGsBase(void **pointer);
HEL_C_LINKAGE HEL_API HelError helGetCurrentCpu(int *cpu);
HEL_C_LINKAGE HEL_API HelError helGetClock(uint64_t *counter);
HEL_C_LINKAGE HEL_API HelError helSubmitAwaitClock(uint64_t counter, HelHandle queue,
		uintptr_t context, uint64_t *asyncId);
HEL_C_LINKAGE HEL_API HelError helCreateVirtualizedCpu(HelHandle handle,
		HelHandle *out_handle);
HEL_C_LINKAGE HEL_API HelError helRunVirtualizedCpu(HelHandle handle,
		struct HelVmexitReason *reason);
HEL_C_LINKAGE HEL_API HelError helGetRandomBytes(void *buffer, size_t wantedSize,
		size_t *actualSize);
HEL_C_LINKAGE HEL_API HelError helGetAffinity(HelHandle handle, uint8_t *mask,
		size_t size, size_t *actualSize);
HEL_C_LINKAGE HEL_API HelError helSetAffinity(HelHandle handle, uint8_t *mask,
		size_t size);

/* Message passing.  helCreateStream takes its outputs first and its flag
   last, unlike the register order of the system call. */
HEL_C_LINKAGE HEL_API HelError helCreateStream(HelHandle *lane1, HelHandle *lane2,
		uint32_t attach_credentials);
HEL_C_LINKAGE HEL_API HelError helSubmitAsync(HelHandle handle,
		const struct HelAction *actions, size_t count, HelHandle queue,
		uintptr_t context, uint32_t flags);
HEL_C_LINKAGE HEL_API HelError helShutdownLane(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helCreateToken(HelHandle *handle);

/* Futexes, events and IRQs. */
HEL_C_LINKAGE HEL_API HelError helFutexWait(int *pointer, int expected,
		int64_t deadline);
HEL_C_LINKAGE HEL_API HelError helFutexWake(int *pointer);
HEL_C_LINKAGE HEL_API HelError helCreateOneshotEvent(HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helCreateBitsetEvent(HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helRaiseEvent(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helAccessIrq(int number, HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helAcknowledgeIrq(HelHandle handle, uint32_t flags,
		uint64_t sequence);
HEL_C_LINKAGE HEL_API HelError helSubmitAwaitEvent(HelHandle handle,
		uint64_t sequence, HelHandle queue, uintptr_t context, uint64_t *asyncId);
HEL_C_LINKAGE HEL_API HelError helAutomateIrq(HelHandle handle, uint32_t flags,
		HelHandle kernlet);

/* I/O ports and kernlets. */
HEL_C_LINKAGE HEL_API HelError helAccessIo(uintptr_t *port_array, size_t num_ports,
		HelHandle *handle);
HEL_C_LINKAGE HEL_API HelError helEnableIo(HelHandle handle);
HEL_C_LINKAGE HEL_API HelError helEnableFullIo(void);
HEL_C_LINKAGE HEL_API HelError helBindKernlet(HelHandle handle,
		const union HelKernletData *data, size_t numData, HelHandle *boundHandle);

/* ------------------------------------------------------------------------- */
/* Error-checking helpers.  Not system calls: header-only.                    */
/* ------------------------------------------------------------------------- */

/*
 * In C the helpers are static inline, so any number of translation units of
 * one program may use them without a duplicate definition; in C++ they are
 * ordinary inline functions.
 */
#ifdef __cplusplus
#define HEL_INLINE inline
#define HEL_NULLPTR nullptr
#else
#define HEL_INLINE static inline
#define HEL_NULLPTR NULL
#endif

/* English text for a known error code, NULL for anything else (including
   kHelErrRemoteFault, which has no text). */
HEL_C_LINKAGE HEL_INLINE const char *_helErrorString(HelError code) {
	switch (code) {
	case kHelErrNone:                 return "Success";
	case kHelErrBufferTooSmall:       return "Buffer too small";
	case kHelErrBadDescriptor:        return "Illegal descriptor for this operation";
	case kHelErrNoDescriptor:         return "No such descriptor";
	case kHelErrIllegalSyscall:       return "Illegal syscall";
	case kHelErrIllegalArgs:          return "Illegal arguments";
	case kHelErrLaneShutdown:         return "Lane shutdown";
	case kHelErrEndOfLane:            return "End of lane";
	case kHelErrFault:                return "Segfault";
	case kHelErrThreadTerminated:     return "Thread terminated already";
	case kHelErrCancelled:            return "Cancelled";
	case kHelErrTransmissionMismatch: return "Transmission mismatch";
	case kHelErrQueueTooSmall:        return "Buffer too small";
	case kHelErrIllegalState:         return "Illegal state";
	case kHelErrNoHardwareSupport:    return "Missing hardware support for this feature";
	case kHelErrNoMemory:             return "Out of memory";
	case kHelErrUnsupportedOperation: return "Unsupported operation";
	case kHelErrOutOfBounds:          return "Out of bounds";
	case kHelErrDismissed:            return "IPC item dismissed by remote";
	case kHelErrAlreadyExists:        return "Already exists";
	default:                          return HEL_NULLPTR;
	}
}

/* Reports a failed check as three error-level log records (the message, the
   error text, a newline) and panics if fatal is non-zero. */
HEL_C_LINKAGE HEL_INLINE void _helCheckFailed(HelError err, const char *string,
		int fatal) {
	const char *text = _helErrorString(err);
	if (!text)
		text = "(Unexpected error code)";
	helLog(kHelLogSeverityError, string, strlen(string));
	helLog(kHelLogSeverityError, text, strlen(text));
	helLog(kHelLogSeverityError, "\n", 1);
	if (fatal)
		helPanic(HEL_NULLPTR, 0);
}

#undef HEL_INLINE
#undef HEL_NULLPTR

#define HEL_STRINGIFY_AUX(x) #x
#define HEL_STRINGIFY(x) HEL_STRINGIFY_AUX(x)

/* Evaluates expr once; if the HelError it yields is not kHelErrNone, logs
   where and why, then panics (HEL_CHECK) or carries on (HEL_SOFT_CHECK). */
#define HEL_CHECK(expr) \
	do { \
		HelError hel_check_error_ = (expr); \
		if (hel_check_error_ != kHelErrNone) \
			_helCheckFailed(hel_check_error_, "HEL_CHECK failed: " #expr "\n" \
					"    In file " __FILE__ " on line " HEL_STRINGIFY(__LINE__) "\n", 1); \
	} while (0)

#define HEL_SOFT_CHECK(expr) \
	do { \
		HelError hel_check_error_ = (expr); \
		if (hel_check_error_ != kHelErrNone) \
			_helCheckFailed(hel_check_error_, "HEL_SOFT_CHECK failed: " #expr "\n" \
					"    In file " __FILE__ " on line " HEL_STRINGIFY(__LINE__) "\n", 0); \
	} while (0)

#endif /* HEL_H */
