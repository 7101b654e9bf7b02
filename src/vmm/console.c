/* Console backends: stdio (raw terminal), pty, file; input with back-pressure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/console.h"
#include "util/event_loop.h"

static void console_init_fds(struct console *c)
{
	c->in_fd = c->out_fd = c->wake_fd = c->pty_slave = -1;
}

static int console_open_stdio(struct console *c, char *err, size_t errlen)
{
	struct termios t;

	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		t = c->saved;
		cfmakeraw(&t);
		/* Keep output processing off too: the guest sends its own CR LF. */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0) {
			snprintf(err, errlen, "%s: cannot put the terminal in raw mode: %s",
				 c->name, strerror(errno));
			return -errno;
		}
		c->raw = true;
		pr_info("%s: on this terminal; Ctrl-A x quits", c->name);
	}
	return 0;
}

static int console_open_pty(struct console *c, char *err, size_t errlen)
{
	struct termios t;
	int ret;

	c->in_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (c->in_fd < 0 || grantpt(c->in_fd) < 0 || unlockpt(c->in_fd) < 0 ||
	    ptsname_r(c->in_fd, c->pty_path, sizeof(c->pty_path)) != 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create a pseudo-terminal: %s",
			 c->name, strerror(errno));
		return ret;
	}
	c->out_fd = c->in_fd;
	c->pty_slave = open(c->pty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_slave >= 0 && tcgetattr(c->pty_slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->pty_slave, TCSANOW, &t);
	}
	fprintf(stderr, "%s: %s: %s\n", log_progname(), c->name, c->pty_path);
	return 0;
}

static int console_open_file(struct console *c, const char *path, char *err,
			     size_t errlen)
{
	c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out_fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s: %s: %s", c->name, path, strerror(errno));
		return ret;
	}
	return 0;
}

int console_open(struct console *c, const struct console_config *cfg,
		 const char *name, char *err, size_t errlen)
{
	int ret = 0;

	memset(c, 0, sizeof(*c));
	console_init_fds(c);
	c->kind = cfg->kind;
	c->name = name;
	switch (cfg->kind) {
	case CONSOLE_NONE:
		return 0;
	case CONSOLE_STDIO:
		ret = console_open_stdio(c, err, errlen);
		break;
	case CONSOLE_PTY:
		ret = console_open_pty(c, err, errlen);
		break;
	case CONSOLE_FILE:
		ret = console_open_file(c, cfg->path, err, errlen);
		break;
	}
	if (!ret && c->in_fd >= 0) {
		c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->wake_fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: eventfd: %s", name, strerror(errno));
		}
	}
	if (ret)
		console_close(c);
	return ret;
}

void console_close(struct console *c)
{
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->raw = false;
	if (c->kind != CONSOLE_STDIO) {
		if (c->out_fd >= 0 && c->out_fd != c->in_fd)
			close(c->out_fd);
		if (c->in_fd >= 0)
			close(c->in_fd);
	}
	if (c->pty_slave >= 0)
		close(c->pty_slave);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	console_init_fds(c);
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	while (c->out_fd >= 0 && len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* nobody reads the pty, or stdout is gone */
		buf += n;
		len -= (size_t)n;
	}
}

/* Read input or not: paused while the device has no room for what is held. */
static void console_watch(struct console *c, bool on)
{
	if (on == c->in_watched || c->in_eof)
		return;
	if (event_loop_set_events(c->el, c->in_fd, on ? EPOLLIN : 0) == 0)
		c->in_watched = on;
}

/* Hand the held input to the device; true when all of it went. */
static bool console_push(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->deliver(c->opaque, c->pending + c->pending_off,
				      c->pending_len - c->pending_off);
		if (!n)
			return false;
		c->pending_off += n;
	}
	c->pending_off = c->pending_len = 0;
	return true;
}

/* Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A; only on a raw terminal. */
static size_t console_filter_escape(struct console *c, uint8_t *buf, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				if (c->quit)
					c->quit(c->quit_opaque);
				return out;
			}
			if (b != CONSOLE_ESCAPE)
				continue;
		} else if (b == CONSOLE_ESCAPE) {
			c->escape = true;
			continue;
		}
		buf[out++] = b;
	}
	return out;
}

static void console_readable(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	ssize_t n;

	(void)events;
	n = read(c->in_fd, c->pending, sizeof(c->pending));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* End of input (a pipe closed, the pty hung up): the guest runs on. */
		event_loop_del(c->el, c->in_fd);
		c->in_watched = false;
		c->in_eof = true;
		return;
	}
	c->pending_off = 0;
	c->pending_len = c->raw ? console_filter_escape(c, c->pending, (size_t)n)
				: (size_t)n;
	if (!console_push(c))
		console_watch(c, false);
}

static void console_woken(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint64_t v;

	(void)events;
	if (read(c->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (console_push(c))
		console_watch(c, true);
}

int console_attach(struct console *c, struct event_loop *el,
		   console_deliver_fn deliver, void *opaque,
		   console_quit_fn quit, void *quit_opaque)
{
	int ret;

	if (c->in_fd < 0)
		return 0;
	c->el = el;
	c->in_eof = false;
	c->deliver = deliver;
	c->opaque = opaque;
	c->quit = quit;
	c->quit_opaque = quit_opaque;
	ret = event_loop_add(el, c->wake_fd, EPOLLIN, console_woken, c);
	if (ret)
		return ret;
	ret = event_loop_add(el, c->in_fd, EPOLLIN, console_readable, c);
	if (ret == -EPERM) {
		/* A regular file or /dev/null: nothing to wait for, no input. */
		pr_debug("%s: input cannot be polled: the guest gets none", c->name);
		c->in_eof = true;
		return 0;
	}
	if (ret) {
		event_loop_del(el, c->wake_fd);
		return ret;
	}
	c->in_watched = true;
	return 0;
}

void console_detach(struct console *c)
{
	if (!c->el)
		return;
	if (!c->in_eof)
		event_loop_del(c->el, c->in_fd);
	event_loop_del(c->el, c->wake_fd);
	c->in_watched = false;
	c->el = NULL;
	c->pending_off = c->pending_len = 0;
}

void console_wake(struct console *c)
{
	uint64_t one = 1;

	if (c->wake_fd >= 0 && write(c->wake_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: wake: %m", c->name);
}
