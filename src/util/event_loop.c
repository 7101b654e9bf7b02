/* epoll with a callback per descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/log.h"
#include "util/event_loop.h"

struct event_handler {
	int fd;
	bool dead;			/* deleted; freed when the loop is freed */
	event_fn fn;
	void *opaque;
	struct event_handler *next;
};

int event_loop_init(struct event_loop *el)
{
	el->handlers = NULL;
	el->stop = false;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	return el->epfd < 0 ? -errno : 0;
}

void event_loop_free(struct event_loop *el)
{
	struct event_handler *h, *next;

	for (h = el->handlers; h; h = next) {
		next = h->next;
		free(h);
	}
	el->handlers = NULL;
	if (el->epfd >= 0)
		close(el->epfd);
	el->epfd = -1;
}

int event_loop_add(struct event_loop *el, int fd, uint32_t events,
		   event_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct event_handler *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	ev.data.ptr = h;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		free(h);
		return ret;
	}
	h->next = el->handlers;
	el->handlers = h;
	return 0;
}

void event_loop_del(struct event_loop *el, int fd)
{
	for (struct event_handler *h = el->handlers; h; h = h->next) {
		if (h->fd == fd && !h->dead) {
			epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
			/* Events of this round may still name it: keep it, dead. */
			h->dead = true;
			return;
		}
	}
}

int event_loop_set_events(struct event_loop *el, int fd, uint32_t events)
{
	for (struct event_handler *h = el->handlers; h; h = h->next) {
		if (h->fd == fd && !h->dead) {
			struct epoll_event ev = { .events = events, .data.ptr = h };

			return epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
		}
	}
	return -ENOENT;
}

/* Free handlers deleted during the last round: no event can name them now. */
static void event_loop_reap(struct event_loop *el)
{
	struct event_handler **pp = &el->handlers;

	while (*pp) {
		struct event_handler *h = *pp;

		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

void event_loop_quit(struct event_loop *el)
{
	el->stop = true;
}

int event_loop_run_once(struct event_loop *el, int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	event_loop_reap(el);
	n = epoll_wait(el->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct event_handler *h = evs[i].data.ptr;

		if (!h->dead)
			h->fn(h->opaque, evs[i].events);
	}
	return n;
}

int event_loop_run(struct event_loop *el)
{
	el->stop = false;
	while (!el->stop) {
		int n = event_loop_run_once(el, -1);

		if (n < 0) {
			pr_err("epoll_wait: %s", strerror(-n));
			return n;
		}
	}
	return 0;
}
