/* A VFIO device fd: regions, sparse mmaps, config and BAR access, interrupts, reset. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio/device.h"
#include "util/strbuf.h"

#define DIRECT_PAGE	0x1000ull

int vfio_region_parse_caps(struct vfio_region *r, const void *info, size_t argsz)
{
	const struct vfio_region_info *ri = info;
	const uint8_t *base = info;
	uint32_t at;
	unsigned int hops = 0;

	r->sparse = false;
	r->nr_areas = 0;
	if (argsz < sizeof(*ri) || !(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	for (at = ri->cap_offset; at; hops++) {
		struct vfio_info_cap_header h;

		if (hops > 32 || at < sizeof(*ri) || at > argsz || argsz - at < sizeof(h))
			return -EINVAL;
		memcpy(&h, base + at, sizeof(h));
		if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap sm;
			size_t room = argsz - at;

			if (room < sizeof(sm))
				return -EINVAL;
			memcpy(&sm, base + at, sizeof(sm));
			size_t fits = (room - sizeof(sm)) / sizeof(struct vfio_region_sparse_mmap_area);

			if (sm.nr_areas > fits || sm.nr_areas > VFIO_DEV_MAX_AREAS)
				return -EINVAL;
			r->sparse = true;
			for (uint32_t i = 0; i < sm.nr_areas; i++) {
				struct vfio_region_sparse_mmap_area a;

				memcpy(&a, base + at + sizeof(sm) + i * sizeof(a), sizeof(a));
				if (!a.size)
					continue;
				if (a.offset > r->size || a.size > r->size - a.offset)
					return -EINVAL;
				r->areas[r->nr_areas++] = (struct vfio_area){ a.offset, a.size };
			}
		}
		if (h.next && h.next <= at)
			return -EINVAL;	/* chains go forward; anything else would loop */
		at = h.next;
	}
	return 0;
}

static int add_area(struct vfio_area *out, unsigned int max, unsigned int *n,
		    uint64_t start, uint64_t end)
{
	start = (start + DIRECT_PAGE - 1) & ~(DIRECT_PAGE - 1);
	end &= ~(DIRECT_PAGE - 1);
	if (end <= start)
		return 0;
	if (*n >= max)
		return -ENOSPC;
	out[(*n)++] = (struct vfio_area){ start, end - start };
	return 0;
}

#define MAX_TRAPPED	8

int vfio_region_direct_areas(const struct vfio_region *r, const struct addr_range *trapped,
			     unsigned int nr_trapped, struct vfio_area *out, unsigned int max)
{
	struct vfio_area whole = { 0, r->size }, traps[MAX_TRAPPED];
	const struct vfio_area *areas = r->sparse ? r->areas : &whole;
	unsigned int nr = r->sparse ? r->nr_areas : 1, nt = 0, n = 0;

	if (!r->present || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return 0;
	if (nr_trapped > MAX_TRAPPED)
		return -ENOSPC;
	/* The trapped ranges widened to whole pages, sorted by start. */
	for (unsigned int t = 0; t < nr_trapped; t++) {
		uint64_t b = trapped[t].base & ~(DIRECT_PAGE - 1);
		uint64_t e = trapped[t].base + trapped[t].size;
		unsigned int k = nt;

		if (!trapped[t].size)
			continue;
		e = (e + DIRECT_PAGE - 1) & ~(DIRECT_PAGE - 1);
		while (k && traps[k - 1].offset > b) {
			traps[k] = traps[k - 1];
			k--;
		}
		traps[k] = (struct vfio_area){ b, e - b };
		nt++;
	}
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t pos = areas[i].offset, end = areas[i].offset + areas[i].size;

		for (unsigned int t = 0; t < nt && pos < end; t++) {
			uint64_t tb = traps[t].offset, te = tb + traps[t].size;

			if (te <= pos || tb >= end)
				continue;
			if (tb > pos && add_area(out, max, &n, pos, tb))
				return -ENOSPC;
			pos = te;
		}
		if (pos < end && add_area(out, max, &n, pos, end))
			return -ENOSPC;
	}
	return (int)n;
}

static int region_info(struct vfio_device *d, unsigned int index, struct vfio_region *r)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri));
	size_t argsz = sizeof(*ri);
	int ret;

	memset(r, 0, sizeof(*r));
	if (!ri)
		return -ENOMEM;
	ri->argsz = (uint32_t)argsz;
	ri->index = index;
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		ret = -errno;
		free(ri);
		/* VGA and other optional regions may be refused. */
		return ret == -EINVAL ? 0 : ret;
	}
	if (ri->argsz > argsz && ri->argsz < 65536) {
		struct vfio_region_info *bigger = realloc(ri, ri->argsz);

		if (!bigger) {
			free(ri);
			return -ENOMEM;
		}
		ri = bigger;
		argsz = ri->argsz;
		memset(ri, 0, argsz);
		ri->argsz = (uint32_t)argsz;
		ri->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			ret = -errno;
			free(ri);
			return ret;
		}
	}
	r->flags = ri->flags;
	r->size = ri->size;
	r->offset = ri->offset;
	r->present = ri->size > 0;
	ret = vfio_region_parse_caps(r, ri, argsz < ri->argsz ? argsz : ri->argsz);
	free(ri);
	return ret;
}

int vfio_device_setup(struct vfio_device *d, int fd, const char *name, char *err,
		      size_t errlen)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info)) {
		ret = -errno;
		set_err(err, errlen, "%s: VFIO_DEVICE_GET_INFO: %s", name, strerror(-ret));
		goto err_close;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		set_err(err, errlen, "%s: not a VFIO PCI device (flags 0x%x, %u regions)", name,
			info.flags, info.num_regions);
		ret = -ENODEV;
		goto err_close;
	}
	d->flags = info.flags;
	d->num_regions = info.num_regions < VFIO_DEV_NR_REGIONS ? info.num_regions :
			 VFIO_DEV_NR_REGIONS;
	d->num_irqs = info.num_irqs < VFIO_DEV_NR_IRQS ? info.num_irqs : VFIO_DEV_NR_IRQS;
	for (unsigned int i = 0; i < d->num_regions; i++) {
		ret = region_info(d, i, &d->regions[i]);
		if (ret) {
			set_err(err, errlen, "%s: VFIO_DEVICE_GET_REGION_INFO(%u): %s", name, i,
				strerror(-ret));
			goto err_close;
		}
	}
	for (unsigned int i = 0; i < d->num_irqs; i++) {
		struct vfio_irq_info q = { .argsz = sizeof(q), .index = i };

		if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &q))
			continue;
		d->irqs[i].flags = q.flags;
		d->irqs[i].count = q.count;
	}
	if (!d->regions[VFIO_PCI_CONFIG_REGION_INDEX].present) {
		set_err(err, errlen, "%s: no config space region", name);
		ret = -ENODEV;
		goto err_close;
	}
	return 0;

err_close:
	close(fd);
	d->fd = -1;
	return ret;
}

void vfio_device_close(struct vfio_device *d)
{
	if (d->fd < 0)
		return;
	vfio_device_set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, NULL);
	vfio_device_set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, 0, NULL);
	vfio_device_set_intx(d, -1, -1);
	close(d->fd);
	d->fd = -1;
}

void *vfio_device_mmap(struct vfio_device *d, unsigned int index, const struct vfio_area *area)
{
	const struct vfio_region *r;
	int prot = 0;
	void *p;

	if (index >= d->num_regions || !d->regions[index].present ||
	    !(d->regions[index].flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = EINVAL;
		return NULL;
	}
	r = &d->regions[index];
	if (area->offset > r->size || area->size > r->size - area->offset || !area->size) {
		errno = EINVAL;
		return NULL;
	}
	if (r->flags & VFIO_REGION_INFO_FLAG_READ)
		prot |= PROT_READ;
	if (r->flags & VFIO_REGION_INFO_FLAG_WRITE)
		prot |= PROT_WRITE;
	p = mmap(NULL, area->size, prot, MAP_SHARED, d->fd, (off_t)(r->offset + area->offset));
	return p == MAP_FAILED ? NULL : p;
}

static int region_rw(struct vfio_device *d, unsigned int index, uint64_t off, void *buf,
		     unsigned int len, bool write)
{
	const struct vfio_region *r;
	ssize_t n;

	if (index >= d->num_regions || !d->regions[index].present)
		return -EINVAL;
	r = &d->regions[index];
	if (off > r->size || len > r->size - off)
		return -EINVAL;
	if (write)
		n = pwrite(d->fd, buf, len, (off_t)(r->offset + off));
	else
		n = pread(d->fd, buf, len, (off_t)(r->offset + off));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_device_cfg_read(struct vfio_device *d, unsigned int off, void *buf, unsigned int len)
{
	return region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, off, buf, len, false);
}

int vfio_device_cfg_write(struct vfio_device *d, unsigned int off, const void *buf,
			  unsigned int len)
{
	return region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, off, (void *)buf, len, true);
}

int vfio_device_region_read(struct vfio_device *d, unsigned int index, uint64_t off,
			    void *buf, unsigned int len)
{
	return region_rw(d, index, off, buf, len, false);
}

int vfio_device_region_write(struct vfio_device *d, unsigned int index, uint64_t off,
			     const void *buf, unsigned int len)
{
	return region_rw(d, index, off, (void *)buf, len, true);
}

static int irq_set(struct vfio_device *d, unsigned int index, uint32_t flags,
		   unsigned int count, const int *fds)
{
	size_t argsz = sizeof(struct vfio_irq_set) + (size_t)count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, argsz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)argsz;
	s->flags = flags;
	s->index = index;
	s->start = 0;
	s->count = count;
	for (unsigned int i = 0; i < count; i++) {
		int32_t fd = fds[i];

		memcpy(s->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s))
		ret = -errno;
	free(s);
	return ret;
}

int vfio_device_set_irqs(struct vfio_device *d, unsigned int index, unsigned int count,
			 const int *fds)
{
	if (index >= d->num_irqs)
		return -EINVAL;
	if (count > d->irqs[index].count)
		return -EINVAL;
	if (!count)
		return irq_set(d, index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			       0, NULL);
	return irq_set(d, index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		       count, fds);
}

int vfio_device_set_intx(struct vfio_device *d, int trigger, int resample)
{
	int ret;

	if (VFIO_PCI_INTX_IRQ_INDEX >= d->num_irqs || !d->irqs[VFIO_PCI_INTX_IRQ_INDEX].count)
		return trigger < 0 ? 0 : -EINVAL;
	/* Disabling INTx also drops the unmask eventfd. */
	if (trigger < 0)
		return irq_set(d, VFIO_PCI_INTX_IRQ_INDEX,
			       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	ret = irq_set(d, VFIO_PCI_INTX_IRQ_INDEX,
		      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, &trigger);
	if (ret || resample < 0)
		return ret;
	/* The kernel masks INTx when it fires; KVM's resample eventfd (at EOI) unmasks it. */
	ret = irq_set(d, VFIO_PCI_INTX_IRQ_INDEX,
		      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, 1, &resample);
	if (ret)
		irq_set(d, VFIO_PCI_INTX_IRQ_INDEX,
			VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	return ret;
}

int vfio_device_reset(struct vfio_device *d)
{
	if (!(d->flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTTY;
	return ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

/* ---- struct vfio_dev_ops ---- */

static int ops_cfg_read(void *dev, unsigned int off, void *buf, unsigned int len)
{
	return vfio_device_cfg_read(dev, off, buf, len);
}

static int ops_cfg_write(void *dev, unsigned int off, const void *buf, unsigned int len)
{
	return vfio_device_cfg_write(dev, off, buf, len);
}

static uint64_t ops_region_size(void *dev, unsigned int region)
{
	struct vfio_device *d = dev;

	if (region >= d->num_regions || region == VFIO_PCI_CONFIG_REGION_INDEX)
		return 0;
	return d->regions[region].present ? d->regions[region].size : 0;
}

static int ops_region_read(void *dev, unsigned int region, uint64_t off, void *buf,
			   unsigned int len)
{
	return vfio_device_region_read(dev, region, off, buf, len);
}

static int ops_region_write(void *dev, unsigned int region, uint64_t off, const void *buf,
			    unsigned int len)
{
	return vfio_device_region_write(dev, region, off, buf, len);
}

static int ops_set_irqs(void *dev, enum vfio_pci_irq index, unsigned int count, const int *fds)
{
	return vfio_device_set_irqs(dev, (unsigned int)index, count, fds);
}

static int ops_set_intx(void *dev, int trigger, int resample)
{
	return vfio_device_set_intx(dev, trigger, resample);
}

static int ops_reset(void *dev)
{
	return vfio_device_reset(dev);
}

const struct vfio_dev_ops vfio_device_ops = {
	.cfg_read = ops_cfg_read,
	.cfg_write = ops_cfg_write,
	.region_size = ops_region_size,
	.region_read = ops_region_read,
	.region_write = ops_region_write,
	.set_irqs = ops_set_irqs,
	.set_intx = ops_set_intx,
	.reset = ops_reset,
};

_Static_assert(VFIO_PCI_DEV_ROM_REGION == VFIO_PCI_ROM_REGION_INDEX, "ROM region index");
_Static_assert(VFIO_PCI_DEV_CONFIG_REGION == VFIO_PCI_CONFIG_REGION_INDEX, "config region index");
_Static_assert((int)VFIO_PCI_DEV_IRQ_MSIX == (int)VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X index");
_Static_assert((int)VFIO_PCI_DEV_IRQ_MSI == (int)VFIO_PCI_MSI_IRQ_INDEX, "MSI index");
_Static_assert(VFIO_DEV_NR_REGIONS == VFIO_PCI_NUM_REGIONS, "regions");
