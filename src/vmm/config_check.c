/*
 * The checks that relate lines of the machine file: required keys, bus
 * references and cycles, slots and functions, host addresses, stdio.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config_ctx.h"
#include "x86/layout.h"

static void missing(struct cfg_ctx *c, const struct cfg_section *sec,
		    const char *key, const char *why)
{
	cfg_error(c->e, sec->line, sec->title, key, "missing, %s", why);
}

/* RAM must lie below 2^phys-bits (default memory always fits: blame memory). */
static void check_phys_bits(struct cfg_ctx *c, const struct machine_config *m)
{
	uint64_t end = x86_ram_end(m->memory);
	unsigned int bits = x86_addr_bits(end);
	char size[32];

	if (bits <= m->phys_bits)
		return;
	cfg_format_size(m->memory, size, sizeof(size));
	cfg_error(c->e, c->memory_line ? c->memory_line : c->machine->line,
		  c->machine->title, "memory",
		  "%s of RAM reaches 0x%" PRIx64 " and needs %u physical address bits, expected phys-bits = %u or more",
		  size, end - 1, bits, bits);
}

static void check_machine(struct cfg_ctx *c)
{
	struct machine_config *m = &c->cfg->machine;
	const char *page_name;
	uint64_t page;
	char size[32];

	if (!c->machine) {
		cfg_error(c->e, 0, "[machine]", NULL,
			  "missing section, expected a [machine] section with kernel = PATH");
		return;
	}
	if (!m->kernel)
		missing(c, c->machine, "kernel",
			"a machine needs a kernel to boot (kernel = PATH)");
	check_phys_bits(c, m);
	if (m->hugepages == HUGEPAGES_OFF)
		return;
	page = m->hugepages == HUGEPAGES_2M ? 2ULL << 20 : 1ULL << 30;
	page_name = m->hugepages == HUGEPAGES_2M ? "2M" : "1G";
	if (m->memory % page == 0)
		return;
	cfg_format_size(m->memory, size, sizeof(size));
	if (c->memory_line)
		cfg_error(c->e, c->memory_line, c->machine->title, "memory",
			  "%s is not a multiple of the %s huge page size, expected a multiple of %s",
			  size, page_name, page_name);
	else
		cfg_error(c->e, c->hugepages_line, c->machine->title, "hugepages",
			  "%s pages do not fit memory = %s (the default), expected memory = a multiple of %s",
			  page_name, size, page_name);
}

static void check_device_keys(struct cfg_ctx *c, struct device_config *dev,
			      struct cfg_extra *x)
{
	const struct cfg_section *sec = x->sec;

	if (!x->typed) {
		if (!cfg_find(sec, "type"))
			missing(c, sec, "type",
				"a device needs type = virtio-blk, virtio-net, virtio-console, virtio-rng or vfio");
		return;
	}
	switch (dev->kind) {
	case DEV_VIRTIO_BLK:
		if (!dev->blk.path)
			missing(c, sec, "path", "a virtio-blk needs a disk image path");
		break;
	case DEV_VIRTIO_NET:
		if (!x->tap_line && !x->fd_line)
			missing(c, sec, "tap",
				"a virtio-net needs tap = IFNAME or fd = N");
		else if (x->tap_line && x->fd_line)
			cfg_error(c->e, x->tap_line > x->fd_line ? x->tap_line : x->fd_line,
				  sec->title, x->tap_line > x->fd_line ? "tap" : "fd",
				  "tap and fd both given, expected exactly one of them");
		break;
	case DEV_VFIO:
		if (!dev->vfio.host_line)
			missing(c, sec, "host",
				"a vfio device needs a host PCI address (host = DDDD:BB:DD.F)");
		break;
	case DEV_VIRTIO_CONSOLE:
		x->console_line = dev->console.line ? dev->console.line : sec->line;
		break;
	case DEV_VIRTIO_RNG:
		break;
	}
}

/* Index of the [pci] bridge called name, -1 if none; *sec: any section. */
static int find_bridge(struct cfg_ctx *c, const char *name,
		       const struct cfg_section **sec)
{
	unsigned int i;

	*sec = NULL;
	for (i = 0; i < c->raw.nr_sections; i++) {
		const struct cfg_section *s = &c->raw.sections[i];

		if ((s->kind == SECT_PCI || s->kind == SECT_DEVICE) &&
		    !strcmp(s->name, name)) {
			*sec = s;
			break;
		}
	}
	for (i = 0; *sec && i < c->cfg->nr_bridges; i++)
		if (c->br_x[i].sec == *sec)
			return (int)i;
	return -1;
}

/* Resolves bus = NAME of one bridge or device; false if it is wrong. */
static bool resolve_bus(struct cfg_ctx *c, struct placement *at,
			struct cfg_extra *x)
{
	const struct cfg_section *sec;
	char q[64];
	int b;

	if (!x->bus)
		return true;
	b = find_bridge(c, x->bus->value, &sec);
	if (b >= 0) {
		at->bus = b;
		/* a bridge without a valid type: its own error says so */
		return c->br_x[b].typed;
	}
	if (sec)
		cfg_error(c->e, x->bus->line, x->sec->title, "bus",
			  "%s is a [device], expected the name of a [pci] bridge",
			  cfg_quote(x->bus->value, q, sizeof(q)));
	else
		cfg_error(c->e, x->bus->line, x->sec->title, "bus",
			  "no [pci %s] in this file, expected the name of a [pci] bridge",
			  cfg_quote(x->bus->value, q, sizeof(q)));
	return false;
}

static int check_buses(struct cfg_ctx *c)
{
	struct vm_config *cfg = c->cfg;
	unsigned int i, steps;
	bool *cycle;
	int b;

	for (i = 0; i < cfg->nr_bridges; i++) {
		struct bridge_config *br = &cfg->bridges[i];
		struct cfg_extra *x = &c->br_x[i];

		if (!x->typed) {
			missing(c, x->sec, "type",
				"a [pci] bridge needs type = root-port or pci-bridge");
			continue;
		}
		if (br->kind == BRIDGE_ROOT_PORT && x->bus) {
			cfg_error(c->e, x->bus->line, x->sec->title, "bus",
				  "a root-port sits on the root bus, expected no bus = in a root-port");
			continue;
		}
		x->placed = resolve_bus(c, &br->at, x);
	}
	for (i = 0; i < cfg->nr_devices; i++)
		c->dev_x[i].placed = resolve_bus(c, &cfg->devices[i].at,
						 &c->dev_x[i]);

	/* a bridge on its own bus, directly or through others */
	cycle = calloc(cfg->nr_bridges + 1, sizeof(*cycle));
	if (!cycle)
		return cfg_nomem(c);
	for (i = 0; i < cfg->nr_bridges; i++) {
		if (!c->br_x[i].placed)
			continue;
		b = cfg->bridges[i].at.bus;
		for (steps = 0; b >= 0 && b != (int)i && steps <= cfg->nr_bridges; steps++)
			b = c->br_x[b].placed ? cfg->bridges[b].at.bus : -1;
		cycle[i] = b == (int)i;
	}
	for (i = 0; i < cfg->nr_bridges; i++) {
		struct cfg_extra *x = &c->br_x[i];
		char q[64];

		if (!cycle[i])
			continue;
		cfg_error(c->e, x->bus->line, x->sec->title, "bus",
			  "%s leads back to this bridge, expected bridges that end at the root bus",
			  cfg_quote(x->bus->value, q, sizeof(q)));
		x->placed = false;
	}
	free(cycle);
	return 0;
}

/* A bridge or a device, for the slot checks: in file order. */
struct cfg_func {
	struct placement *at;
	struct cfg_extra *x;
};

static int func_cmp(const void *a, const void *b)
{
	const struct cfg_func *fa = a, *fb = b;

	return fa->x->sec->line - fb->x->sec->line;
}

static bool on_root_port(struct cfg_ctx *c, const struct placement *at)
{
	return at->bus >= 0 && c->br_x[at->bus].typed &&
	       c->cfg->bridges[at->bus].kind == BRIDGE_ROOT_PORT;
}

static const char *bus_text(struct cfg_ctx *c, const struct placement *at,
			    char *buf, size_t len)
{
	if (at->bus < 0)
		snprintf(buf, len, "the root bus");
	else
		snprintf(buf, len, "bus %s", c->cfg->bridges[at->bus].name);
	return buf;
}

/* Slot rules of one function; false if it broke one. */
static bool check_slot(struct cfg_ctx *c, struct cfg_func *f)
{
	struct placement *at = f->at;
	const char *title = f->x->sec->title;

	if (on_root_port(c, at)) {
		if (at->slot > 0) {
			cfg_error(c->e, at->slot_line, title, "slot",
				  "%s is a root port, its bus has only slot 0, expected slot = 0 or no slot",
				  c->cfg->bridges[at->bus].name);
			return false;
		}
		at->slot = 0;
		return true;
	}
	if (at->bus < 0 && at->slot == 0) {
		cfg_error(c->e, at->slot_line, title, "slot",
			  "slot 0 of the root bus holds the host bridge, expected 1 to 31 or auto");
		return false;
	}
	if (at->function > 0 && at->slot == CFG_SLOT_AUTO) {
		cfg_error(c->e, at->function_line, title, "function",
			  "function = %d needs an explicit slot, expected slot = N in this section",
			  at->function);
		return false;
	}
	return true;
}

static void placement_where(const struct placement *at, const struct cfg_extra *x,
			    int *line, const char **key)
{
	*line = x->sec->line;
	*key = NULL;
	if (at->slot_line) {
		*line = at->slot_line;
		*key = "slot";
	} else if (at->function_line) {
		*line = at->function_line;
		*key = "function";
	} else if (at->bus_line) {
		*line = at->bus_line;
		*key = "bus";
	}
}

static bool same_slot(const struct placement *a, const struct placement *b)
{
	return a->bus == b->bus && a->slot == b->slot;
}

static int check_slots(struct cfg_ctx *c)
{
	struct vm_config *cfg = c->cfg;
	unsigned int i, j, n = 0;
	struct cfg_func *f;
	char where[96];

	f = calloc(cfg->nr_bridges + cfg->nr_devices + 1, sizeof(*f));
	if (!f)
		return cfg_nomem(c);
	for (i = 0; i < cfg->nr_bridges; i++)
		if (c->br_x[i].placed)
			f[n++] = (struct cfg_func){ &cfg->bridges[i].at, &c->br_x[i] };
	for (i = 0; i < cfg->nr_devices; i++)
		if (c->dev_x[i].placed)
			f[n++] = (struct cfg_func){ &cfg->devices[i].at, &c->dev_x[i] };
	qsort(f, n, sizeof(*f), func_cmp);

	for (i = 0; i < n; i++)
		if (!check_slot(c, &f[i]))
			f[i].x->placed = false;

	for (j = 0; j < n; j++) {
		const struct placement *at = f[j].at;
		const char *key;
		int line;

		if (!f[j].x->placed || at->slot == CFG_SLOT_AUTO)
			continue;
		for (i = 0; i < j; i++)
			if (f[i].x->placed && same_slot(f[i].at, at) &&
			    f[i].at->function == at->function)
				break;
		if (i < j) {
			placement_where(at, f[j].x, &line, &key);
			cfg_error(c->e, line, f[j].x->sec->title, key,
				  "slot %d function %d of %s is taken by %s (line %d), expected a free slot or function",
				  at->slot, at->function, bus_text(c, at, where, sizeof(where)),
				  f[i].x->sec->title, f[i].x->sec->line);
			continue;
		}
		if (at->function == 0)
			continue;
		for (i = 0; i < n; i++)
			if (f[i].x->placed && same_slot(f[i].at, at) &&
			    f[i].at->function == 0)
				break;
		if (i == n)
			cfg_error(c->e, at->function_line, f[j].x->sec->title, "function",
				  "slot %d of %s has no function 0, expected a function 0 in the same slot",
				  at->slot, bus_text(c, at, where, sizeof(where)));
	}
	free(f);
	return 0;
}

static void check_hosts(struct cfg_ctx *c)
{
	struct vm_config *cfg = c->cfg;
	unsigned int i, j;
	char bdf[PCI_BDF_STRLEN];

	for (j = 0; j < cfg->nr_devices; j++) {
		struct device_config *b = &cfg->devices[j];

		if (b->kind != DEV_VFIO || !c->dev_x[j].typed || !b->vfio.host_line)
			continue;
		for (i = 0; i < j; i++) {
			struct device_config *a = &cfg->devices[i];

			if (a->kind == DEV_VFIO && c->dev_x[i].typed && a->vfio.host_line &&
			    pci_bdf_equal(&a->vfio.host, &b->vfio.host))
				break;
		}
		if (i < j)
			cfg_error(c->e, b->vfio.host_line, c->dev_x[j].sec->title, "host",
				  "%s is already passed through by %s (line %d), expected each host function once",
				  pci_bdf_format(&b->vfio.host, bdf, sizeof(bdf)),
				  c->dev_x[i].sec->title, c->dev_x[i].sec->line);
	}
}

/* One stdio console among serial ports and virtio-consoles. */
static void check_stdio(struct cfg_ctx *c)
{
	struct vm_config *cfg = c->cfg;
	const struct cfg_extra *first = NULL, *second = NULL, *x;
	unsigned int i;

	for (i = 0; i < cfg->nr_serials + cfg->nr_devices; i++) {
		const struct console_config *con;

		if (i < cfg->nr_serials) {
			con = &cfg->serials[i].console;
			x = &c->ser_x[i];
		} else {
			const struct device_config *dev = &cfg->devices[i - cfg->nr_serials];

			x = &c->dev_x[i - cfg->nr_serials];
			if (!x->typed || dev->kind != DEV_VIRTIO_CONSOLE)
				continue;
			con = &dev->console;
		}
		if (con->kind != CONSOLE_STDIO)
			continue;
		if (!first || x->console_line < first->console_line) {
			second = first;
			first = x;
		} else if (!second || x->console_line < second->console_line) {
			second = x;
		}
	}
	if (!second)
		return;
	cfg_error(c->e, second->console_line, second->sec->title, "console",
		  "%s is taken by %s (line %d), expected one stdio console",
		  second->console_line == second->sec->line ?
		  "stdio (the virtio-console default)" : "stdio",
		  first->sec->title, first->console_line);
}

int cfg_check(struct cfg_ctx *c)
{
	unsigned int i;
	int ret;

	check_machine(c);
	for (i = 0; i < c->cfg->nr_devices; i++)
		check_device_keys(c, &c->cfg->devices[i], &c->dev_x[i]);
	ret = check_buses(c);
	if (ret)
		return ret;
	ret = check_slots(c);
	if (ret)
		return ret;
	check_hosts(c);
	check_stdio(c);
	return 0;
}
