/* The modern virtio-pci transport: capabilities, common config, doorbells, interrupts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/pci.h"
#include "virtio/pci_layout.h"

#define CAP_COMMON	1
#define CAP_NOTIFY	2
#define CAP_ISR		3
#define CAP_DEVICE	4
#define CAP_PCI_CFG	5

/* struct virtio_pci_common_cfg */
#define CC_DFSELECT	0x00
#define CC_DF		0x04
#define CC_GFSELECT	0x08
#define CC_GF		0x0c
#define CC_MSIX		0x10
#define CC_NUMQ		0x12
#define CC_STATUS	0x14
#define CC_CFGGEN	0x15
#define CC_Q_SELECT	0x16
#define CC_Q_SIZE	0x18
#define CC_Q_MSIX	0x1a
#define CC_Q_ENABLE	0x1c
#define CC_Q_NOFF	0x1e
#define CC_Q_DESCLO	0x20
#define CC_Q_DESCHI	0x24
#define CC_Q_AVAILLO	0x28
#define CC_Q_AVAILHI	0x2c
#define CC_Q_USEDLO	0x30
#define CC_Q_USEDHI	0x34
#define CC_SIZE		0x38

#define ISR_QUEUE	0x1
#define ISR_CONFIG	0x2

static uint64_t offered_features(const struct virtio_pci *vp)
{
	return vp->dev->host_features | 1ull << VIRTIO_F_VERSION_1 |
	       1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_INDIRECT_DESC;
}

/* Interrupts. */

static void raise_intx(struct virtio_pci *vp, uint8_t why)
{
	vp->isr |= why;
	irq_raise(&vp->intx);
}

static void send_vector(struct virtio_pci *vp, uint16_t vec, uint8_t why)
{
	vp->interrupts++;
	if (!msix_enabled(&vp->msix)) {
		raise_intx(vp, why);
		return;
	}
	if (vec != VIRTIO_PCI_NO_VECTOR && vec < vp->msix.nr)
		msi_fire(&vp->msi, vec);
}

static void pci_queue_notify(struct virtio_device *d, unsigned int q)
{
	struct virtio_pci *vp = d->transport;

	if (q >= d->nr_queues || !virtq_should_notify(&d->vqs[q]))
		return;
	send_vector(vp, vp->q[q].msix_vector, ISR_QUEUE);
}

static void pci_config_changed(struct virtio_device *d)
{
	struct virtio_pci *vp = d->transport;

	vp->config_generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		send_vector(vp, vp->config_vector, ISR_CONFIG);
}

static void pci_broken(struct virtio_device *d)
{
	struct virtio_pci *vp = d->transport;

	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	pci_config_changed(d);
}

static int pci_kick_fd(struct virtio_device *d, unsigned int q)
{
	struct virtio_pci *vp = d->transport;

	return q < d->nr_queues ? vp->q[q].kick_fd : -1;
}

static int pci_call_fd(struct virtio_device *d, unsigned int q)
{
	struct virtio_pci *vp = d->transport;
	uint16_t vec;

	if (q >= d->nr_queues || !msix_enabled(&vp->msix) || !vp->msi.ops || !vp->msi.ops->eventfd)
		return -1;
	vec = vp->q[q].msix_vector;
	if (vec == VIRTIO_PCI_NO_VECTOR || vec >= vp->msix.nr)
		return -1;
	return vp->msi.ops->eventfd(vp->msi.opaque, vec);
}

static const struct virtio_transport_ops pci_transport_ops = {
	.queue_notify = pci_queue_notify,
	.broken = pci_broken,
	.config_changed = pci_config_changed,
	.kick_fd = pci_kick_fd,
	.call_fd = pci_call_fd,
};

/* Device status and reset. Lock held. */

static void device_reset(struct virtio_pci *vp)
{
	struct virtio_device *d = vp->dev;

	if (d->ops->reset)
		d->ops->reset(d);
	d->started = false;
	d->features = 0;
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		vp->used_before += d->vqs[i].nr_used;
		virtq_reset(&d->vqs[i]);
		vp->q[i].size = d->queue_size_max;
		vp->q[i].msix_vector = VIRTIO_PCI_NO_VECTOR;
		vp->q[i].enabled = false;
		vp->q[i].desc = vp->q[i].avail = vp->q[i].used = 0;
	}
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->driver_features = 0;
	vp->config_vector = VIRTIO_PCI_NO_VECTOR;
	vp->queue_select = 0;
	vp->status = 0;
	vp->isr = 0;
	irq_lower(&vp->intx);
}

static void kick_all(struct virtio_pci *vp)
{
	uint64_t one = 1;

	for (unsigned int i = 0; i < vp->dev->nr_queues; i++)
		if (vp->q[i].enabled && write(vp->q[i].kick_fd, &one, sizeof(one)) < 0)
			pr_debug("%s: kick: %m", vp->dev->name);
}

static void set_status(struct virtio_pci *vp, uint8_t status)
{
	struct virtio_device *d = vp->dev;
	uint8_t old = vp->status;

	if (!status) {
		device_reset(vp);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = vp->driver_features;

		/* Features we did not offer, or a legacy driver: refuse FEATURES_OK. */
		if ((f & ~offered_features(vp)) || !(f >> VIRTIO_F_VERSION_1 & 1))
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		else
			d->features = f;
	}
	vp->status = (uint8_t)(status | (old & VIRTIO_STATUS_NEEDS_RESET));
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET)) {
		int ret;

		if (!(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_device_broken(d, "DRIVER_OK without FEATURES_OK");
			return;
		}
		ret = d->ops->start ? d->ops->start(d) : 0;
		if (ret) {
			virtio_device_broken(d, "the device could not start: %s", strerror(-ret));
			return;
		}
		d->started = true;
		/* Buffers made available before DRIVER_OK are waiting. */
		kick_all(vp);
	}
}

static void queue_enable(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_device *d = vp->dev;
	struct virtio_pci_queue *q = &vp->q[qi];
	int ret;

	if (q->enabled)
		return;
	ret = virtq_init(&d->vqs[qi], d->mem, q->size, q->desc, q->avail, q->used,
			 vp->driver_features >> VIRTIO_F_EVENT_IDX & 1,
			 vp->driver_features >> VIRTIO_F_INDIRECT_DESC & 1);
	if (ret) {
		virtio_device_broken(d, "queue %u: %s", qi, d->vqs[qi].error);
		return;
	}
	q->enabled = true;
}

/* The common configuration structure. Lock held. */

static uint64_t common_read(struct virtio_pci *vp, unsigned int off, unsigned int len)
{
	struct virtio_device *d = vp->dev;
	struct virtio_pci_queue *q = vp->queue_select < d->nr_queues ? &vp->q[vp->queue_select] : NULL;
	uint8_t b[CC_SIZE];
	uint64_t f = offered_features(vp);
	uint64_t v = 0;

	memset(b, 0, sizeof(b));
	pci_put32(b, CC_DFSELECT, vp->device_feature_select);
	pci_put32(b, CC_DF, vp->device_feature_select == 0 ? (uint32_t)f :
			    vp->device_feature_select == 1 ? (uint32_t)(f >> 32) : 0);
	pci_put32(b, CC_GFSELECT, vp->driver_feature_select);
	pci_put32(b, CC_GF, vp->driver_feature_select == 0 ? (uint32_t)vp->driver_features :
			    vp->driver_feature_select == 1 ? (uint32_t)(vp->driver_features >> 32) : 0);
	pci_put16(b, CC_MSIX, vp->config_vector);
	pci_put16(b, CC_NUMQ, (uint16_t)d->nr_queues);
	b[CC_STATUS] = vp->status;
	b[CC_CFGGEN] = vp->config_generation;
	pci_put16(b, CC_Q_SELECT, vp->queue_select);
	if (q) {
		pci_put16(b, CC_Q_SIZE, q->size);
		pci_put16(b, CC_Q_MSIX, q->msix_vector);
		pci_put16(b, CC_Q_ENABLE, q->enabled);
		pci_put16(b, CC_Q_NOFF, vp->queue_select);
		pci_put32(b, CC_Q_DESCLO, (uint32_t)q->desc);
		pci_put32(b, CC_Q_DESCHI, (uint32_t)(q->desc >> 32));
		pci_put32(b, CC_Q_AVAILLO, (uint32_t)q->avail);
		pci_put32(b, CC_Q_AVAILHI, (uint32_t)(q->avail >> 32));
		pci_put32(b, CC_Q_USEDLO, (uint32_t)q->used);
		pci_put32(b, CC_Q_USEDHI, (uint32_t)(q->used >> 32));
	}
	for (unsigned int i = 0; i < len && off + i < CC_SIZE; i++)
		v |= (uint64_t)b[off + i] << (8 * i);
	return v;
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
	if (high)
		*reg = (*reg & 0xffffffffull) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffull) | v;
}

static void common_write(struct virtio_pci *vp, unsigned int off, unsigned int len, uint64_t v)
{
	struct virtio_device *d = vp->dev;
	struct virtio_pci_queue *q = vp->queue_select < d->nr_queues ? &vp->q[vp->queue_select] : NULL;
	bool setup = !(vp->status & VIRTIO_STATUS_DRIVER_OK);

	/* 64-bit fields may come as one access: split them. */
	if (len == 8 && off >= CC_Q_DESCLO && off <= CC_Q_USEDLO && !(off & 7)) {
		common_write(vp, off, 4, (uint32_t)v);
		common_write(vp, off + 4, 4, (uint32_t)(v >> 32));
		return;
	}
	switch (off) {
	case CC_DFSELECT:
		if (len == 4)
			vp->device_feature_select = (uint32_t)v;
		return;
	case CC_GFSELECT:
		if (len == 4)
			vp->driver_feature_select = (uint32_t)v;
		return;
	case CC_GF:
		if (len != 4 || (vp->status & VIRTIO_STATUS_FEATURES_OK))
			return;
		if (vp->driver_feature_select == 0)
			set_half(&vp->driver_features, false, (uint32_t)v);
		else if (vp->driver_feature_select == 1)
			set_half(&vp->driver_features, true, (uint32_t)v);
		return;
	case CC_MSIX:
		if (len == 2)
			vp->config_vector = (uint16_t)v < vp->msix.nr ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
		return;
	case CC_STATUS:
		if (len == 1)
			set_status(vp, (uint8_t)v);
		return;
	case CC_Q_SELECT:
		if (len == 2)
			vp->queue_select = (uint16_t)v;
		return;
	}
	if (!q)
		return;
	switch (off) {
	case CC_Q_SIZE:
		/* A power of two up to the maximum; anything else is kept and refused at enable. */
		if (len == 2 && setup && !q->enabled)
			q->size = (uint16_t)v <= d->queue_size_max ? (uint16_t)v : d->queue_size_max;
		return;
	case CC_Q_MSIX:
		if (len == 2)
			q->msix_vector = (uint16_t)v < vp->msix.nr ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
		return;
	case CC_Q_ENABLE:
		if (len == 2 && v == 1)
			queue_enable(vp, vp->queue_select);
		return;
	}
	if (len != 4 || q->enabled)
		return;
	switch (off) {
	case CC_Q_DESCLO: case CC_Q_DESCHI:
		set_half(&q->desc, off == CC_Q_DESCHI, (uint32_t)v);
		return;
	case CC_Q_AVAILLO: case CC_Q_AVAILHI:
		set_half(&q->avail, off == CC_Q_AVAILHI, (uint32_t)v);
		return;
	case CC_Q_USEDLO: case CC_Q_USEDHI:
		set_half(&q->used, off == CC_Q_USEDHI, (uint32_t)v);
		return;
	}
}

/* BAR 0. */

static void kick(struct virtio_pci *vp, unsigned int qi)
{
	uint64_t one = 1;

	if (qi < vp->dev->nr_queues && write(vp->q[qi].kick_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: kick: %m", vp->dev->name);
}

/* A read or write of BAR 0 at off; lock not held. */
static uint64_t bar_access(struct virtio_pci *vp, uint64_t off, unsigned int len,
			   uint64_t value, bool write)
{
	struct virtio_device *d = vp->dev;
	uint64_t v = 0;

	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF) {
		if (write) {
			msix_table_write(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE_OFF, value, len);
			return 0;
		}
		return msix_table_read(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE_OFF, len);
	}
	if (off >= VIRTIO_PCI_MSIX_PBA_OFF)
		return write ? 0 : msix_pba_read(&vp->msix, off - VIRTIO_PCI_MSIX_PBA_OFF, len);
	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		/* A doorbell that trapped: no ioeventfd for it. */
		if (write) {
			vp->kicks++;
			kick(vp, (unsigned int)((off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT));
		}
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (off < VIRTIO_PCI_COMMON_OFF + CC_SIZE) {
		if (write)
			common_write(vp, (unsigned int)off, len, value);
		else
			v = common_read(vp, (unsigned int)off, len);
	} else if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
		if (!write && off == VIRTIO_PCI_ISR_OFF) {
			vp->isr_reads++;
			v = vp->isr;	/* read to clear */
			vp->isr = 0;
			irq_lower(&vp->intx);
		}
	} else if (off >= VIRTIO_PCI_DEVICE_OFF && off - VIRTIO_PCI_DEVICE_OFF < d->config_size) {
		unsigned int at = (unsigned int)(off - VIRTIO_PCI_DEVICE_OFF);

		for (unsigned int i = 0; i < len && at + i < d->config_size; i++) {
			if (write)
				d->config[at + i] = (uint8_t)(value >> (8 * i));
			else
				v |= (uint64_t)d->config[at + i] << (8 * i);
		}
		if (write && d->ops->config_write)
			d->ops->config_write(d, at, len);
	}
	pthread_mutex_unlock(&d->lock);
	return v;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned int len)
{
	return bar_access(opaque, off, len, 0, false);
}

static void bar_write(void *opaque, uint64_t off, uint64_t value, unsigned int len)
{
	bar_access(opaque, off, len, value, true);
}

static const struct io_ops bar_ops = {
	.read = bar_read,
	.write = bar_write,
};

static void doorbells(struct virtio_pci *vp, bool on)
{
	if (!vp->plat.ioeventfd)
		return;
	for (unsigned int i = 0; i < vp->dev->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		uint64_t addr = vp->bar_addr + VIRTIO_PCI_NOTIFY_OFF + (uint64_t)i * VIRTIO_PCI_NOTIFY_MULT;

		if (on == q->ioeventfd)
			continue;
		if (!vp->plat.ioeventfd(vp->plat.opaque, addr, q->kick_fd, on))
			q->ioeventfd = on;
		else if (on)
			pr_debug("%s: queue %u doorbell traps (no ioeventfd)", vp->dev->name, i);
	}
}

/* BAR 0 starts, stops or moves: the trap and the doorbells follow. Endpoint lock held. */
static void bar_map(void *opaque, unsigned int bar, uint64_t addr, bool on)
{
	struct virtio_pci *vp = opaque;
	int ret;

	if (bar != VIRTIO_PCI_BAR)
		return;
	if (!on) {
		doorbells(vp, false);
		if (vp->bar_on)
			io_bus_unregister(vp->bus, IO_SPACE_MMIO, vp->bar_addr);
		vp->bar_on = false;
		return;
	}
	ret = io_bus_register(vp->bus, IO_SPACE_MMIO, addr, VIRTIO_PCI_BAR_SIZE, &bar_ops, vp,
			      vp->dev->name);
	if (ret) {
		pr_warn("%s: BAR 0 at %#llx: %s; the device is unreachable there", vp->dev->name,
			(unsigned long long)addr, strerror(-ret));
		return;
	}
	vp->bar_addr = addr;
	vp->bar_on = true;
	doorbells(vp, true);
}

/* The PCI configuration access capability: a window onto BAR 0. */
static unsigned int pci_cfg_window(struct virtio_pci *vp, uint64_t *off)
{
	const uint8_t *c = vp->ep.cfg.data + vp->pci_cfg_cap;
	unsigned int len = c[12] | c[13] << 8 | c[14] << 16 | (unsigned int)c[15] << 24;

	*off = pci_get32(c, 8);
	if (c[4] != VIRTIO_PCI_BAR || (len != 1 && len != 2 && len != 4) ||
	    *off >= VIRTIO_PCI_BAR_SIZE || (*off & (len - 1)))
		return 0;
	return len;
}

static uint32_t ep_cfg_read(void *opaque, unsigned int reg, unsigned int len)
{
	struct virtio_pci *vp = opaque;
	uint64_t off;
	unsigned int n = pci_cfg_window(vp, &off);

	if (reg != vp->pci_cfg_cap + 16 || !n)
		return pci_config_space_read(&vp->ep.cfg, reg, len);
	return (uint32_t)bar_access(vp, off, n, 0, false);
}

static void ep_cfg_written(void *opaque, unsigned int reg, unsigned int len)
{
	struct virtio_pci *vp = opaque;
	uint64_t off;
	unsigned int n;

	msix_cfg_written(&vp->msix, reg, len);
	if (reg != vp->pci_cfg_cap + 16)
		return;
	n = pci_cfg_window(vp, &off);
	if (n)
		bar_access(vp, off, n, pci_get32(vp->ep.cfg.data, vp->pci_cfg_cap + 16), true);
}

static const struct pci_endpoint_ops ep_ops = {
	.bar_map = bar_map,
	.cfg_written = ep_cfg_written,
	.cfg_read = ep_cfg_read,
};

static int add_vendor_cap(struct pci_endpoint *ep, uint8_t type, uint32_t off, uint32_t len,
			  unsigned int cap_len)
{
	int at = pci_endpoint_add_cap(ep, PCI_CAP_ID_VNDR, cap_len);

	if (at < 0)
		return at;
	ep->cfg.data[at + 2] = (uint8_t)cap_len;
	ep->cfg.data[at + 3] = type;
	ep->cfg.data[at + 4] = VIRTIO_PCI_BAR;
	pci_put32(ep->cfg.data, (unsigned int)at + 8, off);
	pci_put32(ep->cfg.data, (unsigned int)at + 12, len);
	return at;
}

static int build_caps(struct virtio_pci *vp)
{
	struct pci_endpoint *ep = &vp->ep;
	int at;

	if (add_vendor_cap(ep, CAP_COMMON, VIRTIO_PCI_COMMON_OFF, CC_SIZE, 16) < 0 ||
	    add_vendor_cap(ep, CAP_ISR, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN, 16) < 0)
		return -ENOSPC;
	if (vp->dev->config_size &&
	    add_vendor_cap(ep, CAP_DEVICE, VIRTIO_PCI_DEVICE_OFF, vp->dev->config_size, 16) < 0)
		return -ENOSPC;
	at = add_vendor_cap(ep, CAP_NOTIFY, VIRTIO_PCI_NOTIFY_OFF,
			    vp->dev->nr_queues * VIRTIO_PCI_NOTIFY_MULT, 20);
	if (at < 0)
		return at;
	pci_put32(ep->cfg.data, (unsigned int)at + 16, VIRTIO_PCI_NOTIFY_MULT);
	at = add_vendor_cap(ep, CAP_PCI_CFG, 0, 0, 20);
	if (at < 0)
		return at;
	vp->pci_cfg_cap = (unsigned int)at;
	ep->cfg.wmask[at + 4] = 0xff;				/* bar */
	memset(ep->cfg.wmask + at + 8, 0xff, 12);		/* offset, length, data */
	pci_endpoint_claim(ep, (unsigned int)at + 16, 4);
	return 0;
}

static void queue_kicked(void *opaque, uint32_t events);

struct kick_ctx {
	struct virtio_pci *vp;
	unsigned int q;
};

static void queue_kicked(void *opaque, uint32_t events)
{
	struct kick_ctx *k = opaque;
	struct virtio_pci *vp = k->vp;
	struct virtio_device *d = vp->dev;
	uint64_t n;

	(void)events;
	if (read(vp->q[k->q].kick_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (d->started && vp->q[k->q].enabled && d->ops->kick)
		d->ops->kick(d, k->q);
	pthread_mutex_unlock(&d->lock);
}

int virtio_pci_create(struct virtio_pci *vp, struct virtio_device *d,
		      const struct pci_func *f, const struct guest_mem *mem,
		      struct io_bus *bus, const struct msi_port *msi,
		      const struct irq_line *intx, const struct virtio_pci_platform *plat,
		      char *err, size_t errlen)
{
	struct kick_ctx *kc;
	uint64_t addr;
	int ret;

	memset(vp, 0, sizeof(*vp));
	vp->dev = d;
	vp->func = f;
	vp->bus = bus;
	vp->msi = *msi;
	if (intx)
		vp->intx = *intx;
	if (plat)
		vp->plat = *plat;
	if (!d->nr_queues || d->nr_queues > VIRTIO_PCI_MAX_QUEUES ||
	    d->config_size > VIRTIO_PCI_DEVICE_LEN || !f->msix_vectors) {
		snprintf(err, errlen, "%s: %u queues, %u config bytes: not what its BAR holds",
			 d->name, d->nr_queues, d->config_size);
		return -EINVAL;
	}
	d->mem = mem;
	d->tops = &pci_transport_ops;
	d->transport = vp;
	d->vqs = calloc(d->nr_queues, sizeof(*d->vqs));
	vp->q = calloc(d->nr_queues, sizeof(*vp->q));
	kc = calloc(d->nr_queues, sizeof(*kc));
	if (!d->vqs || !vp->q || !kc) {
		free(kc);
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < d->nr_queues; i++)
		vp->q[i].kick_fd = -1;
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		vp->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->q[i].kick_fd < 0) {
			ret = -errno;
			free(kc);
			snprintf(err, errlen, "%s: eventfd: %s", d->name, strerror(errno));
			goto fail;
		}
		kc[i] = (struct kick_ctx){ .vp = vp, .q = i };
		ret = virtio_device_watch(d, vp->q[i].kick_fd, EPOLLIN, queue_kicked, &kc[i]);
		if (ret) {
			free(kc);
			snprintf(err, errlen, "%s: %s", d->name, strerror(-ret));
			goto fail;
		}
	}
	/* The loop keeps pointers into kc; it lives as long as the device. */
	vp->kick_ctx = kc;

	pci_endpoint_init(&vp->ep, f, &ep_ops, vp);
	ret = msix_init(&vp->msix, &vp->ep, f->msix_vectors, VIRTIO_PCI_BAR,
			VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_PBA_OFF, msi);
	if (!ret)
		ret = build_caps(vp);
	if (ret) {
		snprintf(err, errlen, "%s: config space: %s", d->name, strerror(-ret));
		goto fail;
	}
	pthread_mutex_lock(&d->lock);
	device_reset(vp);
	pthread_mutex_unlock(&d->lock);
	if (pci_endpoint_mapped(&vp->ep, VIRTIO_PCI_BAR, &addr)) {
		pthread_mutex_lock(&vp->ep.lock);
		bar_map(vp, VIRTIO_PCI_BAR, addr, true);
		pthread_mutex_unlock(&vp->ep.lock);
		if (!vp->bar_on) {
			ret = -EBUSY;
			snprintf(err, errlen, "%s: BAR 0 at %#llx overlaps another device", d->name,
				 (unsigned long long)addr);
			goto fail;
		}
	}
	ret = virtio_device_start_thread(d);
	if (ret) {
		snprintf(err, errlen, "%s: device thread: %s", d->name, strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	virtio_pci_destroy(vp);
	return ret;
}

uint64_t virtio_pci_used(struct virtio_pci *vp)
{
	struct virtio_device *d = vp->dev;
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = vp->used_before;
	for (unsigned int i = 0; i < d->nr_queues; i++)
		n += d->vqs[i].nr_used;
	pthread_mutex_unlock(&d->lock);
	return n;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	struct virtio_device *d = vp->dev;

	if (!d)
		return;
	if (vp->ep.ops) {
		pthread_mutex_lock(&vp->ep.lock);
		bar_map(vp, VIRTIO_PCI_BAR, vp->bar_addr, false);
		pthread_mutex_unlock(&vp->ep.lock);
	}
	virtio_device_release(d);
	for (unsigned int i = 0; vp->q && i < d->nr_queues; i++)
		if (vp->q[i].kick_fd >= 0)
			close(vp->q[i].kick_fd);
	if (vp->msix.ep)
		msix_free(&vp->msix);
	if (vp->ep.ops)
		pci_endpoint_free(&vp->ep);
	free(vp->q);
	free(vp->kick_ctx);
	free(d->vqs);
	d->vqs = NULL;
	vp->q = NULL;
	vp->kick_ctx = NULL;
	vp->dev = NULL;
}
