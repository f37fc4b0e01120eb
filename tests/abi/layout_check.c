/*
 * Compile-time check of include/hel.h against hel-spec/ABI.md.
 *
 * Every assertion restates a fact of ABI.md (x86-64, LP64): the value of each
 * constant, the size and alignment of each structure, the offset, size and
 * type of each field, and the type of each function.  The file has no code;
 * compiling it is the test:
 *
 *     cc -std=c17 -Wall -Wextra -Werror -pedantic -fsyntax-only -Iinclude \
 *         tests/abi/layout_check.c
 */
#include "hel.h"

#include <stddef.h>
#include <stdint.h>

/* The value (and, through the comparison, the existence) of a constant. */
#define CHECK_VALUE(name, value) \
	_Static_assert((name) == (value), #name " == " #value)

/* Size and alignment of a complete type. */
#define CHECK_TYPE(T, size, align) \
	_Static_assert(sizeof(T) == (size), "sizeof(" #T ") == " #size); \
	_Static_assert(_Alignof(T) == (align), "_Alignof(" #T ") == " #align)

/* Offset, size and exact type of a scalar or structure field. */
#define CHECK_FIELD(T, field, offset, size, ftype) \
	_Static_assert(offsetof(T, field) == (offset), \
			"offsetof(" #T ", " #field ") == " #offset); \
	_Static_assert(sizeof(((T *)0)->field) == (size), \
			"sizeof(" #T "." #field ") == " #size); \
	_Static_assert(_Generic(&((T *)0)->field, ftype *: 1, default: 0), \
			"type of " #T "." #field " is " #ftype)

/* Offset, size and element type of a fixed-size array field. */
#define CHECK_ARRAY(T, field, offset, etype, count) \
	_Static_assert(offsetof(T, field) == (offset), \
			"offsetof(" #T ", " #field ") == " #offset); \
	_Static_assert(sizeof(((T *)0)->field) == sizeof(etype) * (count), \
			"sizeof(" #T "." #field ")"); \
	_Static_assert(_Generic(&((T *)0)->field, etype (*)[count]: 1, default: 0), \
			"type of " #T "." #field " is " #etype "[" #count "]")

/* Offset and element type of a flexible array member, which must end T. */
#define CHECK_FLEX(T, field, offset, etype) \
	_Static_assert(offsetof(T, field) == (offset), \
			"offsetof(" #T ", " #field ") == " #offset); \
	_Static_assert(sizeof(T) == (offset), #T " ends with " #field); \
	_Static_assert(_Generic(((T *)0)->field, etype *: 1, default: 0), \
			"type of " #T "." #field " is " #etype "[]")

/* The type of a function (parameter names and top-level qualifiers of
   parameters are not part of it). */
#define CHECK_PROTO(fn, ...) \
	_Static_assert(_Generic(&fn, __VA_ARGS__: 1, default: 0), \
			"prototype of " #fn)

_Static_assert(sizeof(void *) == 8 && sizeof(long) == 8 && sizeof(int) == 4,
		"ABI.md describes an LP64 target");

/* ------------------------------------------------------------------------- */
/* 1. Typedefs                                                                */
/* ------------------------------------------------------------------------- */

_Static_assert(_Generic((HelError)0, int: 1, default: 0), "HelError is int");
_Static_assert(_Generic((HelAbi)0, int: 1, default: 0), "HelAbi is int");
_Static_assert(_Generic((HelHandle)0, int64_t: 1, default: 0), "HelHandle is int64_t");
_Static_assert(_Generic((HelNanotime)0, int64_t: 1, default: 0),
		"HelNanotime is int64_t");

/* ------------------------------------------------------------------------- */
/* 2.1 System call numbers                                                    */
/* ------------------------------------------------------------------------- */

CHECK_VALUE(kHelCallLog, 1);
CHECK_VALUE(kHelCallNop, 2);
CHECK_VALUE(kHelCallSubmitAsyncNop, 3);
CHECK_VALUE(kHelCallPanic, 10);
CHECK_VALUE(kHelCallAccessIo, 11);
CHECK_VALUE(kHelCallEnableIo, 12);
CHECK_VALUE(kHelCallAccessIrq, 14);
CHECK_VALUE(kHelCallCloseDescriptor, 21);
CHECK_VALUE(kHelCallMemoryInfo, 26);
CHECK_VALUE(kHelCallCreateSpace, 27);
CHECK_VALUE(kHelCallAccessPhysical, 30);
CHECK_VALUE(kHelCallDescriptorInfo, 32);
CHECK_VALUE(kHelCallYield, 34);
CHECK_VALUE(kHelCallEnableFullIo, 35);
CHECK_VALUE(kHelCallUnmapMemory, 36);
CHECK_VALUE(kHelCallCreateVirtualizedCpu, 37);
CHECK_VALUE(kHelCallRunVirtualizedCpu, 38);
CHECK_VALUE(kHelCallCopyOnWrite, 39);
CHECK_VALUE(kHelCallForkMemory, 40);
CHECK_VALUE(kHelCallWriteFsBase, 41);
CHECK_VALUE(kHelCallGetClock, 42);
CHECK_VALUE(kHelCallPointerPhysical, 43);
CHECK_VALUE(kHelCallMapMemory, 44);
CHECK_VALUE(kHelCallCreateIndirectMemory, 45);
CHECK_VALUE(kHelCallSubmitManageMemory, 46);
CHECK_VALUE(kHelCallUpdateMemory, 47);
CHECK_VALUE(kHelCallSubmitLockMemoryView, 48);
CHECK_VALUE(kHelCallLoadahead, 49);
CHECK_VALUE(kHelCallCreateVirtualizedSpace, 50);
CHECK_VALUE(kHelCallAllocateMemory, 51);
CHECK_VALUE(kHelCallAlterMemoryIndirection, 52);
CHECK_VALUE(kHelCallSubmitSynchronizeSpace, 53);
CHECK_VALUE(kHelCallWriteGsBase, 54);
CHECK_VALUE(kHelCallReadFsBase, 55);
CHECK_VALUE(kHelCallReadGsBase, 56);
CHECK_VALUE(kHelCallGetCurrentCpu, 57);
CHECK_VALUE(kHelCallResume, 61);
CHECK_VALUE(kHelCallCreateUniverse, 62);
CHECK_VALUE(kHelCallCreateManagedMemory, 64);
CHECK_VALUE(kHelCallTransferDescriptor, 66);
CHECK_VALUE(kHelCallCreateThread, 67);
CHECK_VALUE(kHelCallCreateStream, 68);
CHECK_VALUE(kHelCallFutexWake, 71);
CHECK_VALUE(kHelCallFutexWait, 73);
CHECK_VALUE(kHelCallSubmitObserve, 74);
CHECK_VALUE(kHelCallLoadRegisters, 75);
CHECK_VALUE(kHelCallStoreRegisters, 76);
CHECK_VALUE(kHelCallSubmitReadMemory, 77);
CHECK_VALUE(kHelCallSubmitWriteMemory, 78);
CHECK_VALUE(kHelCallSubmitAsync, 79);
CHECK_VALUE(kHelCallSubmitAwaitClock, 80);
CHECK_VALUE(kHelCallAcknowledgeIrq, 81);
CHECK_VALUE(kHelCallSubmitAwaitEvent, 82);
CHECK_VALUE(kHelCallResizeMemory, 83);
CHECK_VALUE(kHelCallGetCredentials, 84);
CHECK_VALUE(kHelCallSetPriority, 85);
CHECK_VALUE(kHelCallInterruptThread, 86);
CHECK_VALUE(kHelCallKillThread, 87);
CHECK_VALUE(kHelCallCreateSliceView, 88);
CHECK_VALUE(kHelCallCreateQueue, 89);
CHECK_VALUE(kHelCallShutdownLane, 91);
CHECK_VALUE(kHelCallCancelAsync, 92);
CHECK_VALUE(kHelCallBindKernlet, 93);
CHECK_VALUE(kHelCallAutomateIrq, 94);
CHECK_VALUE(kHelCallQueryThreadStats, 95);
CHECK_VALUE(kHelCallCreateOneshotEvent, 96);
CHECK_VALUE(kHelCallCreateBitsetEvent, 97);
CHECK_VALUE(kHelCallRaiseEvent, 98);
CHECK_VALUE(kHelCallSubmitProtectMemory, 99);
CHECK_VALUE(kHelCallSetAffinity, 100);
CHECK_VALUE(kHelCallGetRandomBytes, 101);
CHECK_VALUE(kHelCallQueryRegisterInfo, 102);
CHECK_VALUE(kHelCallGetAffinity, 103);
CHECK_VALUE(kHelCallCreateToken, 104);
CHECK_VALUE(kHelCallSuper, 0x80000000u);
CHECK_VALUE(kHelNumCalls, 105);

/* kHelCallSuper does not fit in int: the enumeration is unsigned. */
_Static_assert(kHelCallSuper > 0, "kHelCallSuper is unsigned");
_Static_assert(sizeof(kHelCallSuper) == 4, "kHelCallSuper is 4 bytes");

/* ------------------------------------------------------------------------- */
/* 2.2 Error codes                                                            */
/* ------------------------------------------------------------------------- */

CHECK_VALUE(kHelErrNone, 0);
CHECK_VALUE(kHelErrBufferTooSmall, 1);
CHECK_VALUE(kHelErrBadDescriptor, 2);
CHECK_VALUE(kHelErrNoDescriptor, 4);
CHECK_VALUE(kHelErrIllegalSyscall, 5);
CHECK_VALUE(kHelErrIllegalArgs, 7);
CHECK_VALUE(kHelErrLaneShutdown, 8);
CHECK_VALUE(kHelErrEndOfLane, 9);
CHECK_VALUE(kHelErrFault, 10);
CHECK_VALUE(kHelErrThreadTerminated, 11);
CHECK_VALUE(kHelErrCancelled, 12);
CHECK_VALUE(kHelErrTransmissionMismatch, 13);
CHECK_VALUE(kHelErrQueueTooSmall, 14);
CHECK_VALUE(kHelErrIllegalState, 15);
CHECK_VALUE(kHelErrNoHardwareSupport, 16);
CHECK_VALUE(kHelErrNoMemory, 17);
CHECK_VALUE(kHelErrUnsupportedOperation, 18);
CHECK_VALUE(kHelErrOutOfBounds, 19);
CHECK_VALUE(kHelErrDismissed, 20);
CHECK_VALUE(kHelErrRemoteFault, 21);
CHECK_VALUE(kHelErrAlreadyExists, 22);

/* ------------------------------------------------------------------------- */
/* 2.3 - 2.5 Special handles, actions, item flags                             */
/* ------------------------------------------------------------------------- */

CHECK_VALUE(kHelNullHandle, 0);
CHECK_VALUE(kHelThisUniverse, -1);
CHECK_VALUE(kHelThisThread, -2);
CHECK_VALUE(kHelZeroMemory, -3);
CHECK_VALUE(kHelWaitInfinite, -1);
CHECK_VALUE(kHelAbiSystemV, 1);
/* Negative handles stay negative when widened to HelHandle. */
_Static_assert((HelHandle)kHelThisThread == -2, "kHelThisThread as HelHandle");
_Static_assert((int64_t)kHelWaitInfinite == -1, "kHelWaitInfinite as int64_t");

CHECK_VALUE(kHelActionNone, 0);
CHECK_VALUE(kHelActionSendFromBuffer, 1);
CHECK_VALUE(kHelActionPushDescriptor, 2);
CHECK_VALUE(kHelActionRecvToBuffer, 3);
CHECK_VALUE(kHelActionPullDescriptor, 4);
CHECK_VALUE(kHelActionOffer, 5);
CHECK_VALUE(kHelActionAccept, 6);
CHECK_VALUE(kHelActionRecvInline, 7);
CHECK_VALUE(kHelActionImbueCredentials, 8);
CHECK_VALUE(kHelActionExtractCredentials, 9);
CHECK_VALUE(kHelActionSendFromBufferSg, 10);
CHECK_VALUE(kHelActionDismiss, 11);

CHECK_VALUE(kHelItemChain, 1);
CHECK_VALUE(kHelItemAncillary, 2);
CHECK_VALUE(kHelItemWantLane, 0x10000);

/* ------------------------------------------------------------------------- */
/* 2.6 Memory flags                                                           */
/* ------------------------------------------------------------------------- */

CHECK_VALUE(kHelAllocOnDemand, 1);
CHECK_VALUE(kHelAllocContinuous, 4);
CHECK_VALUE(kHelManagedReadahead, 1);
CHECK_VALUE(kHelManageInitialize, 1);
CHECK_VALUE(kHelManageWriteback, 2);
CHECK_VALUE(kHelMapDontRequireBacking, 0x80);
CHECK_VALUE(kHelMapProtRead, 0x100);
CHECK_VALUE(kHelMapProtWrite, 0x200);
CHECK_VALUE(kHelMapProtExecute, 0x400);
CHECK_VALUE(kHelMapFixed, 0x800);
CHECK_VALUE(kHelMapFixedNoReplace, 0x1000);
CHECK_VALUE(kHelSliceCacheWriteCombine, 1);

/* The enumerations that ABI.md names exist under those tags. */
_Static_assert(sizeof(enum HelAllocFlags) == 4, "enum HelAllocFlags");
_Static_assert(sizeof(enum HelManagedFlags) == 4, "enum HelManagedFlags");
_Static_assert(sizeof(enum HelManageRequests) == 4, "enum HelManageRequests");
_Static_assert(sizeof(enum HelMapFlags) == 4, "enum HelMapFlags");
_Static_assert(sizeof(enum HelSliceFlags) == 4, "enum HelSliceFlags");
_Static_assert(sizeof(enum HelThreadFlags) == 4, "enum HelThreadFlags");
_Static_assert(sizeof(enum HelObservation) == 4, "enum HelObservation");
_Static_assert(sizeof(enum HelRegisterSets) == 4, "enum HelRegisterSets");
_Static_assert(sizeof(enum HelAckFlags) == 4, "enum HelAckFlags");
_Static_assert(sizeof(enum HelLogSeverity) == 4, "enum HelLogSeverity");

/* ------------------------------------------------------------------------- */
/* 2.7 Thread flags, observations, register sets                              */
/* ------------------------------------------------------------------------- */

CHECK_VALUE(kHelThreadStopped, 1);

CHECK_VALUE(kHelObserveNull, 0);
CHECK_VALUE(kHelObserveBreakpoint, 1);
CHECK_VALUE(kHelObservePageFault, 2);
CHECK_VALUE(kHelObservePanic, 3);
CHECK_VALUE(kHelObserveInterrupt, 4);
CHECK_VALUE(kHelObserveGeneralFault, 5);
CHECK_VALUE(kHelObserveIllegalInstruction, 6);
CHECK_VALUE(kHelObserveDivByZero, 7);
CHECK_VALUE(kHelObserveSuperCall, 0x80000000u);
_Static_assert(kHelObserveSuperCall > 0, "kHelObserveSuperCall is unsigned");

CHECK_VALUE(kHelRegsProgram, 1);
CHECK_VALUE(kHelRegsGeneral, 2);
CHECK_VALUE(kHelRegsThread, 3);
CHECK_VALUE(kHelRegsDebug, 4);
CHECK_VALUE(kHelRegsVirtualization, 5);
CHECK_VALUE(kHelRegsSimd, 6);
CHECK_VALUE(kHelRegsSignal, 7);

/* ------------------------------------------------------------------------- */
/* 2.8 x86-64 register indices and system-call registers                      */
/* ------------------------------------------------------------------------- */

#if defined(__x86_64__)
_Static_assert(sizeof(enum HelRegisterIndex) == 4, "enum HelRegisterIndex");
_Static_assert(sizeof(enum HelSyscallArgs) == 4, "enum HelSyscallArgs");

CHECK_VALUE(kHelRegRax, 0);
CHECK_VALUE(kHelRegRbx, 1);
CHECK_VALUE(kHelRegRcx, 2);
CHECK_VALUE(kHelRegRdx, 3);
CHECK_VALUE(kHelRegRdi, 4);
CHECK_VALUE(kHelRegRsi, 5);
CHECK_VALUE(kHelRegR8, 6);
CHECK_VALUE(kHelRegR9, 7);
CHECK_VALUE(kHelRegR10, 8);
CHECK_VALUE(kHelRegR11, 9);
CHECK_VALUE(kHelRegR12, 10);
CHECK_VALUE(kHelRegR13, 11);
CHECK_VALUE(kHelRegR14, 12);
CHECK_VALUE(kHelRegR15, 13);
CHECK_VALUE(kHelRegRbp, 14);
CHECK_VALUE(kHelNumGprs, 15);
CHECK_VALUE(kHelRegIp, 0);
CHECK_VALUE(kHelRegSp, 1);

CHECK_VALUE(kHelRegNumber, 4);
CHECK_VALUE(kHelRegError, 4);
CHECK_VALUE(kHelRegArg0, 5);
CHECK_VALUE(kHelRegArg1, 3);
CHECK_VALUE(kHelRegArg2, 0);
CHECK_VALUE(kHelRegArg3, 6);
CHECK_VALUE(kHelRegArg4, 7);
CHECK_VALUE(kHelRegArg5, 8);
CHECK_VALUE(kHelRegArg6, 10);
CHECK_VALUE(kHelRegArg7, 11);
CHECK_VALUE(kHelRegArg8, 12);
CHECK_VALUE(kHelRegOut0, 5);
CHECK_VALUE(kHelRegOut1, 3);
#endif

/* ------------------------------------------------------------------------- */
/* 2.9 - 2.12 Queue bits, IRQ acknowledgement, VM exits, log severities       */
/* ------------------------------------------------------------------------- */

/* The queue bits are static const int objects, which C does not accept in
   constant expressions: check their type here, their values in
   header_cxx.cpp. */
_Static_assert(_Generic(&kHelHeadMask, const int *: 1, default: 0), "kHelHeadMask");
_Static_assert(_Generic(&kHelHeadWaiters, const int *: 1, default: 0), "kHelHeadWaiters");
_Static_assert(_Generic(&kHelProgressMask, const int *: 1, default: 0), "kHelProgressMask");
_Static_assert(_Generic(&kHelProgressWaiters, const int *: 1, default: 0),
		"kHelProgressWaiters");
_Static_assert(_Generic(&kHelProgressDone, const int *: 1, default: 0), "kHelProgressDone");

CHECK_VALUE(kHelAckKick, 1);
CHECK_VALUE(kHelAckAcknowledge, 2);
CHECK_VALUE(kHelAckNack, 3);
CHECK_VALUE(kHelAckClear, 0x100);

CHECK_VALUE(kHelVmexitHlt, 0);
CHECK_VALUE(kHelVmexitTranslationFault, 1);
CHECK_VALUE(kHelVmexitError, -1);
CHECK_VALUE(kHelVmexitUnknownPlatformSpecificExitCode, -2);
_Static_assert((uint32_t)kHelVmexitError == 0xFFFFFFFFu, "kHelVmexitError as uint32_t");
_Static_assert((uint32_t)kHelVmexitUnknownPlatformSpecificExitCode == 0xFFFFFFFEu,
		"kHelVmexitUnknownPlatformSpecificExitCode as uint32_t");

CHECK_VALUE(kHelLogSeverityEmergency, 0);
CHECK_VALUE(kHelLogSeverityAlert, 1);
CHECK_VALUE(kHelLogSeverityCritical, 2);
CHECK_VALUE(kHelLogSeverityError, 3);
CHECK_VALUE(kHelLogSeverityWarning, 4);
CHECK_VALUE(kHelLogSeverityNotice, 5);
CHECK_VALUE(kHelLogSeverityInfo, 6);
CHECK_VALUE(kHelLogSeverityDebug, 7);

/* ------------------------------------------------------------------------- */
/* 3.1 Queue structures                                                       */
/* ------------------------------------------------------------------------- */

CHECK_TYPE(struct HelQueueParameters, 24, 8);
CHECK_FIELD(struct HelQueueParameters, flags, 0, 4, uint32_t);
CHECK_FIELD(struct HelQueueParameters, ringShift, 4, 4, unsigned int);
CHECK_FIELD(struct HelQueueParameters, numChunks, 8, 4, unsigned int);
CHECK_FIELD(struct HelQueueParameters, chunkSize, 16, 8, size_t);

CHECK_TYPE(struct HelQueue, 8, 4);
CHECK_FIELD(struct HelQueue, headFutex, 0, 4, int);
CHECK_ARRAY(struct HelQueue, padding, 4, char, 4);
CHECK_FLEX(struct HelQueue, indexQueue, 8, int);

CHECK_TYPE(struct HelChunk, 8, 4);
CHECK_FIELD(struct HelChunk, progressFutex, 0, 4, int);
CHECK_ARRAY(struct HelChunk, padding, 4, char, 4);
CHECK_FLEX(struct HelChunk, buffer, 8, char);

CHECK_TYPE(struct HelElement, 16, 8);
CHECK_FIELD(struct HelElement, length, 0, 4, unsigned int);
CHECK_FIELD(struct HelElement, reserved, 4, 4, unsigned int);
CHECK_FIELD(struct HelElement, context, 8, 8, void *);

/* ------------------------------------------------------------------------- */
/* 3.2 Result structures                                                      */
/* ------------------------------------------------------------------------- */

CHECK_TYPE(struct HelSimpleResult, 8, 4);
CHECK_FIELD(struct HelSimpleResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelSimpleResult, reserved, 4, 4, int);

CHECK_TYPE(struct HelCredentialsResult, 24, 4);
CHECK_FIELD(struct HelCredentialsResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelCredentialsResult, reserved, 4, 4, int);
CHECK_ARRAY(struct HelCredentialsResult, credentials, 8, char, 16);

CHECK_TYPE(struct HelManageResult, 24, 8);
CHECK_FIELD(struct HelManageResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelManageResult, type, 4, 4, int);
CHECK_FIELD(struct HelManageResult, offset, 8, 8, uintptr_t);
CHECK_FIELD(struct HelManageResult, length, 16, 8, size_t);

CHECK_TYPE(struct HelObserveResult, 16, 8);
CHECK_FIELD(struct HelObserveResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelObserveResult, observation, 4, 4, unsigned int);
CHECK_FIELD(struct HelObserveResult, sequence, 8, 8, uint64_t);

CHECK_TYPE(struct HelInlineResult, 16, 8);
CHECK_FIELD(struct HelInlineResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelInlineResult, reserved, 4, 4, int);
CHECK_FIELD(struct HelInlineResult, length, 8, 8, size_t);
CHECK_FLEX(struct HelInlineResult, data, 16, char);

CHECK_TYPE(struct HelInlineResultNoFlex, 16, 8);
CHECK_FIELD(struct HelInlineResultNoFlex, error, 0, 4, HelError);
CHECK_FIELD(struct HelInlineResultNoFlex, reserved, 4, 4, int);
CHECK_FIELD(struct HelInlineResultNoFlex, length, 8, 8, size_t);

CHECK_TYPE(struct HelLengthResult, 16, 8);
CHECK_FIELD(struct HelLengthResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelLengthResult, reserved, 4, 4, int);
CHECK_FIELD(struct HelLengthResult, length, 8, 8, size_t);

CHECK_TYPE(struct HelHandleResult, 16, 8);
CHECK_FIELD(struct HelHandleResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelHandleResult, reserved, 4, 4, int);
CHECK_FIELD(struct HelHandleResult, handle, 8, 8, HelHandle);

CHECK_TYPE(struct HelEventResult, 16, 8);
CHECK_FIELD(struct HelEventResult, error, 0, 4, HelError);
CHECK_FIELD(struct HelEventResult, bitset, 4, 4, uint32_t);
CHECK_FIELD(struct HelEventResult, sequence, 8, 8, uint64_t);

/* ------------------------------------------------------------------------- */
/* 3.3 IPC structures                                                         */
/* ------------------------------------------------------------------------- */

CHECK_TYPE(struct HelAction, 32, 8);
CHECK_FIELD(struct HelAction, type, 0, 4, int);
CHECK_FIELD(struct HelAction, flags, 4, 4, uint32_t);
CHECK_FIELD(struct HelAction, buffer, 8, 8, void *);
CHECK_FIELD(struct HelAction, length, 16, 8, size_t);
CHECK_FIELD(struct HelAction, handle, 24, 8, HelHandle);

CHECK_TYPE(struct HelSgItem, 16, 8);
CHECK_FIELD(struct HelSgItem, buffer, 0, 8, void *);
CHECK_FIELD(struct HelSgItem, length, 8, 8, size_t);

/* ------------------------------------------------------------------------- */
/* 3.4 Other structures                                                       */
/* ------------------------------------------------------------------------- */

CHECK_TYPE(struct HelDescriptorInfo, 4, 4);
CHECK_FIELD(struct HelDescriptorInfo, type, 0, 4, int);

CHECK_TYPE(struct HelAllocRestrictions, 4, 4);
CHECK_FIELD(struct HelAllocRestrictions, addressBits, 0, 4, int);

CHECK_TYPE(struct HelRegisterInfo, 4, 4);
CHECK_FIELD(struct HelRegisterInfo, setSize, 0, 4, int);

CHECK_TYPE(struct HelThreadStats, 8, 8);
CHECK_FIELD(struct HelThreadStats, userTime, 0, 8, uint64_t);

CHECK_TYPE(struct HelVmexitReason, 24, 8);
CHECK_FIELD(struct HelVmexitReason, exitReason, 0, 4, uint32_t);
CHECK_FIELD(struct HelVmexitReason, code, 4, 4, uint32_t);
CHECK_FIELD(struct HelVmexitReason, address, 8, 8, size_t);
CHECK_FIELD(struct HelVmexitReason, flags, 16, 8, size_t);

CHECK_TYPE(union HelKernletData, 8, 8);
CHECK_FIELD(union HelKernletData, handle, 0, 8, HelHandle);

CHECK_TYPE(struct HelX86DescriptorTable, 16, 8);
CHECK_FIELD(struct HelX86DescriptorTable, base, 0, 8, uint64_t);
CHECK_FIELD(struct HelX86DescriptorTable, limit, 8, 2, uint16_t);

CHECK_TYPE(struct HelX86SegmentRegister, 24, 8);
CHECK_FIELD(struct HelX86SegmentRegister, base, 0, 8, uint64_t);
CHECK_FIELD(struct HelX86SegmentRegister, limit, 8, 4, uint32_t);
CHECK_FIELD(struct HelX86SegmentRegister, selector, 12, 2, uint16_t);
CHECK_FIELD(struct HelX86SegmentRegister, type, 14, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, present, 15, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, dpl, 16, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, db, 17, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, s, 18, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, l, 19, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, g, 20, 1, uint8_t);
CHECK_FIELD(struct HelX86SegmentRegister, avl, 21, 1, uint8_t);

CHECK_TYPE(struct HelX86VirtualizationRegs, 424, 8);
CHECK_FIELD(struct HelX86VirtualizationRegs, rax, 0, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rbx, 8, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rcx, 16, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rdx, 24, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rsi, 32, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rdi, 40, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rbp, 48, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r8, 56, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r9, 64, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r10, 72, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r11, 80, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r12, 88, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r13, 96, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r14, 104, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, r15, 112, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rsp, 120, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rip, 128, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, rflags, 136, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, cs, 144, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, ds, 168, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, es, 192, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, fs, 216, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, gs, 240, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, ss, 264, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, tr, 288, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, ldt, 312, 24, struct HelX86SegmentRegister);
CHECK_FIELD(struct HelX86VirtualizationRegs, gdt, 336, 16, struct HelX86DescriptorTable);
CHECK_FIELD(struct HelX86VirtualizationRegs, idt, 352, 16, struct HelX86DescriptorTable);
CHECK_FIELD(struct HelX86VirtualizationRegs, cr0, 368, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, cr2, 376, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, cr3, 384, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, cr4, 392, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, cr8, 400, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, efer, 408, 8, uint64_t);
CHECK_FIELD(struct HelX86VirtualizationRegs, apic_base, 416, 8, uint64_t);

/* ------------------------------------------------------------------------- */
/* 4. Function types (all 74, in the order of ABI.md 4.1 - 4.8)               */
/* ------------------------------------------------------------------------- */

CHECK_PROTO(helLog, HelError (*)(const enum HelLogSeverity, const char *, size_t));
CHECK_PROTO(helPanic, void (*)(const char *, size_t));
CHECK_PROTO(helNop, HelError (*)(void));
CHECK_PROTO(helSubmitAsyncNop, HelError (*)(HelHandle, uintptr_t));
CHECK_PROTO(helCreateUniverse, HelError (*)(HelHandle *));
CHECK_PROTO(helTransferDescriptor, HelError (*)(HelHandle, HelHandle, HelHandle *));
CHECK_PROTO(helDescriptorInfo, HelError (*)(HelHandle, struct HelDescriptorInfo *));
CHECK_PROTO(helGetCredentials, HelError (*)(HelHandle, uint32_t, char *));
CHECK_PROTO(helCloseDescriptor, HelError (*)(HelHandle, HelHandle));
CHECK_PROTO(helCreateQueue, HelError (*)(const struct HelQueueParameters *, HelHandle *));
CHECK_PROTO(helCancelAsync, HelError (*)(HelHandle, uint64_t));
CHECK_PROTO(helAllocateMemory, HelError (*)(size_t, uint32_t, const struct HelAllocRestrictions *, HelHandle *));
CHECK_PROTO(helResizeMemory, HelError (*)(HelHandle, size_t));
CHECK_PROTO(helCreateManagedMemory, HelError (*)(size_t, uint32_t, HelHandle *, HelHandle *));
CHECK_PROTO(helCopyOnWrite, HelError (*)(HelHandle, uintptr_t, size_t, HelHandle *));
CHECK_PROTO(helAccessPhysical, HelError (*)(uintptr_t, size_t, HelHandle *));
CHECK_PROTO(helCreateIndirectMemory, HelError (*)(size_t, HelHandle *));
CHECK_PROTO(helAlterMemoryIndirection, HelError (*)(HelHandle, size_t, HelHandle, uintptr_t, size_t));
CHECK_PROTO(helCreateSliceView, HelError (*)(HelHandle, uintptr_t, size_t, uint32_t, HelHandle *));
CHECK_PROTO(helForkMemory, HelError (*)(HelHandle, HelHandle *));
CHECK_PROTO(helCreateSpace, HelError (*)(HelHandle *));
CHECK_PROTO(helMapMemory, HelError (*)(HelHandle, HelHandle, void *, uintptr_t, size_t, uint32_t, void **));
CHECK_PROTO(helSubmitProtectMemory, HelError (*)(HelHandle, void *, size_t, uint32_t, HelHandle, uintptr_t));
CHECK_PROTO(helSubmitSynchronizeSpace, HelError (*)(HelHandle, void *, size_t, HelHandle, uintptr_t));
CHECK_PROTO(helUnmapMemory, HelError (*)(HelHandle, void *, size_t));
CHECK_PROTO(helPointerPhysical, HelError (*)(const void *, uintptr_t *));
CHECK_PROTO(helSubmitReadMemory, HelError (*)(HelHandle, uintptr_t, size_t, void *, HelHandle, uintptr_t));
CHECK_PROTO(helSubmitWriteMemory, HelError (*)(HelHandle, uintptr_t, size_t, const void *, HelHandle, uintptr_t));
CHECK_PROTO(helMemoryInfo, HelError (*)(HelHandle, size_t *));
CHECK_PROTO(helSubmitManageMemory, HelError (*)(HelHandle, HelHandle, uintptr_t));
CHECK_PROTO(helUpdateMemory, HelError (*)(HelHandle, int, uintptr_t, size_t));
CHECK_PROTO(helSubmitLockMemoryView, HelError (*)(HelHandle, uintptr_t, size_t, HelHandle, uintptr_t));
CHECK_PROTO(helLoadahead, HelError (*)(HelHandle, uintptr_t, size_t));
CHECK_PROTO(helCreateVirtualizedSpace, HelError (*)(HelHandle *));
CHECK_PROTO(helCreateThread, HelError (*)(HelHandle, HelHandle, HelAbi, void *, void *, uint32_t, HelHandle *));
CHECK_PROTO(helQueryThreadStats, HelError (*)(HelHandle, struct HelThreadStats *));
CHECK_PROTO(helSetPriority, HelError (*)(HelHandle, int));
CHECK_PROTO(helYield, HelError (*)(void));
CHECK_PROTO(helSubmitObserve, HelError (*)(HelHandle, uint64_t, HelHandle, uintptr_t));
CHECK_PROTO(helKillThread, HelError (*)(HelHandle));
CHECK_PROTO(helInterruptThread, HelError (*)(HelHandle));
CHECK_PROTO(helResume, HelError (*)(HelHandle));
CHECK_PROTO(helLoadRegisters, HelError (*)(HelHandle, int, void *));
CHECK_PROTO(helStoreRegisters, HelError (*)(HelHandle, int, const void *));
CHECK_PROTO(helQueryRegisterInfo, HelError (*)(int, struct HelRegisterInfo *));
CHECK_PROTO(helWriteFsBase, HelError (*)(void *));
CHECK_PROTO(helReadFsBase, HelError (*)(void **));
CHECK_PROTO(helWriteGsBase, HelError (*)(void *));
CHECK_PROTO(helReadGsBase, HelError (*)(void **));
CHECK_PROTO(helGetCurrentCpu, HelError (*)(int *));
CHECK_PROTO(helGetClock, HelError (*)(uint64_t *));
CHECK_PROTO(helSubmitAwaitClock, HelError (*)(uint64_t, HelHandle, uintptr_t, uint64_t *));
CHECK_PROTO(helCreateVirtualizedCpu, HelError (*)(HelHandle, HelHandle *));
CHECK_PROTO(helRunVirtualizedCpu, HelError (*)(HelHandle, struct HelVmexitReason *));
CHECK_PROTO(helGetRandomBytes, HelError (*)(void *, size_t, size_t *));
CHECK_PROTO(helGetAffinity, HelError (*)(HelHandle, uint8_t *, size_t, size_t *));
CHECK_PROTO(helSetAffinity, HelError (*)(HelHandle, uint8_t *, size_t));
CHECK_PROTO(helCreateStream, HelError (*)(HelHandle *, HelHandle *, uint32_t));
CHECK_PROTO(helSubmitAsync, HelError (*)(HelHandle, const struct HelAction *, size_t, HelHandle, uintptr_t, uint32_t));
CHECK_PROTO(helShutdownLane, HelError (*)(HelHandle));
CHECK_PROTO(helCreateToken, HelError (*)(HelHandle *));
CHECK_PROTO(helFutexWait, HelError (*)(int *, int, int64_t));
CHECK_PROTO(helFutexWake, HelError (*)(int *));
CHECK_PROTO(helCreateOneshotEvent, HelError (*)(HelHandle *));
CHECK_PROTO(helCreateBitsetEvent, HelError (*)(HelHandle *));
CHECK_PROTO(helRaiseEvent, HelError (*)(HelHandle));
CHECK_PROTO(helAccessIrq, HelError (*)(int, HelHandle *));
CHECK_PROTO(helAcknowledgeIrq, HelError (*)(HelHandle, uint32_t, uint64_t));
CHECK_PROTO(helSubmitAwaitEvent, HelError (*)(HelHandle, uint64_t, HelHandle, uintptr_t, uint64_t *));
CHECK_PROTO(helAutomateIrq, HelError (*)(HelHandle, uint32_t, HelHandle));
CHECK_PROTO(helAccessIo, HelError (*)(uintptr_t *, size_t, HelHandle *));
CHECK_PROTO(helEnableIo, HelError (*)(HelHandle));
CHECK_PROTO(helEnableFullIo, HelError (*)(void));
CHECK_PROTO(helBindKernlet, HelError (*)(HelHandle, const union HelKernletData *, size_t, HelHandle *));
/* 4.9 Helpers. */
CHECK_PROTO(_helErrorString, const char *(*)(HelError));
CHECK_PROTO(_helCheckFailed, void (*)(HelError, const char *, int));

/* HEL_STRINGIFY expands its argument first, HEL_STRINGIFY_AUX does not. */
#define LAYOUT_CHECK_FORTY_TWO 42
_Static_assert(sizeof(HEL_STRINGIFY(LAYOUT_CHECK_FORTY_TWO)) == sizeof("42"),
		"HEL_STRINGIFY expands its argument");
_Static_assert(sizeof(HEL_STRINGIFY_AUX(LAYOUT_CHECK_FORTY_TWO))
		== sizeof("LAYOUT_CHECK_FORTY_TWO"), "HEL_STRINGIFY_AUX does not");
