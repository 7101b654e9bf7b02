/*
 * A small JSON writer: objects, arrays, escaped strings, numbers, indented
 * two spaces a level so the output diffs well. No parsing.
 */
#ifndef PCI_TOPO_JSON_H
#define PCI_TOPO_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	64

struct json {
	FILE *f;
	unsigned int depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
	bool error;			/* nesting misuse */
};

void json_init(struct json *j, FILE *f);
/* A NULL key writes a bare value (in an array, or the top level). */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *s);	/* NULL: null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, long long v);
/* "0x" and lower-case hex digits, no padding, as a string. */
void json_hex(struct json *j, const char *key, uint64_t v);
/* "0x" and exactly 'digits' hex digits, as a string (ids: "0x10de"). */
void json_hexw(struct json *j, const char *key, uint64_t v, unsigned int digits);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline; 0, or -EIO / -EINVAL. */
int json_finish(struct json *j);

/* Writes s as a JSON string literal, quotes included (invalid UTF-8 -> U+FFFD). */
void json_write_string(FILE *f, const char *s);

#endif
