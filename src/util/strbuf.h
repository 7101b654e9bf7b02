/*
 * Building messages into a caller's fixed buffer: a bounded appender that
 * marks a cut message with "...", and the one-shot error setter used by
 * functions that report through (err, errlen).
 */
#ifndef VMM_UTIL_STRBUF_H
#define VMM_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *buf;
	size_t size, len;
	bool full;
};

/* Start an empty message in buf (size at least 1). */
void sb_init(struct sbuf *sb, char *buf, size_t size);
/* Append; once the buffer is full the message ends in "..." and stays so. */
void sb_add(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write a message into err (nothing when err is NULL or errlen 0). */
void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
