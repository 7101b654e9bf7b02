/*
 * The VM's VFIO context: one IOMMU backend (the type1v2 container; iommufd
 * can follow behind the same ops), every IOMMU group of the passed-through
 * functions attached to it once, their device fds, and guest RAM mapped for
 * DMA. Every failure a host can cause comes with the command that fixes it.
 */
#ifndef VMM_VFIO_CONTAINER_H
#define VMM_VFIO_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/host.h"

/* An IOMMU backend's state. */
struct vfio_iommu;

/* All return 0 or -errno; messages are the caller's (it knows the device). */
struct vfio_iommu_ops {
	const char *name;
	/* dev_root stands in for /dev. err: why, and what to do. */
	int (*open)(struct vfio_iommu **io, const char *dev_root, char *err, size_t errlen);
	/* Put a group (its open /dev/vfio/N fd) in the VM's IOMMU context. */
	int (*attach_group)(struct vfio_iommu *io, int group_fd);
	void (*detach_group)(struct vfio_iommu *io, int group_fd);
	/* Make [iova, iova + size) reach the host memory at hva, read-write. */
	int (*map_dma)(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva);
	int (*unmap_dma)(struct vfio_iommu *io, uint64_t iova, uint64_t size);
	void (*close)(struct vfio_iommu *io);
};

/* /dev/vfio/vfio with VFIO_TYPE1v2_IOMMU. */
extern const struct vfio_iommu_ops vfio_type1_ops;

#define VFIO_MAX_GROUPS		32
#define VFIO_MAX_DMA		64

struct vfio_group {
	int id;
	int fd;
};

/* A range of guest RAM: guest physical address, size, where the VMM has it. */
struct vfio_dma_range {
	uint64_t iova;
	uint64_t size;
	void *hva;
};

struct vfio_container {
	const struct vfio_iommu_ops *ops;
	struct vfio_iommu *io;
	char dev_root[128];
	struct vfio_group groups[VFIO_MAX_GROUPS];
	unsigned int nr_groups;
	struct vfio_dma_range maps[VFIO_MAX_DMA];
	unsigned int nr_maps;
	uint64_t mapped;		/* bytes */
};

/* ops NULL: type1; dev_root NULL: /dev. 0 or -errno with the message in err. */
int vfio_container_open(struct vfio_container *c, const struct vfio_iommu_ops *ops,
			const char *dev_root, char *err, size_t errlen);
/* Unmaps guest RAM, releases the groups, closes the backend. */
void vfio_container_close(struct vfio_container *c);

/*
 * A device fd for host function dev (from the inventory): its group opened,
 * checked viable and attached the first time one of its functions is asked
 * for, and the device got through that group. The fd, or -errno with the
 * message in err.
 */
int vfio_container_get_device(struct vfio_container *c, const struct host_device *dev,
			      char *err, size_t errlen);

/*
 * Map every guest RAM range for DMA (call after every group is attached),
 * after checking that RLIMIT_MEMLOCK allows pinning it all; logs how long
 * it took. 0 or -errno with the message in err.
 */
int vfio_container_map_ram(struct vfio_container *c, const struct vfio_dma_range *ranges,
			   unsigned int n, char *err, size_t errlen);

/*
 * The messages, "BDF: what is wrong; run: the fix" (pure: from inventory
 * facts; tests call them directly).
 */
void vfio_msg_not_bound(const struct host_device *dev, char *buf, size_t len);
void vfio_msg_group_not_viable(const struct host_device *dev, char *buf, size_t len);
void vfio_msg_no_intr_remap(const struct host_device *dev, char *buf, size_t len);
void vfio_msg_busy(const struct host_device *dev, char *buf, size_t len);
void vfio_msg_no_group_node(const struct host_device *dev, int err, char *buf, size_t len);
/* limit RLIM_INFINITY (as uint64_t) means none. */
void vfio_msg_memlock(uint64_t need, uint64_t limit, char *buf, size_t len);

/*
 * Whether pinning need bytes fits RLIMIT_MEMLOCK limit (unless the process
 * has CAP_IPC_LOCK). 0, or -ENOMEM with vfio_msg_memlock() in buf.
 */
int vfio_check_memlock(uint64_t need, uint64_t limit, bool cap_ipc_lock, char *buf, size_t len);

#endif
