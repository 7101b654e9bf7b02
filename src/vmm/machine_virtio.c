/*
 * The machine's virtio devices, from the plan: each a device model on the
 * virtio-pci transport, attached to the root complex at its planned
 * function, its doorbells hooked to KVM ioeventfds and its MSI-X vectors to
 * irqfds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/root_complex.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "vmm/kvm_msi.h"
#include "vmm/machine.h"

struct machine_virtio {
	struct virtio_device dev;
	struct virtio_pci vp;
	struct kvm_msi msi;
	struct console *con;		/* virtio-console only */
	bool pci_done, msi_done;
};

static bool is_virtio(enum device_kind k)
{
	return k == DEV_VIRTIO_BLK || k == DEV_VIRTIO_NET || k == DEV_VIRTIO_CONSOLE ||
	       k == DEV_VIRTIO_RNG;
}

static int doorbell(void *opaque, uint64_t addr, int fd, bool assign)
{
	struct kvm *kvm = opaque;

	return kvm_ioeventfd(kvm, addr, kvm->ioeventfd_any_len ? 0 : 2, fd, false, assign);
}

static void hvc_output(void *opaque, const uint8_t *buf, size_t len)
{
	console_write(opaque, buf, len);
}

static void hvc_ready(void *opaque)
{
	console_wake(opaque);
}

static size_t hvc_deliver(void *opaque, const uint8_t *buf, size_t len)
{
	return virtio_console_receive(opaque, buf, len);
}

static void hvc_quit(void *opaque)
{
	machine_stop_on_signal(opaque, 0);
}

/* The device model behind d: 0 or a negative errno with a message in err. */
static int model_init(struct machine *m, struct machine_virtio *v, const struct device_config *d,
		      const struct plan_func *pf, unsigned int index, char *err, size_t errlen)
{
	switch (d->kind) {
	case DEV_VIRTIO_BLK: {
		struct virtio_blk_params p = {
			.path = d->blk.path,
			.readonly = d->blk.readonly,
			.discard = d->blk.discard,
			.direct = d->blk.cache == BLK_CACHE_DIRECT,
			.queues = pf->virtio_queues,
			.queue_size = d->blk.queue_size,
			.serial = d->blk.serial,
		};

		return virtio_blk_init(&v->dev, &p, err, errlen);
	}
	case DEV_VIRTIO_NET: {
		struct virtio_net_params p = {
			.tap = d->net.tap,
			.fd = d->net.fd,
			.vhost = d->net.vhost,
			.queue_size = d->net.queue_size,
		};

		memcpy(p.mac, pf->mac, sizeof(p.mac));
		return virtio_net_init(&v->dev, &p, err, errlen);
	}
	case DEV_VIRTIO_CONSOLE:
		v->con = &m->consoles[m->plan->cfg->nr_serials + index];
		return virtio_console_init(&v->dev, hvc_output, hvc_ready, v->con);
	case DEV_VIRTIO_RNG:
		return virtio_rng_init(&v->dev);
	default:
		snprintf(err, errlen, "not a virtio device");
		return -EINVAL;
	}
}

static int virtio_one(struct machine *m, unsigned int i, struct machine_virtio *v,
		      unsigned int nth_console, char *err, size_t errlen)
{
	const struct vm_config *cfg = m->plan->cfg;
	const struct device_config *d = &cfg->devices[i];
	const struct pci_func *f = plan_device_func(m->plan, (int)i);
	const struct plan_func *pf;
	struct virtio_pci_platform plat = { .ioeventfd = doorbell, .opaque = &m->vm.kvm };
	struct irq_line intx = { 0 };
	struct msi_port port;
	char why[256] = "";
	int ret;

	if (!f)
		return -EINVAL;
	pf = &m->plan->funcs[f - m->plan->pci.funcs];
	ret = virtio_device_prepare(&v->dev, d->name);
	if (ret) {
		snprintf(err, errlen, "[device \"%s\"]: %s", d->name, strerror(-ret));
		return ret;
	}
	ret = model_init(m, v, d, pf, nth_console, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s:%d: [device \"%s\"] %s", cfg->file, d->line, d->name, why);
		return ret;
	}
	ret = kvm_msi_create(&v->msi, &m->vm.kvm, f->msix_vectors, d->name);
	if (ret) {
		snprintf(err, errlen, "[device \"%s\"]: MSI-X vectors: %s", d->name, strerror(-ret));
		return ret;
	}
	v->msi_done = true;
	if (f->gsi && irq_lines_get(&m->irqs, f->gsi, &intx) < 0)
		pr_debug("%s: no INTx line %u", d->name, f->gsi);
	port = kvm_msi_port(&v->msi);
	ret = virtio_pci_create(&v->vp, &v->dev, f, &m->vm.mem.mem, &m->vm.bus, &port,
				f->gsi ? &intx : NULL, &plat, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "[device \"%s\"]: %s", d->name, why);
		return ret;
	}
	v->pci_done = true;
	ret = pci_root_attach(m->pci, (unsigned int)(f - m->plan->pci.funcs),
			      &pci_endpoint_cfg_ops, &v->vp.ep);
	if (ret) {
		snprintf(err, errlen, "[device \"%s\"]: PCI function: %s", d->name, strerror(-ret));
		return ret;
	}
	if (v->con) {
		ret = console_attach(v->con, m->el, hvc_deliver, &v->dev, hvc_quit, m);
		if (ret) {
			snprintf(err, errlen, "[device \"%s\"]: console: %s", d->name,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int machine_virtio_create(struct machine *m, char *err, size_t errlen)
{
	const struct vm_config *cfg = m->plan->cfg;
	unsigned int consoles = 0;

	m->virtio = calloc(cfg->nr_devices ? cfg->nr_devices : 1, sizeof(*m->virtio));
	if (!m->virtio) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		const struct device_config *d = &cfg->devices[i];
		int ret;

		if (!is_virtio(d->kind))
			continue;
		ret = virtio_one(m, i, &m->virtio[i], consoles, err, errlen);
		if (d->kind == DEV_VIRTIO_CONSOLE)
			consoles++;
		if (ret)
			return ret;
	}
	return 0;
}

void machine_virtio_stats(struct machine *m)
{
	const struct vm_config *cfg = m->plan->cfg;

	for (unsigned int i = 0; m->virtio && i < cfg->nr_devices; i++) {
		struct machine_virtio *v = &m->virtio[i];

		if (v->pci_done)
			pr_info("%s: %llu buffers used, %llu interrupts sent; exits: %llu "
				"doorbells trapped (the rest went by ioeventfd), %llu ISR reads",
				cfg->devices[i].name, (unsigned long long)virtio_pci_used(&v->vp),
				(unsigned long long)v->vp.interrupts, (unsigned long long)v->vp.kicks,
				(unsigned long long)v->vp.isr_reads);
	}
}

void machine_virtio_destroy(struct machine *m)
{
	const struct vm_config *cfg = m->plan->cfg;

	for (unsigned int i = 0; m->virtio && i < cfg->nr_devices; i++) {
		struct machine_virtio *v = &m->virtio[i];

		if (v->con)
			console_detach(v->con);
		if (v->pci_done)
			virtio_pci_destroy(&v->vp);
		else if (v->dev.quit_fd > 0)
			virtio_device_release(&v->dev);
		if (v->msi_done)
			kvm_msi_destroy(&v->msi);
	}
	free(m->virtio);
	m->virtio = NULL;
}
