/*
 * Guest RAM, split into memslots around the holes: anonymous memory that
 * asks for transparent huge pages, or a hugetlbfs memfd for hugepages = 2M
 * or 1G. (A plain memfd is shmem, which gets no transparent huge pages with
 * Linux's default shmem_enabled = never: every 4 KiB page is then faulted
 * and pinned on its own, which made VFIO's DMA mapping 2-3 times slower.)
 */
#include <errno.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/size.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

static uint64_t huge_page_size(enum hugepages_kind huge)
{
	switch (huge) {
	case HUGEPAGES_2M:
		return 2ULL << 20;
	case HUGEPAGES_1G:
		return 1ULL << 30;
	default:
		return 0;
	}
}

static int memfd_for(enum hugepages_kind huge)
{
	unsigned int flags = MFD_CLOEXEC;

	if (huge == HUGEPAGES_2M)
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
	else if (huge == HUGEPAGES_1G)
		flags |= MFD_HUGETLB | MFD_HUGE_1GB;
	return memfd_create("guest-ram", flags);
}

/*
 * Anonymous RAM starting on a 2 MiB boundary: KVM maps guest pages with
 * large pages only where the guest and host addresses agree modulo 2 MiB,
 * and transparent huge pages start on such a boundary.
 */
#define THP_ALIGN	(2ULL << 20)

static void *map_aligned(uint64_t size, uint64_t align)
{
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t head;

	if (p == MAP_FAILED)
		return MAP_FAILED;
	head = (align - ((uintptr_t)p & (align - 1))) & (align - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + size, align - head);
	return p + head;
}

int vm_memory_create(struct vm_memory *m, struct kvm *kvm,
		     const struct x86_layout *l, enum hugepages_kind huge,
		     char *err, size_t errlen)
{
	uint64_t page = huge_page_size(huge), off = 0;
	char sz[32];
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	for (unsigned int i = 0; i < l->nr_ram; i++)
		m->size += l->ram[i].size;
	if (l->nr_ram > GUEST_MEM_MAX_REGIONS) {
		snprintf(err, errlen, "%u RAM ranges, at most %d supported",
			 l->nr_ram, GUEST_MEM_MAX_REGIONS);
		return -EINVAL;
	}
	if (page && m->size % page) {
		snprintf(err, errlen, "guest RAM of %s is not a whole number of %s huge pages",
			 size_str(m->size, sz, sizeof(sz)), huge == HUGEPAGES_1G ? "1 GiB" : "2 MiB");
		return -EINVAL;
	}
	if (page) {
		m->fd = memfd_for(huge);
		if (m->fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "guest RAM: memfd_create: %s (does this kernel have "
				 "hugetlbfs?)", strerror(errno));
			return ret;
		}
		if (ftruncate(m->fd, (off_t)m->size) < 0) {
			ret = -errno;
			snprintf(err, errlen, "guest RAM: cannot size it to %s: %s",
				 size_str(m->size, sz, sizeof(sz)), strerror(errno));
			goto fail;
		}
	}
	/* Huge pages are reserved here, so a shortage is an error now, not a SIGBUS later. */
	m->base = page ? mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0) :
			 map_aligned(m->size, THP_ALIGN);
	if (m->base == MAP_FAILED) {
		ret = -errno;
		m->base = NULL;
		if (page)
			snprintf(err, errlen,
				 "guest RAM: cannot reserve %llu huge pages of %s (%s): "
				 "raise /sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages",
				 (unsigned long long)(m->size / page),
				 size_str(page, sz, sizeof(sz)), strerror(errno),
				 (unsigned long long)(page >> 10));
		else
			snprintf(err, errlen, "guest RAM: mmap of %s: %s",
				 size_str(m->size, sz, sizeof(sz)), strerror(errno));
		goto fail;
	}
	if (!page)
		madvise(m->base, m->size, MADV_HUGEPAGE);

	for (unsigned int i = 0; i < l->nr_ram; i++) {
		struct guest_region *r = &m->mem.regions[m->mem.nr];

		r->gpa = l->ram[i].base;
		r->size = l->ram[i].size;
		r->hva = m->base + off;
		ret = kvm_add_memslot(kvm, r->gpa, r->size, r->hva, err, errlen);
		if (ret)
			goto fail;
		m->mem.nr++;
		off += r->size;
	}
	return 0;
fail:
	vm_memory_destroy(m);
	return ret;
}

void vm_memory_destroy(struct vm_memory *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}
