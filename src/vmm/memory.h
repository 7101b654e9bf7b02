/*
 * Guest RAM: one mapping in the VMM (anonymous memory that may use
 * transparent huge pages, or a hugetlbfs memfd when the machine file asks
 * for huge pages), cut into the plan's RAM ranges, each a KVM memslot.
 */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "hw/guest_mem.h"
#include "vmm/config.h"
#include "x86/layout.h"

struct kvm;

struct vm_memory {
	int fd;				/* the hugetlbfs memfd, or -1 */
	uint8_t *base;			/* host mapping of all of it */
	uint64_t size;
	struct guest_mem mem;		/* the guest's view */
};

/*
 * Allocate and map RAM for the layout's ranges and install them as
 * memslots. 0 or a negative errno with a message (too few huge pages, no
 * memory, memslot refused) in err; nothing is left behind.
 */
int vm_memory_create(struct vm_memory *m, struct kvm *kvm,
		     const struct x86_layout *l, enum hugepages_kind huge,
		     char *err, size_t errlen);
void vm_memory_destroy(struct vm_memory *m);

#endif
