/*
 * The guest PCI tree: functions and bridges, device-number placement,
 * depth-first bus numbering, multifunction flags and the INTx swizzle.
 * BARs and windows are placed by bar_alloc.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/bar_alloc.h"
#include "pci/topology.h"

#define DEVFNS		(PCI_MAX_SLOTS * PCI_MAX_FUNCS)

static int grow(void **arr, unsigned int *cap, unsigned int need, size_t elem)
{
	unsigned int ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < need)
		ncap = need;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int add_bus(struct pci_topology *t, int bridge, bool single_slot)
{
	struct pci_bus_node *b;

	if (grow((void **)&t->buses, &t->cap_buses, t->nr_buses + 1, sizeof(*t->buses)))
		return -ENOMEM;
	b = &t->buses[t->nr_buses];
	memset(b, 0, sizeof(*b));
	b->bridge = bridge;
	b->single_slot = single_slot;
	return (int)t->nr_buses++;
}

int pci_topo_init(struct pci_topology *t)
{
	struct pci_func hb = {
		.kind = PCI_FUNC_HOST_BRIDGE,
		.name = "host bridge",
		.owner = -1,
		.bus_req = 0,
		.slot_req = 0,
		.fn_req = 0,
		.class_code = 0x060000,
	};

	memset(t, 0, sizeof(*t));
	t->error.func = t->error.bar = t->error.res = -1;
	if (add_bus(t, -1, false) < 0 || pci_topo_add_func(t, &hb) < 0) {
		pci_topo_free(t);
		return -ENOMEM;
	}
	return 0;
}

void pci_topo_free(struct pci_topology *t)
{
	free(t->funcs);
	free(t->buses);
	memset(t, 0, sizeof(*t));
}

int pci_topo_add_func(struct pci_topology *t, const struct pci_func *req)
{
	struct pci_func *f;

	if (grow((void **)&t->funcs, &t->cap_funcs, t->nr_funcs + 1, sizeof(*t->funcs)))
		return -ENOMEM;
	f = &t->funcs[t->nr_funcs];
	memcpy(f, req, sizeof(*f));
	f->child_bus = -1;
	return (int)t->nr_funcs++;
}

int pci_topo_add_bridge(struct pci_topology *t, const struct pci_func *req)
{
	int idx, bus;

	if (req->kind != PCI_FUNC_ROOT_PORT && req->kind != PCI_FUNC_PCI_BRIDGE)
		return -EINVAL;
	idx = pci_topo_add_func(t, req);
	if (idx < 0)
		return idx;
	bus = add_bus(t, idx, req->kind == PCI_FUNC_ROOT_PORT);
	if (bus < 0) {
		t->nr_funcs--;
		return bus;
	}
	t->funcs[idx].child_bus = bus;
	return idx;
}

const char *pci_bar_type_name(enum pci_bar_type type)
{
	switch (type) {
	case PCI_BAR_IO:
		return "io";
	case PCI_BAR_MEM32:
		return "mem32";
	case PCI_BAR_MEM64:
		return "mem64";
	case PCI_BAR_UNUSED:
		break;
	}
	return "unused";
}

const char *pci_res_name(enum pci_res_kind res)
{
	switch (res) {
	case PCI_RES_IO:
		return "I/O";
	case PCI_RES_MEM:
		return "memory";
	case PCI_RES_PREF:
		return "prefetchable";
	case PCI_NR_RES:
		break;
	}
	return "?";
}

const char *pci_func_kind_name(enum pci_func_kind kind)
{
	switch (kind) {
	case PCI_FUNC_HOST_BRIDGE:
		return "host bridge";
	case PCI_FUNC_ROOT_PORT:
		return "root port";
	case PCI_FUNC_PCI_BRIDGE:
		return "PCI bridge";
	case PCI_FUNC_ENDPOINT:
		break;
	}
	return "endpoint";
}

enum pci_res_kind pci_bar_res(const struct pci_bar *bar)
{
	if (bar->type == PCI_BAR_IO)
		return PCI_RES_IO;
	if (bar->type == PCI_BAR_MEM64 && bar->prefetchable)
		return PCI_RES_PREF;
	return PCI_RES_MEM;
}

const struct pci_window *pci_func_window(const struct pci_func *f, enum pci_res_kind res)
{
	switch (res) {
	case PCI_RES_IO:
		return &f->io;
	case PCI_RES_PREF:
		return &f->pref;
	default:
		return &f->mem;
	}
}

/* Scratch state of one pci_topo_assign(). */
struct topo_ctx {
	struct pci_topology *t;
	int *occ;			/* [bus * DEVFNS + devfn]: function index or -1 */
	unsigned char *used;		/* [bus * PCI_MAX_SLOTS + slot]: functions in the slot */
	unsigned int *bus_by_number;
	unsigned int next_bus;
	char *err;
	size_t errlen;
};

static const char *fname(const struct pci_func *f)
{
	return f->name ? f->name : "?";
}

static int topo_fail(struct topo_ctx *c, int func, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int topo_fail(struct topo_ctx *c, int func, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "\"%s\": ", fname(&c->t->funcs[func]));
	if (n < 0 || (size_t)n >= c->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	c->t->error.func = func;
	c->t->error.bar = -1;
	c->t->error.res = -1;
	return ret;
}

/* "on the root bus", "behind root port \"rp0\"". */
static const char *bus_desc(struct topo_ctx *c, int bus, char *buf, size_t len)
{
	const struct pci_bus_node *b = &c->t->buses[bus];

	if (b->bridge < 0)
		snprintf(buf, len, "on the root bus");
	else
		snprintf(buf, len, "behind %s \"%s\"",
			 pci_func_kind_name(c->t->funcs[b->bridge].kind),
			 fname(&c->t->funcs[b->bridge]));
	return buf;
}

static int check_bars(struct topo_ctx *c, unsigned int i)
{
	const struct pci_func *f = &c->t->funcs[i];
	int b;

	for (b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &f->bars[b];

		if (bar->type == PCI_BAR_UNUSED)
			continue;
		if (bar->type != PCI_BAR_IO && bar->type != PCI_BAR_MEM32 &&
		    bar->type != PCI_BAR_MEM64)
			return topo_fail(c, i, -EINVAL, "BAR%d: unknown type %d", b, bar->type);
		if (bar->size & (bar->size - 1))
			return topo_fail(c, i, -EINVAL,
					 "BAR%d: size 0x%llx is not a power of two",
					 b, (unsigned long long)bar->size);
		if (bar->type == PCI_BAR_MEM64 &&
		    (b == PCI_NR_BARS - 1 || f->bars[b + 1].type != PCI_BAR_UNUSED))
			return topo_fail(c, i, -EINVAL,
					 "BAR%d: a 64-bit BAR needs BAR%d as its upper half",
					 b, b + 1);
	}
	if (f->rom.type != PCI_BAR_UNUSED &&
	    (f->rom.type != PCI_BAR_MEM32 || (f->rom.size & (f->rom.size - 1))))
		return topo_fail(c, i, -EINVAL,
				 "ROM: expected a 32-bit memory BAR with a power-of-two size");
	return 0;
}

static int check_requests(struct topo_ctx *c)
{
	struct pci_topology *t = c->t;
	unsigned int i;
	int ret;

	if (t->nr_buses > PCI_MAX_BUSES)
		return topo_fail(c, t->buses[PCI_MAX_BUSES].bridge, -ENOSPC,
				 "no bus number left: at most %d buses", PCI_MAX_BUSES);
	for (i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *f = &t->funcs[i];

		if (f->bus_req < 0 || (unsigned int)f->bus_req >= t->nr_buses)
			return topo_fail(c, i, -EINVAL, "no such bus (index %d)", f->bus_req);
		if (f->slot_req != PCI_SLOT_AUTO &&
		    (f->slot_req < 0 || f->slot_req >= PCI_MAX_SLOTS))
			return topo_fail(c, i, -EINVAL, "slot %d: expected 0 to %d",
					 f->slot_req, PCI_MAX_SLOTS - 1);
		if (f->fn_req < 0 || f->fn_req >= PCI_MAX_FUNCS)
			return topo_fail(c, i, -EINVAL, "function %d: expected 0 to %d",
					 f->fn_req, PCI_MAX_FUNCS - 1);
		if (f->intx_pin > 4)
			return topo_fail(c, i, -EINVAL, "INTx pin %u: expected 0 to 4",
					 f->intx_pin);
		if (f->kind == PCI_FUNC_HOST_BRIDGE && i != 0)
			return topo_fail(c, i, -EINVAL, "only one host bridge, at 00:00.0");
		if (f->kind == PCI_FUNC_ROOT_PORT && f->bus_req != 0)
			return topo_fail(c, i, -EINVAL,
					 "a PCIe root port sits on the root bus only");
		if ((f->kind == PCI_FUNC_ROOT_PORT || f->kind == PCI_FUNC_PCI_BRIDGE) !=
		    (f->child_bus >= 0))
			return topo_fail(c, i, -EINVAL, "bridges are added with pci_topo_add_bridge");
		ret = check_bars(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int take(struct topo_ctx *c, unsigned int i, unsigned int slot)
{
	struct pci_func *f = &c->t->funcs[i];
	unsigned int bus = (unsigned int)f->bus_req, fn = (unsigned int)f->fn_req;
	int *o = &c->occ[bus * DEVFNS + slot * PCI_MAX_FUNCS + fn];
	char where[160];

	if (c->t->buses[bus].single_slot && slot != 0)
		return topo_fail(c, i, -EINVAL,
				 "slot %u: a PCIe port's link has one slot, 0 (%s)",
				 slot, bus_desc(c, bus, where, sizeof(where)));
	if (*o >= 0)
		return topo_fail(c, i, -EEXIST,
				 "slot %u function %u %s is already taken by \"%s\"",
				 slot, fn, bus_desc(c, bus, where, sizeof(where)),
				 fname(&c->t->funcs[*o]));
	*o = (int)i;
	c->used[bus * PCI_MAX_SLOTS + slot]++;
	f->dev = (uint8_t)slot;
	f->fn = (uint8_t)fn;
	return 0;
}

/*
 * Explicit slots first, then automatic ones in order of addition: on a
 * PCIe port's link slot 0; function N > 0 the slot of the function added
 * before it on that bus; function 0 a slot that has functions but no
 * function 0, else the lowest empty slot.
 */
static int place(struct topo_ctx *c)
{
	struct pci_topology *t = c->t;
	unsigned int i, nb = t->nr_buses;
	unsigned int *next_free, *next_orphan;
	int *last, ret = 0;
	char where[160];

	next_free = calloc(nb, sizeof(*next_free));
	next_orphan = calloc(nb, sizeof(*next_orphan));
	last = malloc(nb * sizeof(*last));
	if (!next_free || !next_orphan || !last) {
		ret = -ENOMEM;
		snprintf(c->err, c->errlen, "out of memory placing PCI functions");
		goto out;
	}
	for (i = 0; i < nb; i++)
		last[i] = -1;

	for (i = 0; i < t->nr_funcs && !ret; i++)
		if (t->funcs[i].slot_req != PCI_SLOT_AUTO)
			ret = take(c, i, (unsigned int)t->funcs[i].slot_req);

	for (i = 0; i < t->nr_funcs && !ret; i++) {
		struct pci_func *f = &t->funcs[i];
		unsigned int bus = (unsigned int)f->bus_req, s;

		if (f->slot_req == PCI_SLOT_AUTO) {
			if (t->buses[bus].single_slot) {
				s = 0;
			} else if (f->fn_req > 0) {
				/* Function N shares the slot of the one before it. */
				if (last[bus] < 0) {
					ret = topo_fail(c, i, -EINVAL,
							"function %d needs a slot: nothing before it %s to share one with",
							f->fn_req, bus_desc(c, bus, where, sizeof(where)));
					break;
				}
				s = t->funcs[last[bus]].dev;
			} else {
				/*
				 * Function 0 first completes a slot whose other
				 * functions were placed by hand, else takes the
				 * lowest empty slot.
				 */
				s = next_orphan[bus];
				while (s < PCI_MAX_SLOTS &&
				       (!c->used[bus * PCI_MAX_SLOTS + s] ||
					c->occ[bus * DEVFNS + s * PCI_MAX_FUNCS] >= 0))
					s++;
				next_orphan[bus] = s;
				if (s == PCI_MAX_SLOTS) {
					s = next_free[bus];
					while (s < PCI_MAX_SLOTS && c->used[bus * PCI_MAX_SLOTS + s])
						s++;
					next_free[bus] = s;
				}
				if (s == PCI_MAX_SLOTS) {
					ret = topo_fail(c, i, -ENOSPC, "no free slot %s",
							bus_desc(c, bus, where, sizeof(where)));
					break;
				}
			}
			ret = take(c, i, s);
		}
		last[bus] = (int)i;
	}
out:
	free(next_free);
	free(next_orphan);
	free(last);
	return ret;
}

/* Function 0 present in every used slot; it carries the multifunction bit. */
static int check_slots(struct topo_ctx *c)
{
	unsigned int bus, s, fn;

	for (bus = 0; bus < c->t->nr_buses; bus++) {
		for (s = 0; s < PCI_MAX_SLOTS; s++) {
			const int *o = &c->occ[bus * DEVFNS + s * PCI_MAX_FUNCS];

			if (!c->used[bus * PCI_MAX_SLOTS + s])
				continue;
			if (o[0] < 0) {
				for (fn = 1; o[fn] < 0; fn++)
					;
				return topo_fail(c, o[fn], -EINVAL,
						 "function %u of slot %u has no function 0 beside it",
						 fn, s);
			}
			c->t->funcs[o[0]].multifunction = c->used[bus * PCI_MAX_SLOTS + s] > 1;
		}
	}
	return 0;
}

/* Depth first, in device.function order: secondary = next free number. */
static int number_bus(struct topo_ctx *c, unsigned int bus)
{
	struct pci_topology *t = c->t;
	unsigned int devfn;
	int ret;

	for (devfn = 0; devfn < DEVFNS; devfn++) {
		int i = c->occ[bus * DEVFNS + devfn];
		struct pci_func *f;
		unsigned int child;

		if (i < 0 || t->funcs[i].child_bus < 0)
			continue;
		f = &t->funcs[i];
		child = (unsigned int)f->child_bus;
		if (c->next_bus + 1 >= PCI_MAX_BUSES)
			return topo_fail(c, i, -ENOSPC,
					 "no bus number left: at most %d buses", PCI_MAX_BUSES);
		c->next_bus++;
		f->secondary = (uint8_t)c->next_bus;
		t->buses[child].number = (uint8_t)c->next_bus;
		c->bus_by_number[c->next_bus] = child;
		ret = number_bus(c, child);
		if (ret)
			return ret;
		f->subordinate = (uint8_t)c->next_bus;
	}
	return 0;
}

static int number(struct topo_ctx *c)
{
	struct pci_topology *t = c->t;
	unsigned int i;
	int ret;

	c->next_bus = 0;
	t->buses[0].number = 0;
	c->bus_by_number[0] = 0;
	ret = number_bus(c, 0);
	if (ret)
		return ret;
	if (c->next_bus + 1 != t->nr_buses) {
		/* A bus never reached hangs off a loop of bridges. */
		for (i = 1; i < t->nr_buses; i++) {
			int br = t->buses[i].bridge;

			if (!t->funcs[br].secondary)
				return topo_fail(c, br, -EINVAL,
						 "cannot be reached from the root bus: its bridges form a loop");
		}
	}
	for (i = 0; i < t->nr_funcs; i++)
		t->funcs[i].bus = t->buses[t->funcs[i].bus_req].number;
	return 0;
}

/* At each bridge up to the root: pin' = ((pin - 1 + dev) % 4) + 1. */
static void swizzle(struct pci_topology *t,
		    unsigned int (*gsi_of)(unsigned int slot, unsigned int pin))
{
	unsigned int i;

	for (i = 0; i < t->nr_funcs; i++) {
		struct pci_func *f = &t->funcs[i];
		unsigned int pin = f->intx_pin, dev = f->dev;
		int bus = f->bus_req;

		if (!pin)
			continue;
		while (t->buses[bus].bridge >= 0) {
			const struct pci_func *br = &t->funcs[t->buses[bus].bridge];

			pin = ((pin - 1 + dev) % 4) + 1;
			dev = br->dev;
			bus = br->bus_req;
		}
		f->root_pin = (uint8_t)pin;
		f->root_slot = (uint8_t)dev;
		f->gsi = gsi_of ? gsi_of(dev, pin) : 0;
	}
}

static void reset_results(struct pci_topology *t)
{
	unsigned int i;
	int b;

	t->error.func = t->error.bar = t->error.res = -1;
	for (i = 0; i < t->nr_buses; i++)
		t->buses[i].number = 0;
	for (i = 0; i < t->nr_funcs; i++) {
		struct pci_func *f = &t->funcs[i];

		f->bus = f->dev = f->fn = 0;
		f->multifunction = false;
		f->root_pin = f->root_slot = 0;
		f->gsi = 0;
		f->secondary = f->subordinate = 0;
		memset(&f->io, 0, sizeof(f->io));
		memset(&f->mem, 0, sizeof(f->mem));
		memset(&f->pref, 0, sizeof(f->pref));
		for (b = 0; b < PCI_NR_BARS; b++)
			f->bars[b].addr = 0;
		f->rom.addr = 0;
	}
}

int pci_topo_assign(struct pci_topology *t,
		    unsigned int (*gsi_of)(unsigned int slot, unsigned int pin),
		    char *err, size_t errlen)
{
	struct topo_ctx c = { .t = t, .err = err, .errlen = errlen };
	size_t nb = t->nr_buses;
	int ret;

	reset_results(t);
	if (!t->nr_funcs || !nb || t->funcs[0].kind != PCI_FUNC_HOST_BRIDGE) {
		snprintf(err, errlen, "PCI topology not initialised");
		return -EINVAL;
	}
	ret = check_requests(&c);
	if (ret)
		return ret;

	c.occ = malloc(nb * DEVFNS * sizeof(*c.occ));
	c.used = calloc(nb * PCI_MAX_SLOTS, sizeof(*c.used));
	c.bus_by_number = calloc(nb, sizeof(*c.bus_by_number));
	if (!c.occ || !c.used || !c.bus_by_number) {
		snprintf(err, errlen, "out of memory placing PCI functions");
		ret = -ENOMEM;
		goto out;
	}
	memset(c.occ, 0xff, nb * DEVFNS * sizeof(*c.occ));	/* all -1 */

	ret = place(&c);
	if (!ret)
		ret = check_slots(&c);
	if (!ret)
		ret = number(&c);
	if (!ret)
		swizzle(t, gsi_of);
	if (!ret)
		ret = pci_bar_alloc(t, c.bus_by_number, err, errlen);
out:
	free(c.occ);
	free(c.used);
	free(c.bus_by_number);
	return ret;
}

/* Emit a bus's functions in devfn order, each bridge followed by its bus. */
static unsigned int order_bus(const struct pci_topology *t, const unsigned int *by_bus,
			      const unsigned int *start, unsigned int bus,
			      unsigned int *order, unsigned int n)
{
	unsigned int k;

	for (k = start[bus]; k < start[bus + 1]; k++) {
		const struct pci_func *f = &t->funcs[by_bus[k]];

		order[n++] = by_bus[k];
		if (f->child_bus >= 0)
			n = order_bus(t, by_bus, start, (unsigned int)f->child_bus, order, n);
	}
	return n;
}

int pci_topo_tree_order(const struct pci_topology *t, unsigned int *order)
{
	unsigned int nb = t->nr_buses, i, key, *start, *by_bus, *fill;
	int ret = -ENOMEM;

	/* Counting sort by (bus index, devfn): keys are small and dense. */
	start = calloc((size_t)nb * DEVFNS + 1, sizeof(*start));
	by_bus = malloc((t->nr_funcs ? t->nr_funcs : 1) * sizeof(*by_bus));
	fill = NULL;
	if (!start || !by_bus)
		goto out;
	for (i = 0; i < t->nr_funcs; i++) {
		key = (unsigned int)t->funcs[i].bus_req * DEVFNS +
		      ((unsigned int)t->funcs[i].dev << 3 | t->funcs[i].fn);
		start[key + 1]++;
	}
	for (i = 0; i < nb * DEVFNS; i++)
		start[i + 1] += start[i];
	fill = malloc(((size_t)nb * DEVFNS + 1) * sizeof(*fill));
	if (!fill)
		goto out;
	memcpy(fill, start, ((size_t)nb * DEVFNS + 1) * sizeof(*fill));
	for (i = 0; i < t->nr_funcs; i++) {
		key = (unsigned int)t->funcs[i].bus_req * DEVFNS +
		      ((unsigned int)t->funcs[i].dev << 3 | t->funcs[i].fn);
		by_bus[fill[key]++] = i;
	}
	/* Per bus, start of bus b = start[b * DEVFNS]. */
	for (i = 0; i <= nb; i++)
		fill[i] = start[i * DEVFNS];
	order_bus(t, by_bus, fill, 0, order, 0);
	ret = 0;
out:
	free(start);
	free(by_bus);
	free(fill);
	return ret;
}
