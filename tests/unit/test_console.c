/*
 * Console backends through a real pseudo-terminal and a real file, driven by
 * the event loop: output, input with back-pressure and wake-up, end of input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/console.h"
#include "util/event_loop.h"

struct sink {
	size_t room;			/* bytes the device takes before it is full */
	char got[256];
	size_t len;
};

static size_t sink_deliver(void *opaque, const uint8_t *buf, size_t len)
{
	struct sink *s = opaque;
	size_t n = len < s->room ? len : s->room;

	memcpy(s->got + s->len, buf, n);
	s->len += n;
	s->room -= n;
	return n;
}

static int open_slave(const struct console *c)
{
	struct termios t;
	int fd = open(c->pty_path, O_RDWR | O_NOCTTY);

	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
	return fd;
}

/* Run rounds until nothing happens for 50 ms. */
static void settle(struct event_loop *el)
{
	while (event_loop_run_once(el, 50) > 0)
		;
}

static void test_pty_output(void **state)
{
	struct console_config cfg = { .kind = CONSOLE_PTY };
	struct console c;
	char err[256], buf[64];
	ssize_t n;
	int fd;

	(void)state;
	assert_int_equal(console_open(&c, &cfg, "com1", err, sizeof(err)), 0);
	assert_true(strncmp(c.pty_path, "/dev/pts/", 9) == 0);
	fd = open_slave(&c);
	console_write(&c, (const uint8_t *)"boot\r\n", 6);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "boot\r\n", 6);
	close(fd);
	console_close(&c);
	assert_int_equal(c.in_fd, -1);
}

static void test_pty_input_back_pressure(void **state)
{
	struct console_config cfg = { .kind = CONSOLE_PTY };
	struct sink s = { .room = 3 };
	struct event_loop el;
	struct console c;
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(event_loop_init(&el), 0);
	assert_int_equal(console_open(&c, &cfg, "com1", err, sizeof(err)), 0);
	fd = open_slave(&c);
	assert_int_equal(console_attach(&c, &el, sink_deliver, &s, NULL, NULL), 0);

	assert_int_equal(write(fd, "hello world", 11), 11);
	settle(&el);
	/* The device took what it had room for; the rest is held, input paused. */
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.got, "hel", 3);
	assert_false(c.in_watched);
	assert_int_equal(write(fd, "!", 1), 1);
	settle(&el);
	assert_int_equal(s.len, 3);

	/* Room again: the held bytes go first, then reading resumes. */
	s.room = 100;
	console_wake(&c);
	settle(&el);
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.got, "hello world!", 12);
	assert_true(c.in_watched);

	console_detach(&c);
	close(fd);
	console_close(&c);
	event_loop_free(&el);
}

static void test_file_output_truncates(void **state)
{
	char path[] = "/tmp/test_console.XXXXXX";
	struct console_config cfg = { .kind = CONSOLE_FILE, .path = path };
	struct console c;
	char err[256], buf[64];
	int fd = mkstemp(path);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old contents", 12), 12);
	assert_int_equal(console_open(&c, &cfg, "com2", err, sizeof(err)), 0);
	assert_int_equal(c.in_fd, -1);
	console_write(&c, (const uint8_t *)"new", 3);
	console_close(&c);
	n = pread(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "new", 3);
	close(fd);
	unlink(path);
}

static void test_file_error_names_console(void **state)
{
	struct console_config cfg = { .kind = CONSOLE_FILE, .path = "/nonexistent/dir/log" };
	struct console c;
	char err[256];

	(void)state;
	assert_int_equal(console_open(&c, &cfg, "com3", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "com3: /nonexistent/dir/log: No such file"));
}

static void test_none_drops_output(void **state)
{
	struct console_config cfg = { .kind = CONSOLE_NONE };
	struct event_loop el;
	struct console c;
	struct sink s = { .room = 10 };
	char err[256];

	(void)state;
	assert_int_equal(event_loop_init(&el), 0);
	assert_int_equal(console_open(&c, &cfg, "com4", err, sizeof(err)), 0);
	console_write(&c, (const uint8_t *)"x", 1);
	assert_int_equal(console_attach(&c, &el, sink_deliver, &s, NULL, NULL), 0);
	assert_int_equal(event_loop_run_once(&el, 0), 0);
	console_detach(&c);
	console_close(&c);
	event_loop_free(&el);
}

struct deleter {
	struct event_loop *el;
	int fds[2];
	int calls;
};

static void delete_self(void *opaque, uint32_t events)
{
	struct deleter *d = opaque;

	(void)events;
	d->calls++;
	event_loop_del(d->el, d->fds[0]);
}

static void test_event_loop_delete_in_callback(void **state)
{
	struct event_loop el;
	struct deleter d = { .el = &el };

	(void)state;
	assert_int_equal(event_loop_init(&el), 0);
	assert_int_equal(pipe(d.fds), 0);
	assert_int_equal(event_loop_add(&el, d.fds[0], EPOLLIN, delete_self, &d), 0);
	assert_int_equal(write(d.fds[1], "x", 1), 1);
	assert_int_equal(event_loop_run_once(&el, 100), 1);
	assert_int_equal(event_loop_run_once(&el, 0), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(event_loop_set_events(&el, d.fds[0], EPOLLIN), -ENOENT);
	close(d.fds[0]);
	close(d.fds[1]);
	event_loop_free(&el);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pty_output),
		cmocka_unit_test(test_pty_input_back_pressure),
		cmocka_unit_test(test_file_output_truncates),
		cmocka_unit_test(test_file_error_names_console),
		cmocka_unit_test(test_none_drops_output),
		cmocka_unit_test(test_event_loop_delete_in_callback),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
