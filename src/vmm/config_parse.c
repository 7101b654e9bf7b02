/*
 * Value parsers for the machine file (numbers, sizes, booleans, consoles,
 * MACs, names, paths) and the error sink that keeps the earliest message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/config_parse.h"

void cfg_error(struct cfg_errors *e, int line, const char *prefix,
	       const char *key, const char *fmt, ...)
{
	char text[CFG_MSG_MAX];
	int n = 0;
	va_list ap;

	if (e->set && line >= e->line)
		return;
	if (line > 0)
		n = snprintf(text, sizeof(text), "%s:%d: ", e->file, line);
	else
		n = snprintf(text, sizeof(text), "%s: ", e->file);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = 0;
	if (prefix && key)
		n += snprintf(text + n, sizeof(text) - n, "%s %s: ", prefix, key);
	else if (prefix)
		n += snprintf(text + n, sizeof(text) - n, "%s: ", prefix);
	else if (key)
		n += snprintf(text + n, sizeof(text) - n, "%s: ", key);
	if (n >= 0 && (size_t)n < sizeof(text)) {
		va_start(ap, fmt);
		vsnprintf(text + n, sizeof(text) - n, fmt, ap);
		va_end(ap);
	}
	memcpy(e->msg, text, sizeof(text));
	e->line = line;
	e->set = true;
}

const char *cfg_shorten(const char *s, char *buf, size_t len)
{
	if (strlen(s) > CFG_VALUE_SHOWN)
		snprintf(buf, len, "%.*s...", CFG_VALUE_SHOWN - 3, s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

const char *cfg_quote(const char *s, char *buf, size_t len)
{
	char shown[CFG_VALUE_SHOWN + 1];

	snprintf(buf, len, "\"%s\"", cfg_shorten(s, shown, sizeof(shown)));
	return buf;
}

static int digit_value(int c, unsigned int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

/* Digits in base at *p; -EINVAL if none, -ERANGE on overflow. */
static int parse_digits(const char **p, unsigned int base, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	bool overflow = false;
	int d;

	if (digit_value((unsigned char)*s, base) < 0)
		return -EINVAL;
	for (; (d = digit_value((unsigned char)*s, base)) >= 0; s++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			v = v * base + (uint64_t)d;
	}
	*p = s;
	*out = v;
	return overflow ? -ERANGE : 0;
}

int cfg_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	const char *p = s;
	uint64_t v;
	int ret;

	ret = parse_digits(&p, 10, &v);
	if (ret == -EINVAL || *p)
		return -EINVAL;
	if (ret == -ERANGE || v < min || v > max)
		return -ERANGE;
	*out = (unsigned long)v;
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	const char *p = s;
	unsigned int shift = 0;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		ret = parse_digits(&p, 16, &v);
	} else {
		ret = parse_digits(&p, 10, &v);
	}
	if (ret == -EINVAL)
		return ret;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	}
	if (shift && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'b' || p[1] == 'B'))
		p += 2;
	if (*p)
		return -EINVAL;
	if (ret == -ERANGE || (shift && v > (UINT64_MAX >> shift)))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

const char *cfg_format_size(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));

		if (v && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(v / unit), suffix[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

int cfg_parse_word(const char *s, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(s, words[i]))
			return i;
	return -EINVAL;
}

int cfg_parse_word_icase(const char *s, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return i;
	return -EINVAL;
}

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	if (cfg_parse_word_icase(s, yes) >= 0) {
		*out = true;
		return 0;
	}
	if (cfg_parse_word_icase(s, no) >= 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

int cfg_parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++, s += 3) {
		hi = digit_value((unsigned char)s[0], 16);
		lo = hi < 0 ? -1 : digit_value((unsigned char)s[1], 16);
		if (lo < 0)
			return -EINVAL;
		if (s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int cfg_parse_console(const char *s, enum console_kind *kind,
		      const char **path)
{
	*path = NULL;
	if (!strcmp(s, "stdio"))
		*kind = CONSOLE_STDIO;
	else if (!strcmp(s, "pty"))
		*kind = CONSOLE_PTY;
	else if (!strcmp(s, "none"))
		*kind = CONSOLE_NONE;
	else if (!strncmp(s, "file:", 5)) {
		*kind = CONSOLE_FILE;
		*path = s + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

bool cfg_valid_name(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n >= 1 && n <= max;
}

char *cfg_resolve_path(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/' || !dir || !dir[0])
		return strdup(path);
	if (asprintf(&out, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		     path) < 0)
		return NULL;
	return out;
}

char *cfg_dirname(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return NULL;
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

char *cfg_default_name(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".ini"))
		n -= 4;
	return strndup(base, n);
}
