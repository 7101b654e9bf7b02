/*
 * The VMM's event loop: epoll over file descriptors (console input, signals,
 * stop requests, later device backends), each with a callback. One thread
 * runs it; vCPU threads never do.
 */
#ifndef VMM_UTIL_EVENT_LOOP_H
#define VMM_UTIL_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *opaque, uint32_t events);

struct event_handler;

struct event_loop {
	int epfd;
	struct event_handler *handlers;	/* a list, for removal and freeing */
	bool stop;
};

int event_loop_init(struct event_loop *el);
void event_loop_free(struct event_loop *el);

/* Watch fd for events (EPOLLIN, ...); 0 or a negative errno. */
int event_loop_add(struct event_loop *el, int fd, uint32_t events,
		   event_fn fn, void *opaque);
/* Change the events watched on fd (0 pauses it); 0 or a negative errno. */
int event_loop_set_events(struct event_loop *el, int fd, uint32_t events);
/* Stop watching fd; safe from inside its own callback. */
void event_loop_del(struct event_loop *el, int fd);

/* Dispatch events until event_loop_quit(); 0 or a negative errno. */
int event_loop_run(struct event_loop *el);
/*
 * One round: wait up to timeout_ms (-1: forever) and dispatch what came.
 * The number of events dispatched, or a negative errno. For tests.
 */
int event_loop_run_once(struct event_loop *el, int timeout_ms);
/* From a callback: return from event_loop_run() after this round. */
void event_loop_quit(struct event_loop *el);

#endif
