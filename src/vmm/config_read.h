/*
 * The machine file as text: sections and their KEY = VALUE entries, read
 * with inih through our own line reader; nothing typed yet.
 */
#ifndef VMM_CONFIG_READ_H
#define VMM_CONFIG_READ_H

#include <stdio.h>

#include "vmm/config_parse.h"

enum cfg_sect_kind {
	SECT_MACHINE,
	SECT_SERIAL,
	SECT_PCI,
	SECT_DEVICE,
};

struct cfg_entry {
	char *key;
	char *value;		/* continuation lines joined with one space */
	int line;		/* the line of the key */
	int cont_line;		/* the first continuation line, 0 = none */
};

struct cfg_section {
	enum cfg_sect_kind kind;
	char *name;		/* NULL for [machine] */
	char *title;		/* "[machine]", "[device \"d\"]": for messages */
	unsigned int serial;	/* [serial "comN"]: N - 1 */
	int line;		/* the header's line */
	struct cfg_entry *entries;
	unsigned int nr_entries;
};

struct cfg_file {
	struct cfg_section *sections;	/* in file order */
	unsigned int nr_sections;
};

/*
 * Reads every line of f. Well-formed sections land in out (also when
 * errors were found; sections with a bad or duplicate header are left out
 * and their keys skipped). Line errors go to e. 0, or -errno when the
 * stream cannot be read (e holds the message) or memory runs out.
 */
int cfg_read(FILE *f, struct cfg_errors *e, struct cfg_file *out);
void cfg_file_free(struct cfg_file *file);

/* The entry for key in sec, or NULL. */
const struct cfg_entry *cfg_find(const struct cfg_section *sec, const char *key);

#endif
