/* Helper threads with all signals blocked (util/thread.h). */
#include <signal.h>

#include "util/thread.h"

int thread_start_quiet(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	/* A new thread inherits its creator's mask: block all, create, restore. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
