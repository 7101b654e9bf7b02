/*
 * The guest-visible config space of a passed-through function, its MSI and
 * MSI-X emulation, and the trapped parts of its BARs.
 *
 * Who owns each config byte (pd->policy, one entry per byte):
 * - the header is emulated from the plan (ids, class, BARs, ROM BAR,
 *   interrupt line/pin, capability pointer), except the status register,
 *   read from the device (with our capability-list bit) and written through
 *   (its error bits are write-1-to-clear on the device);
 * - the command register is emulated: memory/IO decode drive the endpoint's
 *   bar_map callbacks while the device itself keeps decoding (its BARs are
 *   mmapped; vfio-pci faults mmaps of a device that stops decoding); bus
 *   master, parity, SERR and INTx disable are forwarded;
 * - capabilities kept, at the device's offsets and in its order: PM (PMCSR
 *   forwarded, the rest read-only), MSI (emulated entirely, see below),
 *   MSI-X (pci/msix.c), PCIe (device control/status forwarded, everything
 *   else read-only: link control writes could retrain or disable the host's
 *   link, device control 2 could enable features the guest's root port
 *   doesn't have), vendor-specific (body forwarded, as vfio-pci allows).
 *   Others leave the chain and their header reads 0;
 * - bytes between capabilities are the device's own registers: read from
 *   the device, writes dropped (vfio-pci's default without permissive mode);
 * - the extended capability list is empty: 0x100 reads 0, so SR-IOV, ReBAR,
 *   ARI, AER... are all hidden.
 *
 * Interrupts: VFIO takes one type at a time, so INTx is disabled on the
 * device while MSI or MSI-X is on and comes back when both are off. The
 * device gets each vector's eventfd from msi_ops->eventfd once, at enable;
 * masking (MSI mask bits, MSI-X vector and function masks) only reaches the
 * platform through msi_ops->update, which unbinds the irqfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "vfio/pci_dev.h"
#include "util/strbuf.h"

#define CFG_STATUS		0x06
#define CFG_CAP_PTR		0x34
#define CFG_ROM			0x30
#define STATUS_CAP_LIST		0x0010
#define CAP_FIRST		0x40
#define CAP_END			0x100

#define PCI_CAP_ID_MAX_WALK	48
#define PCI_COMMAND_PARITY	0x0040
#define PCI_COMMAND_SERR	0x0100
/* Command bits the guest controls on the device itself; decode stays emulated. */
#define CMD_FORWARDED		(PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
				 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_MMC		0x000e
#define MSI_CTRL_MME		0x0070
#define MSI_CTRL_64BIT		0x0080
#define MSI_CTRL_MASKABLE	0x0100

#define MSIX_TABLE_SIZE_MASK	0x07ff
#define MSIX_BIR_MASK		0x7

#define EXP_DEVCTL		0x08
#define EXP_DEVSTA		0x0a
/* PCIe capability lengths as vfio-pci sizes them: an endpoint's, then without a link. */
#define EXP_LEN_V1		20
#define EXP_LEN_V1_RC_END	12
#define EXP_LEN_V2		0x32
#define EXP_LEN_V2_RC_END	0x2c
#define EXP_TYPE_RC_END		0x9

#define PM_LEN			8
#define PM_CTRL			4

#define ROM_CHUNK		4096

static void set_policy(struct vfio_pci_dev *pd, unsigned int off, unsigned int len,
		       enum vfio_cfg_policy p)
{
	struct pci_config_space *c = &pd->ep.cfg;

	for (unsigned int i = off; i < off + len && i < PCI_CFG_SPACE_SIZE; i++) {
		pd->policy[i] = (uint8_t)p;
		/* A forwarded byte is stored whole so cfg_written can send it on. */
		c->wmask[i] = p == VFIO_CFG_PASS ? 0xff : 0;
		c->w1c[i] = 0;
	}
}

enum vfio_cfg_policy vfio_pci_cfg_policy(const struct vfio_pci_dev *pd, unsigned int reg)
{
	return reg < PCI_CFG_SPACE_SIZE ? (enum vfio_cfg_policy)pd->policy[reg] : VFIO_CFG_EMUL;
}

/* ---- interrupts ---- */

static int vector_fd(struct vfio_pci_dev *pd, unsigned int vec)
{
	const struct msi_port *p = &pd->plat.msi;

	if (!p->ops || !p->ops->eventfd)
		return -1;
	return p->ops->eventfd(p->opaque, vec);
}

static void platform_update(struct vfio_pci_dev *pd, unsigned int vec,
			    const struct msi_msg *msg, bool masked)
{
	const struct msi_port *p = &pd->plat.msi;

	if (p->ops && p->ops->update && p->ops->update(p->opaque, vec, msg, masked))
		pr_warn("%s: vector %u: the platform refused its route", pd->name, vec);
}

static void intx_on(struct vfio_pci_dev *pd)
{
	pd->mode = VFIO_PCI_MODE_NONE;
	if (pd->intx_trigger < 0 || !pd->ops->set_intx)
		return;
	if (pd->ops->set_intx(pd->dev, pd->intx_trigger, pd->intx_resample)) {
		pr_warn("%s: cannot enable INTx on the device", pd->name);
		return;
	}
	pd->mode = VFIO_PCI_MODE_INTX;
}

/* VFIO allows one interrupt type at a time: turn off the current one. */
static void irqs_off(struct vfio_pci_dev *pd)
{
	switch (pd->mode) {
	case VFIO_PCI_MODE_INTX:
		if (pd->ops->set_intx)
			pd->ops->set_intx(pd->dev, -1, -1);
		break;
	case VFIO_PCI_MODE_MSI:
		pd->ops->set_irqs(pd->dev, VFIO_PCI_DEV_IRQ_MSI, 0, NULL);
		break;
	case VFIO_PCI_MODE_MSIX:
		pd->ops->set_irqs(pd->dev, VFIO_PCI_DEV_IRQ_MSIX, 0, NULL);
		break;
	case VFIO_PCI_MODE_NONE:
		break;
	}
	pd->mode = VFIO_PCI_MODE_NONE;
}

/* Give the device the eventfds of vectors 0..nr of index. */
static int irqs_on(struct vfio_pci_dev *pd, enum vfio_pci_irq index, unsigned int nr)
{
	int *fds = calloc(nr, sizeof(*fds));
	int ret;

	if (!fds)
		return -ENOMEM;
	for (unsigned int v = 0; v < nr; v++)
		fds[v] = vector_fd(pd, v);
	ret = pd->ops->set_irqs(pd->dev, index, nr, fds);
	free(fds);
	return ret;
}

static uint32_t msi_mask_bits(const struct vfio_pci_msi *m)
{
	return m->max >= 32 ? 0xffffffffu : (1u << m->max) - 1;
}

/* Tell the platform what MSI vectors 0..nr now send; vectors past nr go masked. */
static void msi_sync(struct vfio_pci_dev *pd, unsigned int nr, unsigned int old_nr)
{
	struct vfio_pci_msi *m = &pd->msi;
	const uint8_t *d = pd->ep.cfg.data;
	uint64_t addr = pci_get32(d, m->cap + 4) & ~3u;
	uint32_t data = pci_get16(d, m->cap + m->data_off);
	uint32_t mask = m->maskable ? pci_get32(d, m->cap + m->mask_off) : 0;

	if (m->is_64)
		addr |= (uint64_t)pci_get32(d, m->cap + 8) << 32;
	for (unsigned int v = 0; v < nr; v++) {
		/* A multiple-message function sets the low bits of data to the vector. */
		struct msi_msg msg = { .addr = addr, .data = (data & ~(nr - 1)) | v };
		bool masked = mask & (1u << v);

		if (v < old_nr && !m->sent_masked[v] == !masked &&
		    m->sent[v].addr == msg.addr && m->sent[v].data == msg.data)
			continue;
		m->sent[v] = msg;
		m->sent_masked[v] = masked;
		platform_update(pd, v, &msg, masked);
	}
	for (unsigned int v = nr; v < old_nr; v++) {
		m->sent_masked[v] = true;
		platform_update(pd, v, &m->sent[v], true);
	}
}

static void msix_written(struct vfio_pci_dev *pd);

/* The guest wrote the MSI capability: follow enable, vector count, message, masks. */
static void msi_written(struct vfio_pci_dev *pd)
{
	struct vfio_pci_msi *m = &pd->msi;
	uint16_t ctrl = pci_get16(pd->ep.cfg.data, m->cap + 2);
	unsigned int mme = (ctrl & MSI_CTRL_MME) >> 4;
	unsigned int nr = 0, old = m->nr;

	if (ctrl & MSI_CTRL_ENABLE) {
		nr = mme > 5 ? 32 : 1u << mme;
		if (nr > m->max)
			nr = m->max;
	}
	if (nr && pd->mode == VFIO_PCI_MODE_MSIX) {
		/* Both on is undefined; MSI-X, enabled first, keeps the device. */
		pr_debug("%s: MSI enabled while MSI-X is on; ignored", pd->name);
		return;
	}
	if (nr == old) {
		msi_sync(pd, nr, old);
		return;
	}
	if (old)
		irqs_off(pd);
	msi_sync(pd, nr, old);
	m->nr = nr;
	if (!nr) {
		intx_on(pd);
		/* A guest that turned MSI-X on meanwhile gets it now. */
		if (pd->has_msix)
			msix_written(pd);
		return;
	}
	if (pd->mode != VFIO_PCI_MODE_NONE)
		irqs_off(pd);
	if (irqs_on(pd, VFIO_PCI_DEV_IRQ_MSI, nr)) {
		pr_warn("%s: cannot enable %u MSI vectors on the device", pd->name, nr);
		intx_on(pd);
		return;
	}
	pd->mode = VFIO_PCI_MODE_MSI;
}

static bool msi_pending(struct vfio_pci_dev *pd, unsigned int vec)
{
	const struct msi_port *p = &pd->plat.msi;
	uint32_t mask = pci_get32(pd->ep.cfg.data, pd->msi.cap + pd->msi.mask_off);

	return vec < pd->msi.nr && (mask & (1u << vec)) && p->ops && p->ops->pending &&
	       p->ops->pending(p->opaque, vec);
}

/* After msix.c followed the control word: hand the device its vectors, or take them. */
static void msix_written(struct vfio_pci_dev *pd)
{
	bool on = msix_enabled(&pd->msix);

	if (on == pd->msix_on)
		return;
	if (!on) {
		pd->msix_on = false;
		if (pd->mode != VFIO_PCI_MODE_MSIX)
			return;
		irqs_off(pd);
		intx_on(pd);
		/* A guest that turned MSI on meanwhile gets it now. */
		if (pd->msi.cap)
			msi_written(pd);
		return;
	}
	if (pd->mode == VFIO_PCI_MODE_MSI) {
		/* Not noted as on: tried again when MSI goes off. */
		pr_debug("%s: MSI-X enabled while MSI is on; ignored", pd->name);
		return;
	}
	pd->msix_on = true;
	irqs_off(pd);
	if (irqs_on(pd, VFIO_PCI_DEV_IRQ_MSIX, pd->msix.nr)) {
		pr_warn("%s: cannot enable %u MSI-X vectors on the device", pd->name,
			pd->msix.nr);
		intx_on(pd);
		return;
	}
	pd->mode = VFIO_PCI_MODE_MSIX;
}

/* ---- config space ---- */

static bool overlaps(unsigned int reg, unsigned int len, unsigned int off, unsigned int n)
{
	return reg < off + n && off < reg + len;
}

static uint32_t ep_cfg_read(void *opaque, unsigned int reg, unsigned int len)
{
	struct vfio_pci_dev *pd = opaque;
	const uint8_t *d = pd->ep.cfg.data;
	uint8_t dev[4];
	bool need_dev = false, dev_ok = false;
	uint32_t v = 0;

	if ((len != 1 && len != 2 && len != 4) || reg >= PCI_CFG_SPACE_SIZE ||
	    len > PCI_CFG_SPACE_SIZE - reg)
		return 0xffffffff;
	for (unsigned int i = 0; i < len; i++)
		need_dev |= pd->policy[reg + i] != VFIO_CFG_EMUL;
	if (need_dev)
		dev_ok = !pd->ops->cfg_read(pd->dev, reg, dev, len);
	for (unsigned int i = 0; i < len; i++) {
		unsigned int at = reg + i;
		uint8_t b;

		if (pd->policy[at] == VFIO_CFG_EMUL)
			b = d[at];
		else
			b = dev_ok ? dev[i] : 0xff;
		/* Our capability list, not the device's. */
		if (at == CFG_STATUS)
			b = (uint8_t)((b & ~STATUS_CAP_LIST) |
				      (d[CFG_CAP_PTR] ? STATUS_CAP_LIST : 0));
		v |= (uint32_t)b << (8 * i);
	}
	if (pd->msi.cap && pd->msi.maskable &&
	    overlaps(reg, len, pd->msi.cap + pd->msi.pending_off, 4)) {
		unsigned int base = pd->msi.cap + pd->msi.pending_off;

		for (unsigned int i = 0; i < len; i++) {
			unsigned int at = reg + i;

			if (at < base || at >= base + 4)
				continue;
			for (unsigned int bit = 0; bit < 8; bit++)
				if (msi_pending(pd, (at - base) * 8 + bit))
					v |= 1u << (8 * i + bit);
		}
	}
	return v;
}

/* The device's command register: our forwarded bits plus the decode it always keeps. */
static void forward_command(struct vfio_pci_dev *pd)
{
	uint16_t cmd = pci_get16(pd->ep.cfg.data, 0x04);
	uint8_t b[2];

	pci_put16(b, 0, (uint16_t)((cmd & CMD_FORWARDED) | pd->host_decode));
	pd->ops->cfg_write(pd->dev, 0x04, b, 2);
}

static void ep_cfg_written(void *opaque, unsigned int reg, unsigned int len)
{
	struct vfio_pci_dev *pd = opaque;
	const uint8_t *d = pd->ep.cfg.data;
	unsigned int end;

	if (reg >= PCI_CFG_SPACE_SIZE)
		return;
	end = len > PCI_CFG_SPACE_SIZE - reg ? PCI_CFG_SPACE_SIZE : reg + len;
	if (overlaps(reg, len, 0x04, 2))
		forward_command(pd);
	for (unsigned int at = reg; at < end;) {
		unsigned int run = 0;

		while (at + run < end && pd->policy[at + run] == VFIO_CFG_PASS)
			run++;
		if (run) {
			pd->ops->cfg_write(pd->dev, at, d + at, run);
			at += run;
		} else {
			at++;
		}
	}
	if (pd->msi.cap && overlaps(reg, len, pd->msi.cap, pd->msi.pending_off))
		msi_written(pd);
	if (pd->has_msix) {
		msix_cfg_written(&pd->msix, reg, len);
		msix_written(pd);
	}
}

static void ep_bar_map(void *opaque, unsigned int bar, uint64_t addr, bool on)
{
	struct vfio_pci_dev *pd = opaque;

	if (pd->plat.bar_map)
		pd->plat.bar_map(pd->plat.opaque, bar, addr, on);
}

static const struct pci_endpoint_ops vfio_ep_ops = {
	.bar_map = ep_bar_map,
	.cfg_written = ep_cfg_written,
	.cfg_read = ep_cfg_read,
};

/* Bytes a capability spans, for the ones this code knows; 0 for the others. */
static unsigned int cap_len(const uint8_t *c, unsigned int at, uint8_t id)
{
	uint16_t flags = pci_get16(c, at + 2);

	switch (id) {
	case PCI_CAP_ID_PM:
		return PM_LEN;
	case PCI_CAP_ID_MSI:
		return 10 + (flags & MSI_CTRL_64BIT ? 4 : 0) + (flags & MSI_CTRL_MASKABLE ? 10 : 0);
	case PCI_CAP_ID_MSIX:
		return 12;
	case PCI_CAP_ID_EXP:
		if ((flags & 0xf) >= 2)
			return ((flags >> 4) & 0xf) == EXP_TYPE_RC_END ? EXP_LEN_V2_RC_END : EXP_LEN_V2;
		return ((flags >> 4) & 0xf) == EXP_TYPE_RC_END ? EXP_LEN_V1_RC_END : EXP_LEN_V1;
	case PCI_CAP_ID_VNDR:
		return c[at + 2] < 3 ? 3 : c[at + 2];
	default:
		return 0;
	}
}

/* Append the capability at 'at' to the guest's chain after *last. */
static void link_cap(struct vfio_pci_dev *pd, unsigned int *last, unsigned int at, uint8_t id)
{
	uint8_t *d = pd->ep.cfg.data;

	if (*last)
		d[*last + 1] = (uint8_t)at;
	else
		d[CFG_CAP_PTR] = (uint8_t)at;
	d[at] = id;
	d[at + 1] = 0;
	pci_put16(d, CFG_STATUS, pci_get16(d, CFG_STATUS) | STATUS_CAP_LIST);
	*last = at;
}

static void setup_msi(struct vfio_pci_dev *pd, const uint8_t *c, unsigned int at)
{
	struct vfio_pci_msi *m = &pd->msi;
	struct pci_config_space *s = &pd->ep.cfg;
	uint16_t flags = pci_get16(c, at + 2);

	m->cap = at;
	m->max = 1u << ((flags & MSI_CTRL_MMC) >> 1);
	if (m->max > VFIO_PCI_MSI_MAX)
		m->max = VFIO_PCI_MSI_MAX;
	m->is_64 = flags & MSI_CTRL_64BIT;
	m->maskable = flags & MSI_CTRL_MASKABLE;
	m->data_off = m->is_64 ? 0x0c : 0x08;
	m->mask_off = m->data_off + 4;
	m->pending_off = m->maskable ? m->mask_off + 4 : m->data_off + 2;
	/* Emulated from scratch: off, one vector, no message, nothing masked. */
	pci_put16(s->data, at + 2, flags & (MSI_CTRL_MMC | MSI_CTRL_64BIT | MSI_CTRL_MASKABLE));
	pci_put16(s->wmask, at + 2, MSI_CTRL_ENABLE | MSI_CTRL_MME);
	pci_put32(s->wmask, at + 4, 0xfffffffc);
	if (m->is_64)
		pci_put32(s->wmask, at + 8, 0xffffffff);
	pci_put16(s->wmask, at + m->data_off, 0xffff);
	if (m->maskable)
		pci_put32(s->wmask, at + m->mask_off, msi_mask_bits(m));
}

static int setup_msix(struct vfio_pci_dev *pd, const struct pci_func *f, const uint8_t *c,
		      unsigned int at, char *err, size_t errlen)
{
	uint16_t ctrl = pci_get16(c, at + 2);
	uint32_t table = pci_get32(c, at + 4), pba = pci_get32(c, at + 8);
	unsigned int nr = (ctrl & MSIX_TABLE_SIZE_MASK) + 1;
	unsigned int tbar = table & MSIX_BIR_MASK, pbar = pba & MSIX_BIR_MASK;
	uint64_t toff = table & ~MSIX_BIR_MASK, poff = pba & ~MSIX_BIR_MASK;
	uint64_t pba_len = ((uint64_t)nr + 63) / 64 * 8;
	int ret;

	if (tbar >= PCI_NR_BARS || pbar >= PCI_NR_BARS ||
	    f->bars[tbar].type == PCI_BAR_UNUSED || f->bars[tbar].type == PCI_BAR_IO ||
	    f->bars[pbar].type == PCI_BAR_UNUSED || f->bars[pbar].type == PCI_BAR_IO ||
	    toff + (uint64_t)nr * MSIX_ENTRY_SIZE > pd->region_size[tbar] ||
	    poff + pba_len > pd->region_size[pbar]) {
		set_err(err, errlen,
			"%s: the MSI-X table (BAR%u+0x%llx, %u entries) or PBA (BAR%u+0x%llx) lies outside its memory BAR",
			pd->name, tbar, (unsigned long long)toff, nr, pbar,
			(unsigned long long)poff);
		return -EINVAL;
	}
	pd->ep.next_cap = at;
	ret = msix_init(&pd->msix, &pd->ep, nr, tbar, (uint32_t)toff, pbar, (uint32_t)poff,
			&pd->plat.msi);
	if (ret) {
		set_err(err, errlen, "%s: MSI-X emulation: %s", pd->name, strerror(-ret));
		return ret;
	}
	pd->has_msix = true;
	pd->msix_table_bar = tbar;
	pd->msix_pba_bar = pbar;
	pd->msix_table_off = toff;
	pd->msix_pba_off = poff;
	return 0;
}

/*
 * The guest's capability list: PM, MSI, MSI-X, PCIe and vendor-specific
 * capabilities at the device's offsets, in the device's order; everything
 * else is left out of the chain and its header reads 0. Bytes between
 * capabilities are the device's own registers: read from it, never written.
 * The extended list is empty (0x100 reads 0).
 */
static int setup_caps(struct vfio_pci_dev *pd, const struct pci_func *f, const uint8_t *c,
		      char *err, size_t errlen)
{
	uint64_t seen = 0;		/* dword offsets 0x40-0xfc visited: a loop ends the walk */
	unsigned int at, last = 0, n = 0;
	int ret;

	set_policy(pd, CAP_FIRST, CAP_END - CAP_FIRST, VFIO_CFG_RO);
	if (!(pci_get16(c, CFG_STATUS) & STATUS_CAP_LIST))
		return 0;
	/* Every capability header hidden first, so dropped ones read 0. */
	for (at = c[CFG_CAP_PTR] & ~3u; at >= CAP_FIRST && n < PCI_CAP_ID_MAX_WALK; n++) {
		set_policy(pd, at, 2, VFIO_CFG_EMUL);
		at = c[at + 1] & ~3u;
	}
	n = 0;
	for (at = c[CFG_CAP_PTR] & ~3u; at >= CAP_FIRST && n < PCI_CAP_ID_MAX_WALK; n++) {
		uint64_t bit = 1ull << ((at - CAP_FIRST) / 4);
		uint8_t id = c[at];
		unsigned int next = c[at + 1] & ~3u;
		unsigned int len = cap_len(c, at, id);

		if (seen & bit)
			break;
		seen |= bit;
		if (!len || at + len > CAP_END) {
			if (len)
				pr_warn("%s: capability 0x%02x at 0x%x runs past config space; hidden",
					pd->name, id, at);
			at = next;
			continue;
		}
		switch (id) {
		case PCI_CAP_ID_PM:
			set_policy(pd, at + 2, len - 2, VFIO_CFG_RO);
			set_policy(pd, at + PM_CTRL, 2, VFIO_CFG_PASS);
			link_cap(pd, &last, at, id);
			break;
		case PCI_CAP_ID_EXP:
			/* Link control and the rest are read-only: a write could retrain or
			 * disable the host's link. Device control/status are the device's. */
			set_policy(pd, at + 2, len - 2, VFIO_CFG_RO);
			set_policy(pd, at + EXP_DEVCTL, 4, VFIO_CFG_PASS);
			link_cap(pd, &last, at, id);
			break;
		case PCI_CAP_ID_VNDR:
			set_policy(pd, at + 2, 1, VFIO_CFG_RO);
			set_policy(pd, at + 3, len - 3, VFIO_CFG_PASS);
			link_cap(pd, &last, at, id);
			break;
		case PCI_CAP_ID_MSI:
			if (pd->msi.cap)
				break;
			set_policy(pd, at, len, VFIO_CFG_EMUL);
			link_cap(pd, &last, at, id);
			setup_msi(pd, c, at);
			break;
		case PCI_CAP_ID_MSIX:
			if (pd->has_msix)
				break;
			set_policy(pd, at, len, VFIO_CFG_EMUL);
			ret = setup_msix(pd, f, c, at, err, errlen);
			if (ret)
				return ret;
			link_cap(pd, &last, at, id);	/* msix_init links only from 0x40 */
			break;
		}
		at = next;
	}
	return 0;
}

/* Memory BARs are mapped and I/O BARs trapped: each must be what the plan says. */
static int check_bars(struct vfio_pci_dev *pd, const struct pci_func *f, const uint8_t *c,
		      char *err, size_t errlen)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bars[i];
		uint32_t reg = pci_get32(c, 0x10 + 4 * i);
		enum pci_bar_type type;
		uint64_t size;

		if (b->type == PCI_BAR_UNUSED || !b->size)
			continue;
		if (reg & 1)
			type = PCI_BAR_IO;
		else
			type = (reg & 6) == 4 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
		size = pd->ops->region_size(pd->dev, i);
		if (type != b->type) {
			set_err(err, errlen, "%s: BAR%u is %s on the device but %s in the plan",
				pd->name, i, pci_bar_type_name(type), pci_bar_type_name(b->type));
			return -EINVAL;
		}
		if (!size || size > b->size) {
			set_err(err, errlen,
				"%s: BAR%u: the device region is 0x%llx bytes, the plan's BAR 0x%llx",
				pd->name, i, (unsigned long long)size, (unsigned long long)b->size);
			return -EINVAL;
		}
		pd->region_size[i] = size;
		pd->host_decode |= type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	return 0;
}

static int load_rom(struct vfio_pci_dev *pd, const struct pci_func *f, const char *rom_file,
		    char *err, size_t errlen)
{
	uint64_t have, done = 0;

	if (f->rom.type == PCI_BAR_UNUSED || !f->rom.size)
		return 0;
	pd->rom_size = f->rom.size;
	pd->rom = malloc(pd->rom_size);
	if (!pd->rom) {
		set_err(err, errlen, "%s: no memory for a 0x%llx byte ROM", pd->name,
			(unsigned long long)pd->rom_size);
		return -ENOMEM;
	}
	memset(pd->rom, 0xff, pd->rom_size);
	if (rom_file) {
		int fd = open(rom_file, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			int e = errno;

			set_err(err, errlen, "%s: rom: cannot open %s: %s", pd->name, rom_file,
				strerror(e));
			return -e;
		}
		while (done < pd->rom_size) {
			ssize_t n = read(fd, pd->rom + done, pd->rom_size - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (uint64_t)n;
		}
		close(fd);
		return 0;
	}
	have = pd->ops->region_size(pd->dev, VFIO_PCI_DEV_ROM_REGION);
	if (!have) {
		set_err(err, errlen, "%s: the plan has a ROM but the device exposes none", pd->name);
		return -ENOENT;
	}
	if (have > pd->rom_size)
		have = pd->rom_size;
	for (done = 0; done < have; done += ROM_CHUNK) {
		unsigned int n = have - done < ROM_CHUNK ? (unsigned int)(have - done) : ROM_CHUNK;
		int ret = pd->ops->region_read(pd->dev, VFIO_PCI_DEV_ROM_REGION, done,
					       pd->rom + done, n);

		if (ret) {
			set_err(err, errlen, "%s: cannot read the device's ROM: %s", pd->name,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int vfio_pci_dev_init(struct vfio_pci_dev *pd, const struct pci_func *f,
		      const struct vfio_dev_ops *ops, void *dev,
		      const struct vfio_pci_platform *plat, const char *rom_file,
		      char *err, size_t errlen)
{
	uint8_t c[CAP_END];
	int ret;

	memset(pd, 0, sizeof(*pd));
	pd->intx_trigger = pd->intx_resample = -1;
	pd->ops = ops;
	pd->dev = dev;
	if (plat)
		pd->plat = *plat;
	snprintf(pd->name, sizeof(pd->name), "%s", f->name ? f->name : "vfio");

	if (ops->reset) {
		ret = ops->reset(pd->dev);
		if (!ret)
			pr_info("%s: device reset", pd->name);
		else if (ret != -ENOTTY && ret != -EINVAL)
			pr_warn("%s: device reset failed: %s", pd->name, strerror(-ret));
	}
	ret = ops->cfg_read(dev, 0, c, sizeof(c));
	if (ret) {
		set_err(err, errlen, "%s: cannot read its config space: %s", pd->name,
			strerror(-ret));
		return ret;
	}
	if (pci_get16(c, 0) == 0xffff) {
		set_err(err, errlen, "%s: the device does not answer (vendor ID 0xffff)", pd->name);
		return -ENODEV;
	}
	pci_endpoint_init(&pd->ep, f, &vfio_ep_ops, pd);
	pci_endpoint_claim(&pd->ep, 0, PCI_CFG_SPACE_SIZE);
	set_policy(pd, CFG_STATUS, 2, VFIO_CFG_PASS);

	ret = check_bars(pd, f, c, err, errlen);
	if (!ret)
		ret = setup_caps(pd, f, c, err, errlen);
	if (!ret)
		ret = load_rom(pd, f, rom_file, err, errlen);
	if (ret)
		goto err_free;

	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		pd->init_bars[i] = pci_get32(pd->ep.cfg.data, 0x10 + 4 * i);
	pd->init_rom = pci_get32(pd->ep.cfg.data, CFG_ROM);
	pd->init_cmd = pci_get16(pd->ep.cfg.data, 0x04);
	forward_command(pd);

	if (f->intx_pin && pd->plat.intx_fds) {
		ret = pd->plat.intx_fds(pd->plat.opaque, &pd->intx_trigger, &pd->intx_resample);
		if (ret) {
			set_err(err, errlen, "%s: no INTx eventfds from the platform: %s",
				pd->name, strerror(-ret));
			goto err_free;
		}
		intx_on(pd);
		if (pd->mode != VFIO_PCI_MODE_INTX) {
			set_err(err, errlen, "%s: cannot enable INTx on the device", pd->name);
			ret = -EIO;
			goto err_free;
		}
	}
	return 0;

err_free:
	if (pd->has_msix)
		msix_free(&pd->msix);
	pci_endpoint_free(&pd->ep);
	free(pd->rom);
	pd->rom = NULL;
	return ret;
}

void vfio_pci_dev_free(struct vfio_pci_dev *pd)
{
	irqs_off(pd);
	if (pd->has_msix)
		msix_free(&pd->msix);
	pd->has_msix = false;
	pci_endpoint_free(&pd->ep);
	free(pd->rom);
	pd->rom = NULL;
}

int vfio_pci_dev_reset(struct vfio_pci_dev *pd)
{
	struct vfio_pci_msi *m = &pd->msi;
	int ret = 0;

	pthread_mutex_lock(&pd->ep.lock);
	irqs_off(pd);
	if (pd->ops->reset)
		ret = pd->ops->reset(pd->dev);
	if (m->cap) {
		uint8_t *d = pd->ep.cfg.data;

		pci_put16(d, m->cap + 2, pci_get16(d, m->cap + 2) & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
		memset(d + m->cap + 4, 0, m->pending_off - 4);
		msi_sync(pd, 0, m->nr);
		m->nr = 0;
	}
	pd->msix_on = false;
	pthread_mutex_unlock(&pd->ep.lock);
	if (pd->has_msix)
		msix_reset(&pd->msix);

	/* Decode off first, so a 64-bit BAR never decodes half-written. */
	pci_endpoint_write(&pd->ep, 0x04, 2, 0);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		pci_endpoint_write(&pd->ep, 0x10 + 4 * i, 4, pd->init_bars[i]);
	pci_endpoint_write(&pd->ep, CFG_ROM, 4, pd->init_rom);
	pci_endpoint_write(&pd->ep, 0x04, 2, pd->init_cmd);

	pthread_mutex_lock(&pd->ep.lock);
	intx_on(pd);
	pthread_mutex_unlock(&pd->ep.lock);
	return ret;
}

/* ---- BAR traps ---- */

static bool inside(uint64_t off, unsigned int len, uint64_t base, uint64_t size)
{
	return off >= base && off - base < size && len <= size - (off - base);
}

static bool touches(uint64_t off, unsigned int len, uint64_t base, uint64_t size)
{
	return off < base + size && base < off + len;
}

enum bar_target { BAR_NONE, BAR_TABLE, BAR_PBA, BAR_DEVICE };

static enum bar_target bar_target(struct vfio_pci_dev *pd, unsigned int bar, uint64_t off,
				  unsigned int len, uint64_t *rel)
{
	const struct pci_bar *b;

	if (bar >= PCI_NR_BARS || (len != 1 && len != 2 && len != 4 && len != 8))
		return BAR_NONE;
	b = &pd->ep.regions[bar];
	if (b->type == PCI_BAR_UNUSED || !inside(off, len, 0, b->size))
		return BAR_NONE;
	if (pd->has_msix && bar == pd->msix_table_bar &&
	    touches(off, len, pd->msix_table_off, msix_table_size(&pd->msix))) {
		*rel = off - pd->msix_table_off;
		return inside(off, len, pd->msix_table_off, msix_table_size(&pd->msix)) ?
		       BAR_TABLE : BAR_NONE;
	}
	if (pd->has_msix && bar == pd->msix_pba_bar &&
	    touches(off, len, pd->msix_pba_off, msix_pba_size(&pd->msix))) {
		*rel = off - pd->msix_pba_off;
		return inside(off, len, pd->msix_pba_off, msix_pba_size(&pd->msix)) ?
		       BAR_PBA : BAR_NONE;
	}
	/* The plan rounds small BARs up to a page; past the device's region is nothing. */
	if (!inside(off, len, 0, pd->region_size[bar]))
		return BAR_NONE;
	*rel = off;
	return BAR_DEVICE;
}

static uint64_t len_mask(unsigned int len)
{
	return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

uint64_t vfio_pci_bar_read(struct vfio_pci_dev *pd, unsigned int bar, uint64_t off,
			   unsigned int len)
{
	uint8_t buf[8] = { 0 };
	uint64_t rel = 0, v = 0;

	switch (bar_target(pd, bar, off, len, &rel)) {
	case BAR_TABLE:
		return msix_table_read(&pd->msix, rel, len) & len_mask(len);
	case BAR_PBA:
		return msix_pba_read(&pd->msix, rel, len) & len_mask(len);
	case BAR_DEVICE:
		for (unsigned int i = 0; i < len; i += 4) {
			unsigned int n = len - i < 4 ? len - i : 4;

			if (pd->ops->region_read(pd->dev, bar, rel + i, buf + i, n))
				return len_mask(len);
		}
		for (unsigned int i = 0; i < len; i++)
			v |= (uint64_t)buf[i] << (8 * i);
		return v;
	case BAR_NONE:
	default:
		return len == 1 || len == 2 || len == 4 || len == 8 ? len_mask(len) : ~0ull;
	}
}

void vfio_pci_bar_write(struct vfio_pci_dev *pd, unsigned int bar, uint64_t off,
			uint64_t value, unsigned int len)
{
	uint8_t buf[8];
	uint64_t rel = 0;

	switch (bar_target(pd, bar, off, len, &rel)) {
	case BAR_TABLE:
		msix_table_write(&pd->msix, rel, value, len);
		return;
	case BAR_DEVICE:
		for (unsigned int i = 0; i < len; i++)
			buf[i] = (uint8_t)(value >> (8 * i));
		for (unsigned int i = 0; i < len; i += 4) {
			unsigned int n = len - i < 4 ? len - i : 4;

			pd->ops->region_write(pd->dev, bar, rel + i, buf + i, n);
		}
		return;
	case BAR_PBA:
	case BAR_NONE:
	default:
		return;
	}
}

const uint8_t *vfio_pci_rom(const struct vfio_pci_dev *pd, uint64_t *size)
{
	if (!pd->rom)
		return NULL;
	*size = pd->rom_size;
	return pd->rom;
}
