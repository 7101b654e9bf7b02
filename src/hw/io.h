/*
 * What a device model sees of the machine's address spaces: it registers
 * its register ranges (port I/O or MMIO) with handlers on an io_bus. The
 * bus is a sorted table with O(log n) lookup; the VMM dispatches KVM exits
 * through it and unit tests drive devices through it, without KVM.
 */
#ifndef VMM_HW_IO_H
#define VMM_HW_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum io_space {
	IO_SPACE_PIO,
	IO_SPACE_MMIO,
	IO_NR_SPACES,
};

struct io_ops {
	/* offset from the range's base; len is 1, 2, 4 or 8; little-endian value. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int len);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned int len);
};

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

/*
 * Locking: dispatch (io_bus_read/write) takes the read side of lock only for
 * the lookup and calls the handler with no bus lock held, so a handler may
 * itself register or unregister ranges (a PCI BAR moving). A device's opaque
 * must therefore stay valid until no vCPU can be dispatching to it, even
 * after its range is unregistered.
 */
struct io_bus {
	struct io_range *ranges[IO_NR_SPACES];	/* sorted by base, disjoint */
	unsigned int nr[IO_NR_SPACES];
	unsigned int cap[IO_NR_SPACES];
	pthread_rwlock_t lock;
};

void io_bus_init(struct io_bus *bus);
void io_bus_free(struct io_bus *bus);

/*
 * 0, -EEXIST when it overlaps a registered range, -EINVAL (len 0, no ops,
 * base + len wraps, a port range past 0xffff), -ENOMEM. ops->read or
 * ops->write may be NULL: the range then reads as all ones / drops writes.
 * An access that starts in a range goes to it whole, even when it runs past
 * its end: handlers must cope with offset + len > range len.
 */
int io_bus_register(struct io_bus *bus, enum io_space space, uint64_t base,
		    uint64_t len, const struct io_ops *ops, void *opaque,
		    const char *name);
/* Remove the range that starts at base; 0 or -ENOENT. */
int io_bus_unregister(struct io_bus *bus, enum io_space space, uint64_t base);
/*
 * The range holding addr, or NULL. For setup code and tests: the pointer is
 * valid only until the next register or unregister.
 */
const struct io_range *io_bus_find(const struct io_bus *bus,
				   enum io_space space, uint64_t addr);

/*
 * An access from the guest. Returns true when a device handled it; an
 * access nobody claims reads as all ones and writes are dropped.
 */
bool io_bus_read(const struct io_bus *bus, enum io_space space, uint64_t addr,
		 unsigned int len, uint64_t *value);
bool io_bus_write(const struct io_bus *bus, enum io_space space, uint64_t addr,
		  unsigned int len, uint64_t value);

#endif
