/*
 * Inside the config layer: the state shared by reading sections
 * (config_keys.c), checking them against each other (config_check.c) and
 * the whole load (config.c).
 */
#ifndef VMM_CONFIG_CTX_H
#define VMM_CONFIG_CTX_H

#include <stdbool.h>

#include "vmm/config.h"
#include "vmm/config_parse.h"
#include "vmm/config_read.h"

#define MEMORY_DEFAULT	(512ULL << 20)
#define MEMORY_MIN	(64ULL << 20)
#define MEMORY_MAX	(1ULL << 40)
#define MEMORY_ALIGN	(1ULL << 20)

/* What the bus/type checks need beyond struct bridge_config/device_config. */
struct cfg_extra {
	const struct cfg_section *sec;
	const struct cfg_entry *bus;	/* bus = NAME, or NULL */
	bool typed;			/* a valid type = was given */
	bool placed;			/* bus resolved, placement checked */
	int tap_line, fd_line;		/* virtio-net */
	int console_line;		/* virtio-console, serial */
};

struct cfg_ctx {
	struct vm_config *cfg;
	struct cfg_errors *e;
	struct cfg_file raw;
	char *dir;			/* the machine file's directory or NULL */
	const struct cfg_section *machine;
	int memory_line, hugepages_line;
	struct cfg_extra *br_x, *dev_x, ser_x[CFG_MAX_SERIALS];
};

/* Reports "out of memory" (over any other message); -ENOMEM. */
int cfg_nomem(struct cfg_ctx *c);

/*
 * Every key of one section into c->cfg (appending a serial port, bridge or
 * device). Line errors go to c->e; returns -ENOMEM only.
 */
int cfg_read_section(struct cfg_ctx *c, const struct cfg_section *sec);

/*
 * The checks that relate lines: required keys, bus references, slots,
 * host addresses, stdio. Run on a file without line errors; errors go to
 * c->e; returns -ENOMEM only.
 */
int cfg_check(struct cfg_ctx *c);

#endif
