/* Starting helper threads that never take a process's signals. */
#ifndef VMM_UTIL_THREAD_H
#define VMM_UTIL_THREAD_H

#include <pthread.h>

/*
 * pthread_create() with every signal blocked in the new thread, whatever
 * the caller's mask: a signal sent to the process then goes to a thread that
 * waits for it (vmm's signalfd), never kills it from a helper thread
 * started before the stop signals were blocked. 0 or a positive errno.
 */
int thread_start_quiet(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
