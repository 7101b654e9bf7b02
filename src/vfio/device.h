/*
 * One VFIO device fd: its regions (with the sparse-mmap areas), interrupts,
 * config space and BAR access, mmaps, reset and interrupt setup. Also the
 * struct vfio_dev_ops that vfio/pci_dev.c drives a real device through.
 */
#ifndef VMM_VFIO_DEVICE_H
#define VMM_VFIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/pci_dev.h"
#include "x86/layout.h"

#define VFIO_DEV_NR_REGIONS	9	/* BAR0-5, ROM, config, VGA */
#define VFIO_DEV_NR_IRQS	5	/* INTx, MSI, MSI-X, ERR, REQ */
#define VFIO_DEV_MAX_AREAS	16

/* A piece of a region: offset from the region's start and size. */
struct vfio_area {
	uint64_t offset;
	uint64_t size;
};

struct vfio_region {
	bool present;			/* size > 0 */
	uint32_t flags;			/* VFIO_REGION_INFO_FLAG_* */
	uint64_t size;
	uint64_t offset;		/* of the region in the device fd */
	bool sparse;			/* the areas below are all that may be mmapped */
	struct vfio_area areas[VFIO_DEV_MAX_AREAS];
	unsigned int nr_areas;
};

struct vfio_irq_info_s {
	uint32_t flags;			/* VFIO_IRQ_INFO_* */
	uint32_t count;
};

struct vfio_device {
	int fd;
	char name[32];			/* the host BDF, for messages */
	uint32_t flags;			/* VFIO_DEVICE_FLAGS_* */
	unsigned int num_regions, num_irqs;
	struct vfio_region regions[VFIO_DEV_NR_REGIONS];
	struct vfio_irq_info_s irqs[VFIO_DEV_NR_IRQS];
};

/*
 * Take the device fd (from VFIO_GROUP_GET_DEVICE_FD) and read what it is:
 * VFIO_DEVICE_GET_INFO, every region and interrupt index. On error the fd
 * is closed. 0 or -errno with the reason in err.
 */
int vfio_device_setup(struct vfio_device *d, int fd, const char *name, char *err,
		      size_t errlen);
/* Interrupts off, fd closed. */
void vfio_device_close(struct vfio_device *d);

/*
 * The capability chain of a VFIO_DEVICE_GET_REGION_INFO answer (info is
 * argsz bytes as the kernel returned them): fills r's sparse areas. Pure,
 * bounds-checked. 0 or -EINVAL for a malformed chain.
 */
int vfio_region_parse_caps(struct vfio_region *r, const void *info, size_t argsz);

/*
 * What of region r may be mapped straight into the guest: its mmappable
 * areas (all of it, or the sparse ones) minus the trapped page ranges
 * (offsets within the region, e.g. plan_pt_bar.trapped), page aligned.
 * Fills out[max]; returns the count, or -ENOSPC. Pure.
 */
int vfio_region_direct_areas(const struct vfio_region *r, const struct addr_range *trapped,
			     unsigned int nr_trapped, struct vfio_area *out, unsigned int max);

/* mmap [area.offset, +size) of region index; MAP_FAILED-free: NULL and errno set. */
void *vfio_device_mmap(struct vfio_device *d, unsigned int index, const struct vfio_area *area);

int vfio_device_cfg_read(struct vfio_device *d, unsigned int off, void *buf, unsigned int len);
int vfio_device_cfg_write(struct vfio_device *d, unsigned int off, const void *buf,
			  unsigned int len);
int vfio_device_region_read(struct vfio_device *d, unsigned int index, uint64_t off,
			    void *buf, unsigned int len);
int vfio_device_region_write(struct vfio_device *d, unsigned int index, uint64_t off,
			     const void *buf, unsigned int len);

/* Eventfd triggers for vectors 0..count of index (fds[i] -1: none); count 0 disables. */
int vfio_device_set_irqs(struct vfio_device *d, unsigned int index, unsigned int count,
			 const int *fds);
/* INTx: trigger eventfd and resample (unmask) eventfd; trigger -1 disables. */
int vfio_device_set_intx(struct vfio_device *d, int trigger, int resample);
/* VFIO_DEVICE_RESET; -ENOTTY when the device has no reset. */
int vfio_device_reset(struct vfio_device *d);

/* struct vfio_dev_ops over a struct vfio_device (the dev argument). */
extern const struct vfio_dev_ops vfio_device_ops;

#endif
