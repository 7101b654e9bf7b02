/* Bounded message building. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"

void sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	sb->full = false;
	buf[0] = '\0';
}

void sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sb->size - sb->len) {
		sb->len += (size_t)n;
		return;
	}
	sb->full = true;
	sb->len = sb->size - 1;
	if (sb->size >= 4)
		memcpy(sb->buf + sb->size - 4, "...", 4);
}

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
