/*
 * The keys of each section: their types, defaults and messages, from a
 * section's text entries into struct vm_config (see vmm.ini(5)).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk.h"
#include "virtio/net.h"
#include "vmm/config_ctx.h"

#define NAME_CHARS	"1 to 63 characters of A-Z a-z 0-9 _ . -"
#define BOOL_WORDS	"true, false, yes, no, on, off, 1 or 0"
#define CONSOLE_WORDS	"stdio, pty, file:PATH or none"

/* The section, entry and object a key is being set on. */
struct cfg_item {
	const struct cfg_section *sec;
	const struct cfg_entry *ent;
	struct machine_config *m;
	struct serial_config *ser;
	struct bridge_config *br;
	struct device_config *dev;
	struct placement *at;
	struct cfg_extra *x;
};

struct key_desc;
typedef int (*key_setter)(struct cfg_ctx *c, struct cfg_item *it,
			  const struct key_desc *k);

struct key_desc {
	const char *key;
	key_setter set;
	const char *noun;		/* "is not NOUN" */
	const char *expect;		/* "expected EXPECT" */
	unsigned long min, max;		/* numbers */
	bool allow_empty;
	bool multiline;			/* takes continuation lines */
};

static const char *const device_words[] = {
	[DEV_VIRTIO_BLK] = "virtio-blk",
	[DEV_VIRTIO_NET] = "virtio-net",
	[DEV_VIRTIO_CONSOLE] = "virtio-console",
	[DEV_VIRTIO_RNG] = "virtio-rng",
	[DEV_VFIO] = "vfio",
	NULL
};

static const char *const bridge_words[] = {
	[BRIDGE_ROOT_PORT] = "root-port",
	[BRIDGE_PCI] = "pci-bridge",
	NULL
};

static const char *const console_words[] = {
	[CONSOLE_NONE] = "none",
	[CONSOLE_STDIO] = "stdio",
	[CONSOLE_PTY] = "pty",
	[CONSOLE_FILE] = "file",
};

const char *device_kind_name(enum device_kind kind)
{
	return (unsigned int)kind <= DEV_VFIO ? device_words[kind] : "?";
}

const char *bridge_kind_name(enum bridge_kind kind)
{
	return (unsigned int)kind <= BRIDGE_PCI ? bridge_words[kind] : "?";
}

const char *console_kind_name(enum console_kind kind)
{
	return (unsigned int)kind <= CONSOLE_FILE ? console_words[kind] : "?";
}

/* --- reporting ---------------------------------------------------------- */

static int bad_value(struct cfg_ctx *c, struct cfg_item *it,
		     const struct key_desc *k)
{
	char q[64];

	cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
		  "%s is not %s, expected %s",
		  cfg_quote(it->ent->value, q, sizeof(q)), k->noun, k->expect);
	return -EINVAL;
}

static int out_of_range(struct cfg_ctx *c, struct cfg_item *it,
			const struct key_desc *k)
{
	char shown[CFG_VALUE_SHOWN + 1];

	/* a number, unquoted: it is well-formed, only too small or large */
	cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
		  "%s is out of range, expected %s",
		  cfg_shorten(it->ent->value, shown, sizeof(shown)), k->expect);
	return -EINVAL;
}

/* --- typed setters ------------------------------------------------------ */

static int parse_number(struct cfg_ctx *c, struct cfg_item *it,
			const struct key_desc *k, unsigned long *out)
{
	int ret = cfg_parse_uint(it->ent->value, k->min, k->max, out);

	if (ret == -EINVAL)
		return bad_value(c, it, k);
	if (ret == -ERANGE)
		return out_of_range(c, it, k);
	return 0;
}

static int parse_bool(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k, bool *out)
{
	if (cfg_parse_bool(it->ent->value, out))
		return bad_value(c, it, k);
	return 0;
}

static int parse_word(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k, const char *const *words)
{
	int ret = cfg_parse_word(it->ent->value, words);

	if (ret < 0)
		return bad_value(c, it, k);
	return ret;
}

static int resolve(struct cfg_ctx *c, const char *path, char **out)
{
	free(*out);
	*out = cfg_resolve_path(c->dir, path);
	return *out ? 0 : cfg_nomem(c);
}

static int parse_console(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k, struct console_config *con)
{
	const char *path;

	if (cfg_parse_console(it->ent->value, &con->kind, &path))
		return bad_value(c, it, k);
	con->line = it->ent->line;
	it->x->console_line = it->ent->line;
	if (con->kind != CONSOLE_FILE)
		return 0;
	if (!*path) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "\"file:\" without a path, expected file:PATH");
		return -EINVAL;
	}
	return resolve(c, path, &con->path);
}

static int set_name(struct cfg_ctx *c, struct cfg_item *it,
		    const struct key_desc *k)
{
	if (!cfg_valid_name(it->ent->value, CFG_NAME_MAX - 1))
		return bad_value(c, it, k);
	free(it->m->name);
	it->m->name = strdup(it->ent->value);
	return it->m->name ? 0 : cfg_nomem(c);
}

static int set_cpus(struct cfg_ctx *c, struct cfg_item *it,
		    const struct key_desc *k)
{
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	if (!ret)
		it->m->cpus = (unsigned int)v;
	return ret;
}

static int set_memory(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k)
{
	char v[CFG_VALUE_SHOWN + 1];
	uint64_t size;
	int ret;

	ret = config_parse_size(it->ent->value, &size);
	if (ret == -EINVAL)
		return bad_value(c, it, k);
	cfg_shorten(it->ent->value, v, sizeof(v));
	if (ret == -ERANGE || size > MEMORY_MAX) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is too large, expected at most 1T", v);
		return -EINVAL;
	}
	if (size < MEMORY_MIN) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is too small, expected at least 64M", v);
		return -EINVAL;
	}
	if (size % MEMORY_ALIGN) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is not a multiple of 1M, expected whole megabytes",
			  v);
		return -EINVAL;
	}
	it->m->memory = size;
	c->memory_line = it->ent->line;
	return 0;
}

static int set_kernel(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k)
{
	it->m->kernel_line = it->ent->line;
	return resolve(c, it->ent->value, &it->m->kernel);
}

static int set_initrd(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k)
{
	it->m->initrd_line = it->ent->line;
	return resolve(c, it->ent->value, &it->m->initrd);
}

static int set_cmdline(struct cfg_ctx *c, struct cfg_item *it,
		       const struct key_desc *k)
{
	size_t n = strlen(it->ent->value);

	if (n > CFG_CMDLINE_MAX) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%zu bytes long, expected at most %d (the kernel's limit)",
			  n, CFG_CMDLINE_MAX);
		return -EINVAL;
	}
	free(it->m->cmdline);
	it->m->cmdline = strdup(it->ent->value);
	return it->m->cmdline ? 0 : cfg_nomem(c);
}

static int set_hugepages(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	static const char *const words[] = {
		[HUGEPAGES_OFF] = "off",
		[HUGEPAGES_2M] = "2M",
		[HUGEPAGES_1G] = "1G",
		NULL
	};
	int ret = cfg_parse_word_icase(it->ent->value, words);

	if (ret < 0)
		return bad_value(c, it, k);
	it->m->hugepages = (enum hugepages_kind)ret;
	c->hugepages_line = it->ent->line;
	return 0;
}

static int set_phys_bits(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	if (!ret)
		it->m->phys_bits = (unsigned int)v;
	return ret;
}

static int set_on_reboot(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	static const char *const words[] = {
		[REBOOT_RESET] = "reset",
		[REBOOT_POWEROFF] = "poweroff",
		NULL
	};
	int ret = parse_word(c, it, k, words);

	if (ret >= 0)
		it->m->on_reboot = (enum reboot_action)ret;
	return ret < 0 ? ret : 0;
}

static int set_kernel_decompress(struct cfg_ctx *c, struct cfg_item *it,
				 const struct key_desc *k)
{
	static const char *const words[] = {
		[DECOMPRESS_VMM] = "vmm",
		[DECOMPRESS_GUEST] = "guest",
		NULL
	};
	int ret = parse_word(c, it, k, words);

	if (ret >= 0)
		it->m->decompress = (enum kernel_decompress)ret;
	return ret < 0 ? ret : 0;
}

static int set_serial_console(struct cfg_ctx *c, struct cfg_item *it,
			      const struct key_desc *k)
{
	return parse_console(c, it, k, &it->ser->console);
}

static int set_bridge_type(struct cfg_ctx *c, struct cfg_item *it,
			   const struct key_desc *k)
{
	int ret = parse_word(c, it, k, bridge_words);

	if (ret < 0)
		return ret;
	it->br->kind = (enum bridge_kind)ret;
	it->x->typed = true;
	return 0;
}

static int set_bus(struct cfg_ctx *c, struct cfg_item *it,
		   const struct key_desc *k)
{
	/* resolved once every section is known: see check_buses */
	it->x->bus = it->ent;
	it->at->bus_line = it->ent->line;
	return 0;
}

static int set_slot(struct cfg_ctx *c, struct cfg_item *it,
		    const struct key_desc *k)
{
	unsigned long v;
	int ret;

	it->at->slot_line = it->ent->line;
	if (!strcmp(it->ent->value, "auto")) {
		it->at->slot = CFG_SLOT_AUTO;
		return 0;
	}
	ret = parse_number(c, it, k, &v);
	if (!ret)
		it->at->slot = (int)v;
	return ret;
}

static int set_function(struct cfg_ctx *c, struct cfg_item *it,
			const struct key_desc *k)
{
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	it->at->function_line = it->ent->line;
	if (!ret)
		it->at->function = (int)v;
	return ret;
}

static int set_blk_path(struct cfg_ctx *c, struct cfg_item *it,
			const struct key_desc *k)
{
	it->dev->blk.path_line = it->ent->line;
	return resolve(c, it->ent->value, &it->dev->blk.path);
}

static int set_blk_readonly(struct cfg_ctx *c, struct cfg_item *it,
			    const struct key_desc *k)
{
	return parse_bool(c, it, k, &it->dev->blk.readonly);
}

static int set_blk_discard(struct cfg_ctx *c, struct cfg_item *it,
			   const struct key_desc *k)
{
	return parse_bool(c, it, k, &it->dev->blk.discard);
}

static int set_blk_cache(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	static const char *const words[] = {
		[BLK_CACHE_WRITEBACK] = "writeback",
		[BLK_CACHE_DIRECT] = "direct",
		NULL
	};
	int ret = parse_word(c, it, k, words);

	if (ret >= 0)
		it->dev->blk.cache = (enum blk_cache)ret;
	return ret < 0 ? ret : 0;
}

static int set_blk_queues(struct cfg_ctx *c, struct cfg_item *it,
			  const struct key_desc *k)
{
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	if (!ret)
		it->dev->blk.queues = (unsigned int)v;
	return ret;
}

/* A number in the key's range that is also a power of two. */
static int parse_queue_size(struct cfg_ctx *c, struct cfg_item *it,
			    const struct key_desc *k, unsigned int *out)
{
	char shown[CFG_VALUE_SHOWN + 1];
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	if (ret)
		return ret;
	if (v & (v - 1)) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is not a power of two, expected %s",
			  cfg_shorten(it->ent->value, shown, sizeof(shown)), k->expect);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int set_blk_queue_size(struct cfg_ctx *c, struct cfg_item *it,
			      const struct key_desc *k)
{
	return parse_queue_size(c, it, k, &it->dev->blk.queue_size);
}

static int set_blk_serial(struct cfg_ctx *c, struct cfg_item *it,
			  const struct key_desc *k)
{
	size_t n = strlen(it->ent->value);
	char q[64];

	if (n > 20) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is %zu bytes long, expected at most 20",
			  cfg_quote(it->ent->value, q, sizeof(q)), n);
		return -EINVAL;
	}
	free(it->dev->blk.serial);
	it->dev->blk.serial = strdup(it->ent->value);
	return it->dev->blk.serial ? 0 : cfg_nomem(c);
}

static int set_net_tap(struct cfg_ctx *c, struct cfg_item *it,
		       const struct key_desc *k)
{
	if (!cfg_valid_name(it->ent->value, 15))
		return bad_value(c, it, k);
	it->x->tap_line = it->ent->line;
	if (!it->dev->net.tap_line || it->ent->line < it->dev->net.tap_line)
		it->dev->net.tap_line = it->ent->line;
	free(it->dev->net.tap);
	it->dev->net.tap = strdup(it->ent->value);
	return it->dev->net.tap ? 0 : cfg_nomem(c);
}

static int set_net_fd(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *k)
{
	unsigned long v;
	int ret = parse_number(c, it, k, &v);

	if (ret)
		return ret;
	it->x->fd_line = it->ent->line;
	if (!it->dev->net.tap_line || it->ent->line < it->dev->net.tap_line)
		it->dev->net.tap_line = it->ent->line;
	it->dev->net.fd = (int)v;
	return 0;
}

static int set_net_mac(struct cfg_ctx *c, struct cfg_item *it,
		       const struct key_desc *k)
{
	uint8_t *mac = it->dev->net.mac;
	static const uint8_t zero[6];

	if (cfg_parse_mac(it->ent->value, mac))
		return bad_value(c, it, k);
	if (mac[0] & 1) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is a multicast address, expected a unicast address (first byte even)",
			  it->ent->value);
		return -EINVAL;
	}
	if (!memcmp(mac, zero, sizeof(zero))) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "%s is all zeros, expected a unicast address",
			  it->ent->value);
		return -EINVAL;
	}
	it->dev->net.mac_set = true;
	return 0;
}

static int set_net_vhost(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	return parse_bool(c, it, k, &it->dev->net.vhost);
}

static int set_net_queue_size(struct cfg_ctx *c, struct cfg_item *it,
			      const struct key_desc *k)
{
	return parse_queue_size(c, it, k, &it->dev->net.queue_size);
}

static int set_dev_console(struct cfg_ctx *c, struct cfg_item *it,
			   const struct key_desc *k)
{
	return parse_console(c, it, k, &it->dev->console);
}

static int set_vfio_host(struct cfg_ctx *c, struct cfg_item *it,
			 const struct key_desc *k)
{
	if (pci_bdf_parse(it->ent->value, &it->dev->vfio.host))
		return bad_value(c, it, k);
	it->dev->vfio.host_line = it->ent->line;
	return 0;
}

static int set_vfio_rom(struct cfg_ctx *c, struct cfg_item *it,
			const struct key_desc *k)
{
	struct vfio_config *v = &it->dev->vfio;

	v->rom_line = it->ent->line;
	if (!strcmp(it->ent->value, "auto")) {
		v->rom = ROM_AUTO;
		return 0;
	}
	if (!strcmp(it->ent->value, "off")) {
		v->rom = ROM_OFF;
		return 0;
	}
	v->rom = ROM_FILE;
	return resolve(c, it->ent->value, &v->rom_file);
}

/* --- key tables --------------------------------------------------------- */

#define KEY(k, fn, n, e)	{ .key = k, .set = fn, .noun = n, .expect = e }
#define NUMBER(k, fn, lo, hi, e) \
	{ .key = k, .set = fn, .noun = "a number", .expect = e, .min = lo, .max = hi }
#define END			{ .key = NULL }

static const struct key_desc machine_keys[] = {
	KEY("name", set_name, "a valid name", NAME_CHARS),
	NUMBER("cpus", set_cpus, 1, CFG_MAX_CPUS, "1 to 64"),
	KEY("memory", set_memory, "a size",
	    "a number with an optional K, M, G or T suffix"),
	KEY("kernel", set_kernel, NULL, "a path to the kernel image"),
	KEY("initrd", set_initrd, NULL, "a path to the initrd"),
	{ .key = "cmdline", .set = set_cmdline, .allow_empty = true,
	  .multiline = true },
	KEY("hugepages", set_hugepages, "a huge page size", "off, 2M or 1G"),
	NUMBER("phys-bits", set_phys_bits, 36, 52, "36 to 52"),
	KEY("on-reboot", set_on_reboot, "a reboot action", "reset or poweroff"),
	KEY("kernel-decompress", set_kernel_decompress, "who decompresses the kernel",
	    "vmm or guest"),
	END
};

static const struct key_desc serial_keys[] = {
	KEY("console", set_serial_console, "a console", CONSOLE_WORDS),
	END
};

static const struct key_desc pci_keys[] = {
	KEY("type", set_bridge_type, "a bridge type", "root-port or pci-bridge"),
	KEY("bus", set_bus, NULL, "the name of a [pci] bridge"),
	NUMBER("slot", set_slot, 0, 31, "0 to 31 or auto"),
	NUMBER("function", set_function, 0, 7, "0 to 7"),
	END
};

/* pci_keys without type: the placement keys of every device */
static const struct key_desc *const placement_keys = &pci_keys[1];

static const struct key_desc device_type_key =
	KEY("type", NULL, "a device type",
	    "virtio-blk, virtio-net, virtio-console, virtio-rng or vfio");

static const struct key_desc blk_keys[] = {
	KEY("path", set_blk_path, NULL, "a path to a disk image"),
	KEY("readonly", set_blk_readonly, "a boolean", BOOL_WORDS),
	KEY("discard", set_blk_discard, "a boolean", BOOL_WORDS),
	KEY("cache", set_blk_cache, "a cache mode", "writeback or direct"),
	NUMBER("queues", set_blk_queues, 1, 64, "1 to 64"),
	NUMBER("queue-size", set_blk_queue_size, VIRTIO_BLK_QUEUE_SIZE_MIN, VIRTIO_BLK_QUEUE_SIZE_MAX,
	       "16, 32, 64, 128, 256, 512 or 1024"),
	KEY("serial", set_blk_serial, NULL, "at most 20 bytes"),
	END
};

static const struct key_desc net_keys[] = {
	KEY("tap", set_net_tap, "an interface name",
	    "1 to 15 characters of A-Z a-z 0-9 _ . -"),
	NUMBER("fd", set_net_fd, 0, INT_MAX, "an open file descriptor, 0 or more"),
	KEY("mac", set_net_mac, "a MAC address",
	    "six hex bytes like 52:54:00:12:34:56"),
	KEY("vhost", set_net_vhost, "a boolean", BOOL_WORDS),
	NUMBER("queue-size", set_net_queue_size, VIRTIO_NET_QUEUE_SIZE_MIN, VIRTIO_NET_QUEUE_SIZE_MAX,
	       "64, 128, 256, 512 or 1024"),
	END
};

static const struct key_desc console_keys[] = {
	KEY("console", set_dev_console, "a console", CONSOLE_WORDS),
	END
};

static const struct key_desc rng_keys[] = {
	END
};

static const struct key_desc vfio_keys[] = {
	KEY("host", set_vfio_host, "a PCI address", "DDDD:BB:DD.F or BB:DD.F (hex)"),
	KEY("rom", set_vfio_rom, NULL, "auto, off or a path to a ROM image"),
	END
};

static const struct key_desc *const device_keys[] = {
	[DEV_VIRTIO_BLK] = blk_keys,
	[DEV_VIRTIO_NET] = net_keys,
	[DEV_VIRTIO_CONSOLE] = console_keys,
	[DEV_VIRTIO_RNG] = rng_keys,
	[DEV_VFIO] = vfio_keys,
};

static const struct key_desc *find_key(const struct key_desc *keys,
				       const char *key)
{
	for (; keys->key; keys++)
		if (!strcmp(keys->key, key))
			return keys;
	return NULL;
}

/* "a, b, c" from one or two key tables */
static const char *key_list(const struct key_desc *a, const struct key_desc *b,
			    char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; a && a->key; a++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? ", " : "", a->key);
	for (; b && b->key; b++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? ", " : "", b->key);
	return buf;
}

/* What every value must be: on one line unless multiline, not empty. */
static int check_value(struct cfg_ctx *c, struct cfg_item *it,
		       const struct key_desc *k)
{
	if (it->ent->cont_line && !k->multiline) {
		cfg_error(c->e, it->ent->cont_line, it->sec->title, it->ent->key,
			  "indented line continues %s, expected keys in the first column (only cmdline takes continuation lines)",
			  it->ent->key);
		return -EINVAL;
	}
	if (!it->ent->value[0] && !k->allow_empty) {
		cfg_error(c->e, it->ent->line, it->sec->title, it->ent->key,
			  "empty value, expected %s", k->expect);
		return -EINVAL;
	}
	return 0;
}

static int apply_key(struct cfg_ctx *c, struct cfg_item *it,
		     const struct key_desc *k)
{
	int ret = check_value(c, it, k);

	return ret ? ret : k->set(c, it, k);
}

static int unknown_key(struct cfg_ctx *c, struct cfg_item *it,
		       const struct key_desc *a, const struct key_desc *b)
{
	char shown[CFG_VALUE_SHOWN + 1], list[256];

	cfg_error(c->e, it->ent->line, it->sec->title,
		  cfg_shorten(it->ent->key, shown, sizeof(shown)),
		  "unknown key, expected %s%s",
		  b || (a + 1)->key ? "one of " : "", key_list(a, b, list, sizeof(list)));
	return -EINVAL;
}

/* Applies every entry of it->sec with keys; -ENOMEM stops, -EINVAL not. */
static int apply_keys(struct cfg_ctx *c, struct cfg_item *it,
		      const struct key_desc *keys)
{
	const struct key_desc *k;
	unsigned int i;
	int ret;

	for (i = 0; i < it->sec->nr_entries; i++) {
		it->ent = &it->sec->entries[i];
		k = find_key(keys, it->ent->key);
		ret = k ? apply_key(c, it, k) : unknown_key(c, it, keys, NULL);
		if (ret == -ENOMEM)
			return ret;
	}
	return 0;
}

/* --- sections ----------------------------------------------------------- */

static int read_machine(struct cfg_ctx *c, const struct cfg_section *sec)
{
	struct cfg_item it = { .sec = sec, .m = &c->cfg->machine };

	c->machine = sec;
	c->cfg->machine.line = sec->line;
	return apply_keys(c, &it, machine_keys);
}

static int read_serial(struct cfg_ctx *c, const struct cfg_section *sec)
{
	struct vm_config *cfg = c->cfg;
	struct serial_config *ser = &cfg->serials[cfg->nr_serials];
	struct cfg_item it = {
		.sec = sec, .ser = ser, .x = &c->ser_x[cfg->nr_serials],
	};

	it.x->sec = sec;
	cfg->nr_serials++;
	ser->index = sec->serial;
	ser->line = sec->line;
	ser->console.kind = CONSOLE_NONE;
	return apply_keys(c, &it, serial_keys);
}

static void placement_init(struct placement *at)
{
	at->bus = -1;
	at->slot = CFG_SLOT_AUTO;
	at->function = 0;
}

static int read_bridge(struct cfg_ctx *c, const struct cfg_section *sec)
{
	struct vm_config *cfg = c->cfg;
	struct bridge_config *br = &cfg->bridges[cfg->nr_bridges];
	struct cfg_item it = {
		.sec = sec, .br = br, .at = &br->at, .x = &c->br_x[cfg->nr_bridges],
	};

	it.x->sec = sec;
	cfg->nr_bridges++;
	br->line = sec->line;
	br->name = strdup(sec->name);
	if (!br->name)
		return cfg_nomem(c);
	placement_init(&br->at);
	return apply_keys(c, &it, pci_keys);
}

static void device_defaults(struct device_config *dev)
{
	switch (dev->kind) {
	case DEV_VIRTIO_BLK:
		dev->blk.discard = true;
		dev->blk.cache = BLK_CACHE_WRITEBACK;
		dev->blk.queue_size = VIRTIO_BLK_QUEUE_SIZE_DEFAULT;
		break;
	case DEV_VIRTIO_NET:
		dev->net.fd = -1;
		dev->net.queue_size = VIRTIO_NET_QUEUE_SIZE_DEFAULT;
		break;
	case DEV_VIRTIO_CONSOLE:
		dev->console.kind = CONSOLE_STDIO;
		break;
	case DEV_VFIO:
		dev->vfio.rom = ROM_AUTO;
		break;
	case DEV_VIRTIO_RNG:
		break;
	}
}

/* The device type whose table has key, or -1. */
static int type_with_key(const char *key)
{
	int t;

	for (t = 0; t <= DEV_VFIO; t++)
		if (find_key(device_keys[t], key))
			return t;
	return -1;
}

static int read_device(struct cfg_ctx *c, const struct cfg_section *sec)
{
	struct vm_config *cfg = c->cfg;
	struct device_config *dev = &cfg->devices[cfg->nr_devices];
	struct cfg_item it = {
		.sec = sec, .dev = dev, .at = &dev->at, .x = &c->dev_x[cfg->nr_devices],
	};
	const struct key_desc *k, *keys = NULL;
	char shown[CFG_VALUE_SHOWN + 1], list[256];
	unsigned int i;
	int ret;

	it.x->sec = sec;
	cfg->nr_devices++;
	dev->line = sec->line;
	dev->name = strdup(sec->name);
	if (!dev->name)
		return cfg_nomem(c);
	placement_init(&dev->at);

	it.ent = cfg_find(sec, "type");
	if (it.ent) {
		if (check_value(c, &it, &device_type_key)) {
			/* reported */
		} else if ((ret = cfg_parse_word(it.ent->value, device_words)) < 0) {
			bad_value(c, &it, &device_type_key);
		} else {
			dev->kind = (enum device_kind)ret;
			keys = device_keys[ret];
			it.x->typed = true;
			device_defaults(dev);
		}
	}

	for (i = 0; i < sec->nr_entries; i++) {
		it.ent = &sec->entries[i];
		if (!strcmp(it.ent->key, "type"))
			continue;
		k = find_key(placement_keys, it.ent->key);
		if (!k && keys)
			k = find_key(keys, it.ent->key);
		if (k) {
			ret = apply_key(c, &it, k);
			if (ret == -ENOMEM)
				return ret;
			continue;
		}
		ret = type_with_key(it.ent->key);
		if (ret < 0 && keys) {
			unknown_key(c, &it, keys, placement_keys);
		} else if (ret < 0) {
			cfg_error(c->e, it.ent->line, sec->title,
				  cfg_shorten(it.ent->key, shown, sizeof(shown)),
				  "unknown key, expected type, bus, slot, function or a key of the device's type");
		} else if (keys) {
			cfg_error(c->e, it.ent->line, sec->title, it.ent->key,
				  "not a key of type %s, expected one of %s",
				  device_words[dev->kind],
				  key_list(keys, placement_keys, list, sizeof(list)));
		}
		/* else: no valid type to judge the key by; type is reported */
	}
	return 0;
}

int cfg_read_section(struct cfg_ctx *c, const struct cfg_section *sec)
{
	switch (sec->kind) {
	case SECT_MACHINE:
		return read_machine(c, sec);
	case SECT_SERIAL:
		return read_serial(c, sec);
	case SECT_PCI:
		return read_bridge(c, sec);
	case SECT_DEVICE:
		return read_device(c, sec);
	}
	return 0;
}
