/*
 * Internals of the config layer: value parsers (numbers, sizes, booleans,
 * consoles, MACs, names, paths) and the one-message error sink.
 */
#ifndef VMM_CONFIG_PARSE_H
#define VMM_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

#define CFG_MSG_MAX		1024
#define CFG_VALUE_SHOWN		40	/* longer values are shortened in messages */
#define CFG_CMDLINE_MAX		2047	/* the x86 kernel's COMMAND_LINE_SIZE - 1 */

/*
 * Collects errors; keeps the one at the earliest line (line 0 = the file as
 * a whole comes first), the first one found on a tie.
 */
struct cfg_errors {
	const char *file;
	bool set;
	int line;
	char msg[CFG_MSG_MAX];
};

/*
 * Records "FILE:LINE: PREFIX KEY: MESSAGE". prefix is the section as written
 * ("[machine]", "[device \"d\"]") or NULL; key may be NULL. A section without
 * a key is followed by ':' ("[device \"d\"]: ...").
 */
void cfg_error(struct cfg_errors *e, int line, const char *prefix,
	       const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* s shortened to CFG_VALUE_SHOWN characters, ending in "...". */
const char *cfg_shorten(const char *s, char *buf, size_t len);
/* The same in double quotes. */
const char *cfg_quote(const char *s, char *buf, size_t len);

/* Decimal only, no sign, no junk: -EINVAL; outside min..max: -ERANGE. */
int cfg_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);
/* true/false/yes/no/on/off/1/0, any case: -EINVAL. */
int cfg_parse_bool(const char *s, bool *out);
/* Six hex bytes separated by ':': -EINVAL. */
int cfg_parse_mac(const char *s, uint8_t mac[6]);
/* Index in words[] (NULL-terminated) of s, exact match, or -EINVAL. */
int cfg_parse_word(const char *s, const char *const *words);
/* Same, ignoring ASCII case. */
int cfg_parse_word_icase(const char *s, const char *const *words);
/*
 * stdio | pty | none | file:PATH. For file:, *path points into s (after the
 * prefix) and may be empty: the caller reports it.
 */
int cfg_parse_console(const char *s, enum console_kind *kind,
		      const char **path);

/* 1..max characters of [A-Za-z0-9_.-]. */
bool cfg_valid_name(const char *s, size_t max);

/*
 * A path from the machine file, resolved against dir (the machine file's
 * directory; NULL or "" = leave relative paths as written). malloc'd.
 */
char *cfg_resolve_path(const char *dir, const char *path);
/* The directory part of a file name, malloc'd; NULL when it has none. */
char *cfg_dirname(const char *file);
/* The file's base name without ".ini", malloc'd. */
char *cfg_default_name(const char *file);

/* Formats a byte count with the largest exact K/M/G/T suffix ("1536M"). */
const char *cfg_format_size(uint64_t v, char *buf, size_t len);

#endif
