/*
 * The two orderings the emulator needs on memory it shares with programs.
 * Every call site says in a comment what it orders.
 */
#ifndef HH_BARRIER_H
#define HH_BARRIER_H

#define hh_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define hh_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define hh_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)

#endif
