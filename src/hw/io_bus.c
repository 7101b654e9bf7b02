/*
 * The trap registry: per address space, a sorted array of disjoint ranges
 * searched by bisection on every PIO/MMIO exit; unclaimed reads are all ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/io.h"

#define IO_PIO_LIMIT	0x10000ULL	/* x86 port space: 64 KiB */

/* All ones in the low len bytes (any len). */
static inline uint64_t io_ones(unsigned int len)
{
	return len >= 8 ? ~0ULL : (1ULL << (len * 8)) - 1;
}

static inline bool io_len_ok(unsigned int len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

void io_bus_init(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
}

void io_bus_free(struct io_bus *bus)
{
	for (int s = 0; s < IO_NR_SPACES; s++) {
		free(bus->ranges[s]);
		bus->ranges[s] = NULL;
		bus->nr[s] = 0;
		bus->cap[s] = 0;
	}
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose base is > addr (0..nr). */
static unsigned int io_upper_bound(const struct io_range *r, unsigned int nr,
				   uint64_t addr)
{
	unsigned int lo = 0, hi = nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct io_range *io_lookup(const struct io_bus *bus,
					enum io_space space, uint64_t addr)
{
	const struct io_range *r = bus->ranges[space];
	unsigned int i = io_upper_bound(r, bus->nr[space], addr);

	if (i == 0)
		return NULL;
	r += i - 1;
	/* r->base <= addr; ranges never wrap, so this cannot overflow. */
	return addr - r->base < r->len ? r : NULL;
}

int io_bus_register(struct io_bus *bus, enum io_space space, uint64_t base,
		    uint64_t len, const struct io_ops *ops, void *opaque,
		    const char *name)
{
	struct io_range *r;
	unsigned int i, nr;
	int ret = 0;

	if ((unsigned int)space >= IO_NR_SPACES || !len || !ops)
		return -EINVAL;
	if (base + len < base)
		return -EINVAL;
	if (space == IO_SPACE_PIO && (base >= IO_PIO_LIMIT || len > IO_PIO_LIMIT - base))
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	r = bus->ranges[space];
	nr = bus->nr[space];
	i = io_upper_bound(r, nr, base);
	/* The neighbours: r[i - 1] starts at or below base, r[i] above it. */
	if (i > 0 && base - r[i - 1].base < r[i - 1].len) {
		ret = -EEXIST;
		goto out;
	}
	if (i < nr && r[i].base - base < len) {
		ret = -EEXIST;
		goto out;
	}
	if (nr == bus->cap[space]) {
		unsigned int cap = nr ? nr * 2 : 16;
		struct io_range *n;

		if (cap < nr) {
			ret = -ENOMEM;
			goto out;
		}
		n = realloc(r, (size_t)cap * sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges[space] = r = n;
		bus->cap[space] = cap;
	}
	memmove(&r[i + 1], &r[i], (size_t)(nr - i) * sizeof(*r));
	r[i] = (struct io_range){
		.base = base,
		.len = len,
		.ops = ops,
		.opaque = opaque,
		.name = name,
	};
	bus->nr[space] = nr + 1;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int io_bus_unregister(struct io_bus *bus, enum io_space space, uint64_t base)
{
	struct io_range *r;
	unsigned int i, nr;
	int ret = -ENOENT;

	if ((unsigned int)space >= IO_NR_SPACES)
		return -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	r = bus->ranges[space];
	nr = bus->nr[space];
	i = io_upper_bound(r, nr, base);
	if (i > 0 && r[i - 1].base == base) {
		memmove(&r[i - 1], &r[i], (size_t)(nr - i) * sizeof(*r));
		bus->nr[space] = nr - 1;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

const struct io_range *io_bus_find(const struct io_bus *bus,
				   enum io_space space, uint64_t addr)
{
	struct io_bus *b = (struct io_bus *)bus;	/* the lock only */
	const struct io_range *r;

	if ((unsigned int)space >= IO_NR_SPACES)
		return NULL;
	pthread_rwlock_rdlock(&b->lock);
	r = io_lookup(bus, space, addr);
	pthread_rwlock_unlock(&b->lock);
	return r;
}

/*
 * Copy what a dispatch needs out of the table, so the handler runs with no
 * bus lock held. False when nothing claims addr.
 */
static bool io_claim(const struct io_bus *bus, enum io_space space,
		     uint64_t addr, struct io_range *out)
{
	struct io_bus *b = (struct io_bus *)bus;	/* the lock only */
	const struct io_range *r;

	pthread_rwlock_rdlock(&b->lock);
	r = io_lookup(bus, space, addr);
	if (r)
		*out = *r;
	pthread_rwlock_unlock(&b->lock);
	return r != NULL;
}

bool io_bus_read(const struct io_bus *bus, enum io_space space, uint64_t addr,
		 unsigned int len, uint64_t *value)
{
	struct io_range r;

	if (!io_len_ok(len) || (unsigned int)space >= IO_NR_SPACES) {
		*value = io_ones(len);	/* 0 for len 0 */
		return false;
	}
	if (!io_claim(bus, space, addr, &r)) {
		*value = io_ones(len);
		return false;
	}
	if (r.ops->read)
		*value = r.ops->read(r.opaque, addr - r.base, len) & io_ones(len);
	else
		*value = io_ones(len);
	return true;
}

bool io_bus_write(const struct io_bus *bus, enum io_space space, uint64_t addr,
		  unsigned int len, uint64_t value)
{
	struct io_range r;

	if (!io_len_ok(len) || (unsigned int)space >= IO_NR_SPACES)
		return false;
	if (!io_claim(bus, space, addr, &r))
		return false;
	if (r.ops->write)
		r.ops->write(r.opaque, addr - r.base, value & io_ones(len), len);
	return true;
}
