/*
 * Where a guest console goes: the VMM's stdin/stdout (the terminal in raw
 * mode, restored on exit), a new pseudo-terminal, or a file. Input reaches
 * the device through a deliver callback with back-pressure: what it does not
 * take is held, and input is not read again until console_wake().
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "vmm/config.h"

struct event_loop;

/* Takes up to len bytes of input, returns how many it took. */
typedef size_t (*console_deliver_fn)(void *opaque, const uint8_t *buf, size_t len);
/* The user asked to quit (Ctrl-A x on a raw terminal). */
typedef void (*console_quit_fn)(void *opaque);

#define CONSOLE_BUF	256
#define CONSOLE_ESCAPE	0x01	/* Ctrl-A */

struct console {
	enum console_kind kind;
	const char *name;		/* "com1", ... for messages */
	int in_fd, out_fd;		/* -1: none */
	int wake_fd;			/* eventfd: the device has room again */
	int pty_slave;			/* held open so the master never sees EIO */
	char pty_path[64];
	bool raw;			/* the terminal is in raw mode */
	struct termios saved;
	bool in_watched, in_eof, escape;

	struct event_loop *el;
	console_deliver_fn deliver;
	void *opaque;
	console_quit_fn quit;
	void *quit_opaque;
	uint8_t pending[CONSOLE_BUF];
	size_t pending_off, pending_len;
};

/*
 * Open the backend; for a pty, print its path on stderr. 0 or a negative
 * errno with a message in err. The terminal goes raw only when stdin is one.
 */
int console_open(struct console *c, const struct console_config *cfg,
		 const char *name, char *err, size_t errlen);
/* Restore the terminal and close what was opened. */
void console_close(struct console *c);

/* Start delivering input through the loop; 0 or a negative errno. */
int console_attach(struct console *c, struct event_loop *el,
		   console_deliver_fn deliver, void *opaque,
		   console_quit_fn quit, void *quit_opaque);
/* Stop delivering input (before the device goes away). */
void console_detach(struct console *c);
/* Any thread: the device has room for input again. */
void console_wake(struct console *c);

/* Output from the guest; dropped when the backend cannot take it. */
void console_write(struct console *c, const uint8_t *buf, size_t len);

#endif
