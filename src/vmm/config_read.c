/*
 * Reading the machine file's lines: our line reader under inih, section
 * headers, KEY = VALUE entries and continuation lines, line-level errors.
 *
 * inih (Debian 12: libinih 55) reads into a 200-byte line buffer and keeps
 * section names in 50 bytes; a longer line is silently split into bogus
 * entries. So the reader below reads each physical line itself (up to
 * CFG_LINE_MAX - 1 characters, else "line too long"), lexes it by inih's
 * own rules, and hands inih a short stand-in line of the same kind:
 *
 *	blank or comment	"\n"
 *	[section]		"[N]\n"	(N: our section index)
 *	KEY = VALUE		"k=v\n"
 *	indented continuation	" c\n"
 *
 * inih then calls the handler exactly once for each key and continuation
 * line, in order, while that line is the reader's current one; the handler
 * takes section, key and value from the reader's full-length copy. inih's
 * rules, mirrored here: ';' and '#' start a comment line; ';' after
 * whitespace starts an inline comment; "KEY = VALUE" (or "KEY: VALUE");
 * an indented line after a key continues that key's value (also across
 * blank and comment lines) until the next section header.
 */
#include <errno.h>
#include <ctype.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config_read.h"

#define SECT_NONE	(-1)	/* before the first header */
#define SECT_SKIP	(-2)	/* inside a section whose header was wrong */

#define NAME_CHARS	"1 to 63 characters of A-Z a-z 0-9 _ . -"

enum cfg_token {
	TOK_NONE,
	TOK_KEY,
	TOK_CONT,
};

struct cfg_reader {
	FILE *f;
	struct cfg_errors *e;
	struct cfg_file *out;
	int err;			/* -errno: stop */
	bool done;			/* a line-level error: nothing later can win */
	int lineno;
	char buf[CFG_LINE_MAX];

	int section;			/* index in out, SECT_NONE or SECT_SKIP */
	bool have_key;			/* inih's prev_name is set */
	int entry;			/* where continuations go; -1 = dropped */
	char inih_section[16];		/* what inih believes the section is */

	enum cfg_token tok;		/* what the current line is */
	char *key;			/* into buf */
	char *value;			/* into buf */
};

static char *lskip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static char *rstrip(char *s)
{
	char *end = s + strlen(s);

	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* inih's find_chars_or_comment: first of chars, or ';' after whitespace. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	while (*s && (!chars || !strchr(chars, *s)) &&
	       !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

const struct cfg_entry *cfg_find(const struct cfg_section *sec, const char *key)
{
	unsigned int i;

	for (i = 0; i < sec->nr_entries; i++)
		if (!strcmp(sec->entries[i].key, key))
			return &sec->entries[i];
	return NULL;
}

void cfg_file_free(struct cfg_file *file)
{
	unsigned int i, j;

	for (i = 0; i < file->nr_sections; i++) {
		struct cfg_section *sec = &file->sections[i];

		for (j = 0; j < sec->nr_entries; j++) {
			free(sec->entries[j].key);
			free(sec->entries[j].value);
		}
		free(sec->entries);
		free(sec->name);
		free(sec->title);
	}
	free(file->sections);
	memset(file, 0, sizeof(*file));
}

static const char *const sect_words[] = {
	[SECT_MACHINE] = "machine",
	[SECT_SERIAL] = "serial",
	[SECT_PCI] = "pci",
	[SECT_DEVICE] = "device",
	NULL
};

static int add_section(struct cfg_reader *rd, enum cfg_sect_kind kind,
		       const char *name, unsigned int serial)
{
	struct cfg_file *out = rd->out;
	struct cfg_section *sec, *n;

	n = realloc(out->sections, (out->nr_sections + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	out->sections = n;
	sec = &n[out->nr_sections];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->serial = serial;
	sec->line = rd->lineno;
	if (name) {
		sec->name = strdup(name);
		if (!sec->name ||
		    asprintf(&sec->title, "[%s \"%s\"]", sect_words[kind], name) < 0) {
			free(sec->name);
			return -ENOMEM;
		}
	} else {
		sec->title = strdup("[machine]");
		if (!sec->title)
			return -ENOMEM;
	}
	rd->section = (int)out->nr_sections++;
	return 0;
}

/* The earlier section of this kind and name (or [pci]/[device] name). */
static const struct cfg_section *find_section(struct cfg_reader *rd,
					      enum cfg_sect_kind kind,
					      const char *name, unsigned int serial)
{
	unsigned int i;

	for (i = 0; i < rd->out->nr_sections; i++) {
		const struct cfg_section *sec = &rd->out->sections[i];

		switch (kind) {
		case SECT_MACHINE:
			if (sec->kind == SECT_MACHINE)
				return sec;
			break;
		case SECT_SERIAL:
			if (sec->kind == SECT_SERIAL && sec->serial == serial)
				return sec;
			break;
		case SECT_PCI:
		case SECT_DEVICE:
			if ((sec->kind == SECT_PCI || sec->kind == SECT_DEVICE) &&
			    !strcmp(sec->name, name))
				return sec;
			break;
		}
	}
	return NULL;
}

/*
 * "[content]" with content trimmed: "machine" or KIND "NAME". Returns 0
 * with rd->section set (SECT_SKIP after an error), or -ENOMEM.
 */
static int read_header(struct cfg_reader *rd, char *content)
{
	char shown[CFG_VALUE_SHOWN + 8], title[CFG_VALUE_SHOWN + 16], q[64];
	const struct cfg_section *prev;
	char *p, *kind_end, *close, *name = NULL;
	unsigned int serial = 0;
	bool has_rest;
	int kind;

	rd->section = SECT_SKIP;
	content = rstrip(lskip(content));
	snprintf(title, sizeof(title), "[%s]",
		 cfg_shorten(content, shown, sizeof(shown)));

	for (p = content; *p && *p != '"' && !isspace((unsigned char)*p); p++)
		;
	kind_end = p;
	p = lskip(p);
	has_rest = *p != '\0';
	if (*p == '"') {
		close = strchr(p + 1, '"');
		if (close && !*lskip(close + 1)) {
			name = p + 1;
			*close = '\0';
		}
	}
	*kind_end = '\0';
	kind = cfg_parse_word(content, sect_words);
	if (kind < 0) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "unknown section, expected [machine], [serial \"comN\"], [pci \"NAME\"] or [device \"NAME\"]");
		return 0;
	}
	if (has_rest && !name && kind != SECT_MACHINE) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "bad section name, expected [%s \"%s\"]", sect_words[kind],
			  kind == SECT_SERIAL ? "comN" : "NAME");
		return 0;
	}

	if (kind == SECT_MACHINE) {
		if (has_rest) {
			cfg_error(rd->e, rd->lineno, title, NULL,
				  "unexpected name, expected [machine]");
			return 0;
		}
	} else if (!name) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "missing name, expected [%s \"%s\"]", sect_words[kind],
			  kind == SECT_SERIAL ? "comN" : "NAME");
		return 0;
	} else if (kind == SECT_SERIAL) {
		if (strlen(name) != 4 || strncmp(name, "com", 3) ||
		    name[3] < '1' || name[3] > '0' + CFG_MAX_SERIALS) {
			cfg_error(rd->e, rd->lineno, title, NULL,
				  "unknown serial port, expected com1, com2, com3 or com4");
			return 0;
		}
		serial = (unsigned int)(name[3] - '1');
	} else if (!cfg_valid_name(name, CFG_NAME_MAX - 1)) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "%s is not a valid name, expected " NAME_CHARS,
			  cfg_quote(name, q, sizeof(q)));
		return 0;
	}

	prev = find_section(rd, (enum cfg_sect_kind)kind, name, serial);
	if (prev && (kind == SECT_PCI || kind == SECT_DEVICE)) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "name already used by %s (line %d), expected a name unique among [pci] and [device] sections",
			  prev->title, prev->line);
		return 0;
	}
	if (prev) {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "duplicate section (first at line %d), expected %s",
			  prev->line, kind == SECT_MACHINE ? "one [machine] section" :
			  "each serial port once");
		return 0;
	}
	return add_section(rd, (enum cfg_sect_kind)kind, name, serial);
}

/* Past this many characters a line is not counted further: no newline is coming. */
#define CFG_LINE_SCAN_MAX	(1 << 20)

/*
 * One physical line into rd->buf. 1: got a line, 0: end of file, <0: read
 * error. *len counts the characters before the newline (a final '\r' is
 * not counted), also those that did not fit, up to CFG_LINE_SCAN_MAX. A NUL
 * byte ends the reading: the file is not text.
 */
static int read_physical_line(struct cfg_reader *rd, size_t *len, bool *nul)
{
	size_t n = 0;
	int c, last = EOF;
	bool got = false;

	*nul = false;
	while ((c = getc(rd->f)) != EOF) {
		got = true;
		if (c == '\n')
			break;
		if (c == '\0') {
			*nul = true;
			break;
		}
		if (n < CFG_LINE_MAX - 1)
			rd->buf[n] = (char)c;
		n++;
		last = c;
		if (n > CFG_LINE_SCAN_MAX)
			break;
	}
	if (ferror(rd->f))
		return -(errno ? errno : EIO);
	if (!got)
		return 0;
	if (last == '\r' && n <= CFG_LINE_SCAN_MAX)
		n--;
	rd->buf[n < CFG_LINE_MAX - 1 ? n : CFG_LINE_MAX - 1] = '\0';
	*len = n;
	return 1;
}

/* Hand inih a section line: it takes that section and forgets prev_name. */
static char *emit_section(struct cfg_reader *rd, char *str, int num)
{
	if (rd->section == SECT_NONE)
		rd->inih_section[0] = '\0';
	else
		snprintf(rd->inih_section, sizeof(rd->inih_section), "%d",
			 rd->section);
	rd->have_key = false;
	rd->entry = -1;
	snprintf(str, (size_t)num, "[%s]\n", rd->inih_section);
	return str;
}

/* Where the current line is wrong on its own: inih skips it. */
static char *emit_bad_line(struct cfg_reader *rd, char *str, int num)
{
	return emit_section(rd, str, num);
}

static char *cfg_reader_line(char *str, int num, void *stream)
{
	struct cfg_reader *rd = stream;
	char shown[CFG_VALUE_SHOWN + 8];
	const char *title;
	char *start, *end;
	size_t len = 0;
	bool nul = false;
	int ret;

	rd->tok = TOK_NONE;
	if (rd->err || rd->done)
		return NULL;
	ret = read_physical_line(rd, &len, &nul);
	if (ret <= 0) {
		if (ret < 0) {
			rd->err = ret;
			rd->e->set = false;
			cfg_error(rd->e, 0, NULL, NULL, "cannot read: %s",
				  strerror(-ret));
		}
		return NULL;
	}
	rd->lineno++;
	title = rd->section >= 0 ? rd->out->sections[rd->section].title : NULL;

	if (len > CFG_LINE_SCAN_MAX) {
		cfg_error(rd->e, rd->lineno, NULL, NULL,
			  "line too long (more than %d characters, at most %d)",
			  CFG_LINE_SCAN_MAX, CFG_LINE_MAX - 1);
		rd->done = true;
		return emit_bad_line(rd, str, num);
	}
	if (len > CFG_LINE_MAX - 1) {
		cfg_error(rd->e, rd->lineno, NULL, NULL,
			  "line too long (%zu characters, at most %d)", len,
			  CFG_LINE_MAX - 1);
		rd->done = true;
		return emit_bad_line(rd, str, num);
	}
	if (nul) {
		cfg_error(rd->e, rd->lineno, NULL, NULL,
			  "line holds a NUL byte, expected text");
		rd->done = true;
		return emit_bad_line(rd, str, num);
	}

	start = rd->buf;
	if (rd->lineno == 1 && !strncmp(start, "\xef\xbb\xbf", 3))
		start += 3;
	start = rstrip(lskip(start));

	if (!*start || *start == ';' || *start == '#') {
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	if (rd->have_key && start > rd->buf) {
		end = find_chars_or_comment(start, NULL);
		*end = '\0';
		rd->value = rstrip(start);
		rd->tok = TOK_CONT;
		snprintf(str, (size_t)num, " c\n");
		return str;
	}
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			cfg_error(rd->e, rd->lineno, NULL, NULL,
				  "section header without \"]\", expected [section] or [section \"name\"]");
			rd->section = SECT_SKIP;
			return emit_bad_line(rd, str, num);
		}
		*end = '\0';
		end = lskip(end + 1);
		if (*end && *end != ';' && *end != '#') {
			char t[CFG_VALUE_SHOWN + 16];

			snprintf(t, sizeof(t), "[%s]",
				 cfg_shorten(rstrip(lskip(start + 1)), shown, sizeof(shown)));
			cfg_error(rd->e, rd->lineno, t, NULL,
				  "text after \"]\", expected nothing or a comment");
			rd->section = SECT_SKIP;
			return emit_bad_line(rd, str, num);
		}
		ret = read_header(rd, start + 1);
		if (ret < 0) {
			rd->err = ret;
			return NULL;
		}
		return emit_section(rd, str, num);
	}

	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		cfg_error(rd->e, rd->lineno, title, NULL,
			  "\"%s\" is not a KEY = VALUE line, expected KEY = VALUE, a [section] header or a comment",
			  cfg_shorten(start, shown, sizeof(shown)));
		return emit_bad_line(rd, str, num);
	}
	*end = '\0';
	rd->key = rstrip(start);
	start = end + 1;
	end = find_chars_or_comment(start, NULL);
	*end = '\0';
	rd->value = rstrip(lskip(start));
	rd->have_key = true;
	rd->tok = TOK_KEY;
	snprintf(str, (size_t)num, "k=v\n");
	return str;
}

static int add_entry(struct cfg_reader *rd, struct cfg_section *sec)
{
	struct cfg_entry *n;

	n = realloc(sec->entries, (sec->nr_entries + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	sec->entries = n;
	n += sec->nr_entries;
	n->key = strdup(rd->key);
	n->value = strdup(rd->value);
	n->line = rd->lineno;
	n->cont_line = 0;
	if (!n->key || !n->value) {
		free(n->key);
		free(n->value);
		return -ENOMEM;
	}
	rd->entry = (int)sec->nr_entries++;
	return 0;
}

static int append_value(struct cfg_entry *ent, const char *more)
{
	size_t old = strlen(ent->value), add = strlen(more);
	char *n;

	n = realloc(ent->value, old + add + 2);
	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ' ';
	memcpy(n + old, more, add + 1);
	ent->value = n;
	return 0;
}

static void handle_key(struct cfg_reader *rd)
{
	char shown[CFG_VALUE_SHOWN + 8];
	const struct cfg_entry *prev;
	struct cfg_section *sec;
	int ret;

	rd->entry = -1;
	if (rd->section == SECT_SKIP)
		return;
	sec = rd->section >= 0 ? &rd->out->sections[rd->section] : NULL;
	if (!*rd->key) {
		cfg_error(rd->e, rd->lineno, sec ? sec->title : NULL, NULL,
			  "no key before \"=\", expected KEY = VALUE");
		return;
	}
	if (!sec) {
		cfg_error(rd->e, rd->lineno, NULL,
			  cfg_shorten(rd->key, shown, sizeof(shown)),
			  "key outside any section, expected a [section] header before it");
		return;
	}
	prev = cfg_find(sec, rd->key);
	if (prev) {
		cfg_error(rd->e, rd->lineno, sec->title,
			  cfg_shorten(rd->key, shown, sizeof(shown)),
			  "duplicate key (first at line %d), expected each key once",
			  prev->line);
		return;
	}
	ret = add_entry(rd, sec);
	if (ret)
		rd->err = ret;
}

static int cfg_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct cfg_reader *rd = user;
	struct cfg_entry *ent;
	int ret;

	if (rd->err)
		return 0;
	/* an inih built to announce sections: the reader has handled it */
	if (!name && !value)
		return 1;
	if (!name || !value || strcmp(section, rd->inih_section) || strcmp(name, "k") ||
	    strcmp(value, rd->tok == TOK_KEY ? "v" : "c") || rd->tok == TOK_NONE) {
		rd->err = -EPROTO;
		rd->e->set = false;
		cfg_error(rd->e, rd->lineno, NULL, NULL,
			  "internal error: inih and the line reader disagree");
		return 0;
	}
	if (rd->tok == TOK_KEY) {
		handle_key(rd);
		return 1;
	}
	if (rd->entry < 0)
		return 1;
	ent = &rd->out->sections[rd->section].entries[rd->entry];
	if (!ent->cont_line)
		ent->cont_line = rd->lineno;
	ret = append_value(ent, rd->value);
	if (ret)
		rd->err = ret;
	return 1;
}

int cfg_read(FILE *f, struct cfg_errors *e, struct cfg_file *out)
{
	struct cfg_reader *rd;
	int ret, err;

	memset(out, 0, sizeof(*out));
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->f = f;
	rd->e = e;
	rd->out = out;
	rd->section = SECT_NONE;
	rd->entry = -1;

	ret = ini_parse_stream(cfg_reader_line, rd, cfg_handler, rd);
	err = rd->err;
	if (!err && ret < 0)
		err = -ENOMEM;
	if (err == -ENOMEM) {
		e->set = false;
		cfg_error(e, 0, NULL, NULL, "out of memory");
	} else if (!err && ret > 0 && !e->set) {
		cfg_error(e, ret, NULL, NULL,
			  "internal error: inih rejected the line");
		err = -EPROTO;
	}
	free(rd);
	return err;
}
