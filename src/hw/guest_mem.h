/*
 * Guest physical memory as device models and the boot loader see it: a few
 * RAM regions, each a host mapping. Every guest address and length is
 * checked here; a range that is not wholly inside one region gives NULL.
 */
#ifndef VMM_HW_GUEST_MEM_H
#define VMM_HW_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#define GUEST_MEM_MAX_REGIONS	4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr;
};

/* The host address of [gpa, gpa + len) when one region holds all of it. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa,
				  uint64_t len)
{
	for (unsigned int i = 0; i < m->nr; i++) {
		const struct guest_region *r = &m->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

/* Copy into / out of guest memory: 0, or -EFAULT when outside RAM. */
static inline int guest_mem_write(const struct guest_mem *m, uint64_t gpa,
				  const void *src, size_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

static inline int guest_mem_read(const struct guest_mem *m, uint64_t gpa,
				 void *dst, size_t len)
{
	const void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

#endif
