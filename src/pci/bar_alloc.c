/*
 * BAR allocation: bridge windows sized bottom-up to hold what is behind them,
 * then windows and BARs packed top-down, largest first, as low in the host
 * windows as they fit.
 *
 * Everything is laid out from the top: a window's largest child sits at its
 * top, and a window's top (not its base) is aligned to that child's
 * alignment. For a BAR (size = alignment) both come to the same; for a
 * window of 64 GiB + 32 MiB it keeps the 64 GiB BAR aligned while the small
 * rest hangs below it instead of wasting most of another 64 GiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/size.h"
#include "pci/bar_alloc.h"

/* One thing to place on a bus: a BAR, or the window of a bridge on it. */
struct bar_item {
	uint64_t size;
	uint64_t align;
	uint64_t off;			/* depth of its top below the bus window's top; */
					/* on the root bus: its address */
	int func;
	int bar;			/* 0..5, PCI_ROM_BAR, or -1: the bridge's window */
	unsigned int devfn;
};

struct bar_ctx {
	struct pci_topology *t;
	const unsigned int *bus_by_number;
	struct bar_item *items;
	unsigned int *start;		/* [res * (nr_buses + 1) + bus]: CSR of items */
	uint64_t *win_align;		/* [res * nr_funcs + func] */
	char *err;
	size_t errlen;
};

static const uint64_t res_granule[PCI_NR_RES] = {
	[PCI_RES_IO] = PCI_BRIDGE_IO_ALIGN,
	[PCI_RES_MEM] = PCI_BRIDGE_MEM_ALIGN,
	[PCI_RES_PREF] = PCI_BRIDGE_MEM_ALIGN,
};

static const char *const host_window_name[PCI_NR_RES] = {
	[PCI_RES_IO] = "I/O window",
	[PCI_RES_MEM] = "32-bit window",
	[PCI_RES_PREF] = "64-bit window",
};

static bool align_up(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t r;

	if (__builtin_add_overflow(v, align - 1, &r))
		return false;
	*out = r & ~(align - 1);
	return true;
}

static unsigned int *bus_start(struct bar_ctx *c, enum pci_res_kind res, unsigned int bus)
{
	return &c->start[res * (c->t->nr_buses + 1) + bus];
}

static uint64_t *win_align(struct bar_ctx *c, enum pci_res_kind res, int func)
{
	return &c->win_align[res * c->t->nr_funcs + func];
}

static struct pci_window *window_of(struct pci_func *f, enum pci_res_kind res)
{
	return (struct pci_window *)pci_func_window(f, res);
}

static struct pci_bar *bar_of(struct pci_func *f, int bar)
{
	return bar == PCI_ROM_BAR ? &f->rom : &f->bars[bar];
}

static bool bar_used(const struct pci_bar *b)
{
	return b->type != PCI_BAR_UNUSED && b->size;
}

/* Largest alignment first; then larger first; then in address order. */
static int item_cmp(const void *pa, const void *pb)
{
	const struct bar_item *a = pa, *b = pb;

	if (a->align != b->align)
		return a->align > b->align ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (a->devfn != b->devfn)
		return a->devfn < b->devfn ? -1 : 1;
	return a->bar - b->bar;
}

static void bar_desc(const struct pci_bar *b, int bar, char *buf, size_t len)
{
	char sz[32];
	const char *what;

	size_str(b->size, sz, sizeof(sz));
	if (bar == PCI_ROM_BAR)
		what = "expansion ROM";
	else if (b->type == PCI_BAR_IO)
		what = "I/O";
	else if (b->type == PCI_BAR_MEM64)
		what = b->prefetchable ? "64-bit prefetchable memory" : "64-bit memory";
	else
		what = b->prefetchable ? "32-bit prefetchable memory" : "32-bit memory";
	if (bar == PCI_ROM_BAR)
		snprintf(buf, len, "ROM (%s, %s)", sz, what);
	else
		snprintf(buf, len, "BAR%d (%s, %s)", bar, sz, what);
}

/*
 * The BAR that decides an item's placement: the item itself, or for a window
 * the largest thing inside it, followed down.
 */
static const struct bar_item *culprit(struct bar_ctx *c, enum pci_res_kind res,
				      const struct bar_item *it)
{
	while (it->bar < 0) {
		unsigned int bus = (unsigned int)c->t->funcs[it->func].child_bus;
		unsigned int i, end = *bus_start(c, res, bus + 1);
		const struct bar_item *next = NULL;

		for (i = *bus_start(c, res, bus); i < end; i++) {
			if (c->items[i].size) {
				next = &c->items[i];
				break;
			}
		}
		if (!next)
			break;
		it = next;
	}
	return it;
}

static int fail(struct bar_ctx *c, enum pci_res_kind res, const struct bar_item *it,
		const char *why, int ret)
{
	const struct bar_item *b = culprit(c, res, it);
	struct pci_func *f = &c->t->funcs[b->func];
	char desc[96], via[160] = "";

	if (b->bar >= 0)
		bar_desc(bar_of(f, b->bar), b->bar, desc, sizeof(desc));
	else
		snprintf(desc, sizeof(desc), "%s window", pci_res_name(res));
	if (it != b) {
		const struct pci_func *br = &c->t->funcs[it->func];
		char sz[32];

		snprintf(via, sizeof(via), ", behind %s \"%s\" whose %s window needs %s,",
			 pci_func_kind_name(br->kind), br->name ? br->name : "?",
			 pci_res_name(res), size_str(it->size, sz, sizeof(sz)));
	}
	snprintf(c->err, c->errlen, "\"%s\": %s%s %s", f->name ? f->name : "?", desc, via, why);
	c->t->error.func = b->func;
	c->t->error.bar = b->bar;
	c->t->error.res = res;
	return ret;
}

/*
 * Lay out one bridge bus's items downwards from the window's top (which is
 * aligned to the largest alignment): each item's top at a depth that is a
 * multiple of its alignment. Sizes the window and records its alignment.
 */
static int size_window(struct bar_ctx *c, enum pci_res_kind res, unsigned int bus)
{
	struct pci_func *br = &c->t->funcs[c->t->buses[bus].bridge];
	struct pci_window *w = window_of(br, res);
	unsigned int i, end = *bus_start(c, res, bus + 1);
	uint64_t depth = 0, align = res_granule[res];
	struct bar_item *last = NULL;

	for (i = *bus_start(c, res, bus); i < end; i++) {
		struct bar_item *it = &c->items[i];

		if (!it->size)
			continue;
		if (!last && it->align > align)
			align = it->align;
		last = it;
		if (!align_up(depth, it->align, &depth))
			goto overflow;
		it->off = depth;
		if (__builtin_add_overflow(depth, it->size, &depth))
			goto overflow;
	}
	w->base = 0;
	w->size = 0;
	if (last && !align_up(depth, res_granule[res], &w->size))
		goto overflow;
	*win_align(c, res, c->t->buses[bus].bridge) = align;
	return 0;

overflow:
	return fail(c, res, last,
		    "does not fit: what sits behind the bridge exceeds the address space",
		    -EOVERFLOW);
}

/*
 * Pack the root bus's items top-down below 'top', tops aligned, largest
 * first. Returns the index of the first item that does not fit, or -1.
 */
static int pack_down(struct bar_ctx *c, enum pci_res_kind res, uint64_t top,
		     uint64_t floor, uint64_t *left)
{
	unsigned int i, last = *bus_start(c, res, 1);
	uint64_t end;

	for (i = *bus_start(c, res, 0); i < last; i++) {
		struct bar_item *it = &c->items[i];

		if (!it->size)
			continue;
		end = top & ~(it->align - 1);
		if (end < it->size || end - it->size < floor) {
			*left = top - floor;
			return (int)i;
		}
		it->off = end - it->size;
		top = it->off;
	}
	return -1;
}

#define ROOT_TOP_TRIES	64

/*
 * Place the root bus's items in the host window. Packing top-down wastes
 * nothing between top-aligned bridge windows; packing below the lowest top
 * that works puts 64-bit BARs just above RAM, within reach of hosts and
 * IOMMUs with fewer address bits than the guest is told. Tops are tried
 * upwards from the window's base, then the window's own top.
 */
static int place_root(struct bar_ctx *c, enum pci_res_kind res)
{
	const struct pci_window *hw = res == PCI_RES_IO ? &c->t->host.io :
				      res == PCI_RES_MEM ? &c->t->host.mem32 :
				      &c->t->host.mem64;
	unsigned int i, last = *bus_start(c, res, 1), tries;
	uint64_t top, need = 0, step = 0, t, left = 0;
	char why[192], sz1[32], sz2[32];
	int bad;

	if (hw->size && __builtin_add_overflow(hw->base, hw->size, &top))
		top = UINT64_MAX;	/* treated as the end of the space */
	else
		top = hw->base + hw->size;
	for (i = *bus_start(c, res, 0); i < last; i++) {
		if (!c->items[i].size)
			continue;
		if (__builtin_add_overflow(need, c->items[i].size, &need))
			need = UINT64_MAX;
		if (c->items[i].align > step)
			step = c->items[i].align;
	}
	if (!step)
		return 0;
	if (hw->size && !__builtin_add_overflow(hw->base, need, &t) &&
	    align_up(t, step, &t)) {
		for (tries = 0; tries < ROOT_TOP_TRIES && t < top; tries++) {
			if (pack_down(c, res, t, hw->base, &left) < 0)
				return 0;
			if (__builtin_add_overflow(t, step, &t))
				break;
		}
	}
	bad = hw->size ? pack_down(c, res, top, hw->base, &left) : (int)*bus_start(c, res, 0);
	if (bad < 0)
		return 0;
	if (!hw->size)
		snprintf(why, sizeof(why), "does not fit: there is no %s",
			 host_window_name[res]);
	else
		snprintf(why, sizeof(why),
			 "does not fit in the %s 0x%" PRIx64 "-0x%" PRIx64 " (%s, %s free)",
			 host_window_name[res], hw->base, hw->base + (hw->size - 1),
			 size_str(hw->size, sz1, sizeof(sz1)),
			 size_str(left, sz2, sizeof(sz2)));
	return fail(c, res, &c->items[bad], why, -ENOSPC);
}

/* Turn depths into addresses, parents first (bus numbers grow downwards). */
static void assign_addrs(struct bar_ctx *c, enum pci_res_kind res)
{
	struct pci_topology *t = c->t;
	unsigned int n, i;

	for (n = 0; n < t->nr_buses; n++) {
		unsigned int bus = c->bus_by_number[n];
		unsigned int end = *bus_start(c, res, bus + 1);
		const struct pci_window *w = NULL;

		if (t->buses[bus].bridge >= 0)
			w = window_of(&t->funcs[t->buses[bus].bridge], res);
		for (i = *bus_start(c, res, bus); i < end; i++) {
			struct bar_item *it = &c->items[i];
			struct pci_func *f = &t->funcs[it->func];
			uint64_t addr = it->off;

			if (!it->size)
				continue;
			if (w)
				addr = w->base + w->size - it->off - it->size;
			if (it->bar < 0)
				window_of(f, res)->base = addr;
			else
				bar_of(f, it->bar)->addr = addr;
		}
	}
}

/* Count (pass 0) or fill (pass 1) the items of every bus. */
static void collect(struct bar_ctx *c, unsigned int *fill)
{
	struct pci_topology *t = c->t;
	unsigned int i, res;
	int b;

	for (i = 0; i < t->nr_funcs; i++) {
		struct pci_func *f = &t->funcs[i];
		unsigned int bus = (unsigned int)f->bus_req;
		unsigned int devfn = (unsigned int)f->dev << 3 | f->fn;

		for (b = 0; b <= PCI_ROM_BAR; b++) {
			struct pci_bar *bar = bar_of(f, b);

			if (!bar_used(bar))
				continue;
			res = pci_bar_res(bar);
			if (fill) {
				struct bar_item *it = &c->items[fill[res * (t->nr_buses + 1) + bus]++];

				it->size = bar->size;
				it->align = bar->size;
				it->func = (int)i;
				it->bar = b;
				it->devfn = devfn;
			} else {
				(*bus_start(c, res, bus))++;
			}
		}
		if (f->child_bus < 0)
			continue;
		for (res = 0; res < PCI_NR_RES; res++) {
			if (fill) {
				struct bar_item *it = &c->items[fill[res * (t->nr_buses + 1) + bus]++];

				it->func = (int)i;
				it->bar = -1;
				it->devfn = devfn;
			} else {
				(*bus_start(c, res, bus))++;
			}
		}
	}
}

int pci_bar_alloc(struct pci_topology *t, const unsigned int *bus_by_number,
		  char *err, size_t errlen)
{
	struct bar_ctx c = {
		.t = t, .bus_by_number = bus_by_number, .err = err, .errlen = errlen,
	};
	unsigned int nb = t->nr_buses, i, n, res, total = 0, *fill = NULL;
	int ret = -ENOMEM;

	c.start = calloc((size_t)PCI_NR_RES * (nb + 1), sizeof(*c.start));
	c.win_align = calloc((size_t)PCI_NR_RES * t->nr_funcs, sizeof(*c.win_align));
	fill = malloc((size_t)PCI_NR_RES * (nb + 1) * sizeof(*fill));
	if (!c.start || !c.win_align || !fill)
		goto out;

	/* Count, turn counts into starts (CSR), fill. */
	collect(&c, NULL);
	for (res = 0; res < PCI_NR_RES; res++) {
		for (i = 0; i <= nb; i++) {
			unsigned int cnt = *bus_start(&c, res, i);

			*bus_start(&c, res, i) = total;
			total += cnt;
		}
	}
	c.items = calloc(total ? total : 1, sizeof(*c.items));
	if (!c.items)
		goto out;
	memcpy(fill, c.start, (size_t)PCI_NR_RES * (nb + 1) * sizeof(*fill));
	collect(&c, fill);

	/* Bottom-up: children have higher bus numbers than their parents. */
	for (n = nb; n-- > 0;) {
		unsigned int bus = bus_by_number[n];

		for (res = 0; res < PCI_NR_RES; res++) {
			unsigned int s = *bus_start(&c, res, bus);
			unsigned int e = *bus_start(&c, res, bus + 1);

			for (i = s; i < e; i++) {
				struct bar_item *it = &c.items[i];

				if (it->bar < 0) {
					it->size = window_of(&t->funcs[it->func], res)->size;
					it->align = *win_align(&c, res, it->func);
				}
			}
			if (e - s > 1)
				qsort(&c.items[s], e - s, sizeof(*c.items), item_cmp);
			ret = t->buses[bus].bridge >= 0 ? size_window(&c, res, bus)
							: place_root(&c, res);
			if (ret)
				goto out;
		}
	}
	for (res = 0; res < PCI_NR_RES; res++)
		assign_addrs(&c, res);
	ret = 0;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory placing BARs");
	free(c.items);
	free(c.start);
	free(c.win_align);
	free(fill);
	return ret;
}
