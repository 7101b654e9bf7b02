/*
 * The machine file, typed: what config_load() makes of an INI file.
 * Every value is validated here; later layers trust these fields.
 */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pci/bdf.h"

#define CFG_MAX_CPUS		64
#define CFG_MAX_SERIALS		4
#define CFG_NAME_MAX		64
#define CFG_LINE_MAX		1024	/* longest physical line accepted */
enum console_kind {
	CONSOLE_NONE,
	CONSOLE_STDIO,
	CONSOLE_PTY,
	CONSOLE_FILE,
};

struct console_config {
	enum console_kind kind;
	char *path;		/* CONSOLE_FILE only, resolved */
	int line;		/* line of the console key, 0 = the default */
};

enum hugepages_kind {
	HUGEPAGES_OFF,
	HUGEPAGES_2M,
	HUGEPAGES_1G,
};

/* Who decompresses a bzImage's kernel. */
enum kernel_decompress {
	DECOMPRESS_VMM,		/* vmm unpacks it (and may cache it); the guest starts in it */
	DECOMPRESS_GUEST,	/* the bzImage's own decompressor runs in the guest */
};

enum reboot_action {
	REBOOT_RESET,		/* reboot the guest in place */
	REBOOT_POWEROFF,	/* treat reboot as power-off: vmm exits 1 */
};

struct machine_config {
	char *name;
	unsigned int cpus;
	uint64_t memory;		/* bytes */
	char *kernel;			/* resolved path; NULL if not given */
	char *initrd;			/* resolved path or NULL */
	char *cmdline;
	enum hugepages_kind hugepages;
	unsigned int phys_bits;		/* guest physical address bits */
	enum reboot_action on_reboot;
	enum kernel_decompress decompress;
	int line;			/* line of the [machine] header, 0 if absent */
	int kernel_line, initrd_line;
};

struct serial_config {
	unsigned int index;		/* 0..3 for com1..com4 */
	struct console_config console;
	int line;
};

enum bridge_kind {
	BRIDGE_ROOT_PORT,		/* PCIe root port, only on the root bus */
	BRIDGE_PCI,			/* PCI-to-PCI bridge, anywhere */
};

#define CFG_SLOT_AUTO	(-1)

/*
 * Where a function goes: the bus (a bridge, or the root bus) and slot.
 * After config_load, a function on a root port's bus has slot 0 (implied
 * there); elsewhere slot may still be CFG_SLOT_AUTO for the planner. A
 * function > 0 always comes with a known slot.
 */
struct placement {
	int bus;			/* index into vm_config.bridges, -1 = root bus */
	int slot;			/* 0..31 or CFG_SLOT_AUTO */
	int function;			/* 0..7 */
	int bus_line, slot_line, function_line;
};

struct bridge_config {
	char *name;
	enum bridge_kind kind;
	struct placement at;
	int line;
};

enum device_kind {
	DEV_VIRTIO_BLK,
	DEV_VIRTIO_NET,
	DEV_VIRTIO_CONSOLE,
	DEV_VIRTIO_RNG,
	DEV_VFIO,
};

enum blk_cache {
	BLK_CACHE_WRITEBACK,		/* page cache; FLUSH does fdatasync */
	BLK_CACHE_DIRECT,		/* O_DIRECT */
};

enum rom_mode {
	ROM_AUTO,			/* the device's own ROM, if it has one */
	ROM_OFF,
	ROM_FILE,
};

struct blk_config {
	char *path;			/* resolved */
	bool readonly;
	bool discard;
	enum blk_cache cache;
	unsigned int queues;		/* 0 = one per vCPU */
	unsigned int queue_size;	/* largest virtqueue size offered, a power of two */
	char *serial;			/* VIRTIO_BLK_T_GET_ID, at most 20 bytes */
	int path_line;
};

struct net_config {
	char *tap;			/* interface name, or NULL with fd */
	int fd;				/* an open tap fd, or -1 */
	uint8_t mac[6];
	bool mac_set;			/* false: derived from machine + device name */
	bool vhost;
	unsigned int queue_size;	/* largest virtqueue size offered, a power of two */
	int tap_line;
};

struct vfio_config {
	struct pci_bdf host;
	enum rom_mode rom;
	char *rom_file;			/* ROM_FILE only, resolved */
	int host_line, rom_line;
};

struct device_config {
	char *name;
	enum device_kind kind;
	struct placement at;
	int line;
	union {
		struct blk_config blk;
		struct net_config net;
		struct console_config console;	/* virtio-console */
		struct vfio_config vfio;
	};
};

struct vm_config {
	char *file;			/* the machine file as named */
	struct machine_config machine;
	/*
	 * Sorted by index. Without any [serial] section: com1 alone (line 0),
	 * on stdio, or on none when a virtio-console has stdio.
	 */
	struct serial_config serials[CFG_MAX_SERIALS];
	unsigned int nr_serials;
	struct bridge_config *bridges;
	unsigned int nr_bridges;
	struct device_config *devices;
	unsigned int nr_devices;
};

/*
 * Read and validate a machine file. On success returns 0 and fills *cfg
 * (free with config_free). On failure returns -EINVAL (or -errno when the
 * file cannot be read), prints nothing, and leaves the message
 * "FILE:LINE: [section "name"] key: what is wrong, what was expected"
 * in errbuf.
 */
int config_load(const char *path, struct vm_config *cfg,
		char *errbuf, size_t errlen);
/* The same from an open stream; 'name' is used for messages and paths. */
int config_load_stream(FILE *f, const char *name, struct vm_config *cfg,
		       char *errbuf, size_t errlen);
void config_free(struct vm_config *cfg);

const char *device_kind_name(enum device_kind kind);
const char *bridge_kind_name(enum bridge_kind kind);
const char *console_kind_name(enum console_kind kind);

/* Size with an optional K/M/G/T suffix (binary units); -EINVAL/-ERANGE. */
int config_parse_size(const char *s, uint64_t *out);

#endif
