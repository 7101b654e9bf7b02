/*
 * Host inventory, config-space side: BAR decoding from the BAR registers and
 * the sysfs resource lines, and the capability walk (MSI, MSI-X, PCIe, the
 * extended list). Everything here trusts nothing it reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vfio/host_priv.h"

/* Config-space offsets and bits used here (PCI Local Bus 3.0, PCIe 6.0). */
#define CFG_STATUS		0x06
#define  CFG_STATUS_CAP_LIST	0x0010
#define CFG_BAR0		0x10
#define CFG_CAP_PTR		0x34
#define CFG_CB_CAP_PTR		0x14	/* CardBus header */
#define CFG_STD_END		0x100
#define CFG_EXT_START		0x100
#define CFG_EXT_END		0x1000

#define BAR_IO			0x1
#define BAR_MEM_TYPE_MASK	0x6
#define BAR_MEM_TYPE_64		0x4
#define BAR_MEM_PREFETCH	0x8

#define CAP_ID_MSI		0x05
#define CAP_ID_EXP		0x10
#define CAP_ID_MSIX		0x11

#define MSI_FLAGS		2
#define  MSI_FLAGS_MMC_SHIFT	1
#define  MSI_FLAGS_MMC_MASK	0x7
#define  MSI_FLAGS_64BIT	0x0080
#define  MSI_FLAGS_MASKBIT	0x0100

#define MSIX_FLAGS		2
#define  MSIX_FLAGS_QSIZE	0x07ff
#define MSIX_TABLE		4
#define MSIX_PBA		8
#define  MSIX_BIR_MASK		0x7
#define MSIX_CAP_SIZE		12

#define EXP_FLAGS		2
#define  EXP_FLAGS_TYPE_SHIFT	4
#define  EXP_FLAGS_TYPE_MASK	0xf
#define EXP_LNKSTA		0x12
#define  EXP_LNKSTA_SPEED	0x000f
#define  EXP_LNKSTA_WIDTH_SHIFT	4
#define  EXP_LNKSTA_WIDTH_MASK	0x3f
#define EXP_TYPE_RC_END		0x9	/* root complex integrated endpoint: no link */
#define EXP_TYPE_RC_EC		0xa	/* root complex event collector: no link */
#define EXP_MAX_SPEED		6	/* 64 GT/s */

static uint32_t cfg_rd(const struct host_device *dev, unsigned int off,
		       unsigned int width)
{
	uint32_t v = 0;
	unsigned int i;

	if (off > dev->config_len || width > dev->config_len - off)
		return 0;
	for (i = 0; i < width; i++)
		v |= (uint32_t)dev->config[off + i] << (8 * i);
	return v;
}

static bool cfg_has(const struct host_device *dev, unsigned int off,
		    unsigned int width)
{
	return off <= dev->config_len && width <= dev->config_len - off;
}

/* ------------------------------------------------------------ resource */

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int parse_u64(const char **pp, uint64_t *out)
{
	const char *p = skip_blanks(*pp);
	unsigned long long v;
	char *end;

	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return -EINVAL;
	if (!((p[2] >= '0' && p[2] <= '9') || (p[2] >= 'a' && p[2] <= 'f') ||
	      (p[2] >= 'A' && p[2] <= 'F')))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 16);
	if (errno)
		return -EINVAL;
	*out = v;
	*pp = end;
	return 0;
}

int host_parse_resource(const char *text, struct host_resource *res)
{
	const char *p = text;
	unsigned int i;

	memset(res, 0, sizeof(*res) * HOST_RES_LINES);
	for (i = 0; i < HOST_RES_LINES && *p; i++) {
		if (parse_u64(&p, &res[i].start) || parse_u64(&p, &res[i].end) ||
		    parse_u64(&p, &res[i].flags))
			return -EINVAL;
		p = skip_blanks(p);
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ BARs */

static int resource_size(const struct host_resource *r, uint64_t *size)
{
	if (!r->start && !r->end) {
		*size = 0;
		return 0;
	}
	if (r->end < r->start || r->end - r->start == UINT64_MAX)
		return -EINVAL;
	*size = r->end - r->start + 1;
	if (*size & (*size - 1))
		return -EINVAL;
	return 0;
}

static unsigned int nr_bars(const struct host_device *dev)
{
	switch (dev->header_type) {
	case 0:
		return 6;
	case 1:
		return 2;
	case 2:
		return 1;
	default:
		return 0;
	}
}

int host_decode_bars(struct host_device *dev, const struct host_resource *res)
{
	unsigned int i, n = nr_bars(dev);
	uint64_t size;
	int ret;

	memset(dev->bars, 0, sizeof(dev->bars));
	for (i = 0; i < n; i++) {
		struct host_bar *bar = &dev->bars[i];
		unsigned int reg_off = CFG_BAR0 + 4 * i;

		ret = resource_size(&res[i], &size);
		if (ret)
			return ret;
		if (!size)
			continue;
		bar->addr = res[i].start;
		bar->size = size;
		if (cfg_has(dev, reg_off, 4)) {
			uint32_t reg = cfg_rd(dev, reg_off, 4);

			if (reg & BAR_IO) {
				bar->kind = HOST_BAR_IO;
				continue;
			}
			bar->prefetchable = reg & BAR_MEM_PREFETCH;
			if ((reg & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 && i + 1 < n) {
				bar->kind = HOST_BAR_MEM64;
				i++;	/* the upper half stays HOST_BAR_NONE */
			} else {
				bar->kind = HOST_BAR_MEM32;
			}
			continue;
		}
		/* no BAR register to look at: the kernel's flags decide */
		if (res[i].flags & HOST_IORESOURCE_IO) {
			bar->kind = HOST_BAR_IO;
		} else if (res[i].flags & HOST_IORESOURCE_MEM) {
			bar->prefetchable = res[i].flags & HOST_IORESOURCE_PREFETCH;
			if ((res[i].flags & HOST_IORESOURCE_MEM_64) && i + 1 < n) {
				bar->kind = HOST_BAR_MEM64;
				i++;
			} else {
				bar->kind = HOST_BAR_MEM32;
			}
		} else {
			memset(bar, 0, sizeof(*bar));
		}
	}
	ret = resource_size(&res[6], &size);
	if (ret)
		return ret;
	dev->rom_size = size;
	return 0;
}

/* ------------------------------------------------------------ capabilities */

static void add_cap(struct host_device *dev, uint16_t id, uint16_t off, bool ext)
{
	if (dev->nr_caps >= HOST_MAX_CAPS)
		return;
	dev->caps[dev->nr_caps].id = id;
	dev->caps[dev->nr_caps].offset = off;
	dev->caps[dev->nr_caps].extended = ext;
	dev->nr_caps++;
}

static unsigned int msi_cap_size(uint16_t flags)
{
	unsigned int size = 10;

	if (flags & MSI_FLAGS_64BIT)
		size += 4;
	if (flags & MSI_FLAGS_MASKBIT)
		size += 8;
	return size;
}

static void parse_msi(struct host_device *dev, unsigned int off)
{
	uint16_t flags;
	unsigned int mmc;

	if (dev->msi.present || !cfg_has(dev, off, 4))
		return;
	flags = (uint16_t)cfg_rd(dev, off + MSI_FLAGS, 2);
	if (off + msi_cap_size(flags) > CFG_STD_END) {
		pr_debug("host: MSI capability at 0x%x runs past 0x100", off);
		return;
	}
	mmc = (flags >> MSI_FLAGS_MMC_SHIFT) & MSI_FLAGS_MMC_MASK;
	if (mmc > 5)		/* reserved encodings: take the most MSI allows */
		mmc = 5;
	dev->msi.present = true;
	dev->msi.vectors = 1u << mmc;
	dev->msi.is_64bit = flags & MSI_FLAGS_64BIT;
	dev->msi.per_vector_mask = flags & MSI_FLAGS_MASKBIT;
	dev->msi.offset = (uint16_t)off;
}

static void parse_msix(struct host_device *dev, unsigned int off)
{
	uint32_t table, pba;

	if (dev->msix.present || !cfg_has(dev, off, MSIX_CAP_SIZE))
		return;
	table = cfg_rd(dev, off + MSIX_TABLE, 4);
	pba = cfg_rd(dev, off + MSIX_PBA, 4);
	dev->msix.table_size = (cfg_rd(dev, off + MSIX_FLAGS, 2) & MSIX_FLAGS_QSIZE) + 1;
	dev->msix.table_bar = table & MSIX_BIR_MASK;
	dev->msix.table_offset = table & ~(uint32_t)MSIX_BIR_MASK;
	dev->msix.pba_bar = pba & MSIX_BIR_MASK;
	dev->msix.pba_offset = pba & ~(uint32_t)MSIX_BIR_MASK;
	dev->msix.offset = (uint16_t)off;
	dev->msix.present = true;
}

static void parse_pcie(struct host_device *dev, unsigned int off)
{
	uint16_t lnksta;

	if (dev->pcie.present || !cfg_has(dev, off, EXP_FLAGS + 2))
		return;
	dev->pcie.present = true;
	dev->pcie.offset = (uint16_t)off;
	dev->pcie.port_type = (cfg_rd(dev, off + EXP_FLAGS, 2) >> EXP_FLAGS_TYPE_SHIFT) &
			      EXP_FLAGS_TYPE_MASK;
	if (dev->pcie.port_type == EXP_TYPE_RC_END || dev->pcie.port_type == EXP_TYPE_RC_EC)
		return;
	if (!cfg_has(dev, off + EXP_LNKSTA, 2) || off + EXP_LNKSTA + 2 > CFG_STD_END)
		return;
	lnksta = (uint16_t)cfg_rd(dev, off + EXP_LNKSTA, 2);
	dev->pcie.link_speed = lnksta & EXP_LNKSTA_SPEED;
	if (dev->pcie.link_speed > EXP_MAX_SPEED)
		dev->pcie.link_speed = 0;
	dev->pcie.link_width = (lnksta >> EXP_LNKSTA_WIDTH_SHIFT) & EXP_LNKSTA_WIDTH_MASK;
}

static void walk_std(struct host_device *dev)
{
	uint64_t seen[CFG_STD_END / 4 / 64] = { 0 };
	unsigned int ptr_reg = dev->header_type == 2 ? CFG_CB_CAP_PTR : CFG_CAP_PTR;
	unsigned int ptr;

	if (!cfg_has(dev, CFG_STATUS, 2) || !cfg_has(dev, ptr_reg, 1) ||
	    !(cfg_rd(dev, CFG_STATUS, 2) & CFG_STATUS_CAP_LIST))
		return;
	ptr = cfg_rd(dev, ptr_reg, 1) & ~3u;
	while (ptr) {
		uint8_t id;

		if (ptr < 0x40 || !cfg_has(dev, ptr, 2)) {
			pr_debug("host: capability pointer 0x%x out of range", ptr);
			return;
		}
		if (seen[ptr / 4 / 64] & (1ULL << (ptr / 4 % 64))) {
			pr_debug("host: capability list loops at 0x%x", ptr);
			return;
		}
		seen[ptr / 4 / 64] |= 1ULL << (ptr / 4 % 64);
		id = (uint8_t)cfg_rd(dev, ptr, 1);
		if (id == 0xff)		/* all-ones: the device did not answer */
			return;
		add_cap(dev, id, (uint16_t)ptr, false);
		switch (id) {
		case CAP_ID_MSI:
			parse_msi(dev, ptr);
			break;
		case CAP_ID_MSIX:
			parse_msix(dev, ptr);
			break;
		case CAP_ID_EXP:
			parse_pcie(dev, ptr);
			break;
		}
		ptr = cfg_rd(dev, ptr + 1, 1) & ~3u;
	}
}

static void walk_ext(struct host_device *dev)
{
	uint64_t seen[CFG_EXT_END / 4 / 64] = { 0 };
	unsigned int off = CFG_EXT_START;

	while (off) {
		uint32_t hdr;

		if (off < CFG_EXT_START || !cfg_has(dev, off, 4)) {
			if (off != CFG_EXT_START)
				pr_debug("host: extended capability pointer 0x%x out of range", off);
			return;
		}
		if (seen[off / 4 / 64] & (1ULL << (off / 4 % 64))) {
			pr_debug("host: extended capability list loops at 0x%x", off);
			return;
		}
		seen[off / 4 / 64] |= 1ULL << (off / 4 % 64);
		hdr = cfg_rd(dev, off, 4);
		if (hdr == 0 || hdr == 0xffffffff)
			return;
		add_cap(dev, (uint16_t)(hdr & 0xffff), (uint16_t)off, true);
		off = (hdr >> 20) & ~3u;
	}
}

/* Does [off, off + len) lie inside BAR bir, a memory BAR? */
static bool in_mem_bar(const struct host_device *dev, unsigned int bir,
		       uint64_t off, uint64_t len)
{
	const struct host_bar *bar;

	if (bir >= HOST_NR_BARS)
		return false;
	bar = &dev->bars[bir];
	if (bar->kind != HOST_BAR_MEM32 && bar->kind != HOST_BAR_MEM64)
		return false;
	return off <= bar->size && len <= bar->size - off;
}

static void check_msix(struct host_device *dev)
{
	struct host_msix *m = &dev->msix;
	uint64_t table_len = (uint64_t)m->table_size * 16;
	uint64_t pba_len = ((uint64_t)m->table_size + 63) / 64 * 8;

	if (!m->present)
		return;
	if (!in_mem_bar(dev, m->table_bar, m->table_offset, table_len) ||
	    !in_mem_bar(dev, m->pba_bar, m->pba_offset, pba_len)) {
		pr_debug("host: MSI-X table (BAR%u 0x%x) or PBA (BAR%u 0x%x) outside its BAR",
			 m->table_bar, m->table_offset, m->pba_bar, m->pba_offset);
		memset(m, 0, sizeof(*m));
	}
}

void host_parse_caps(struct host_device *dev)
{
	dev->nr_caps = 0;
	memset(&dev->msi, 0, sizeof(dev->msi));
	memset(&dev->msix, 0, sizeof(dev->msix));
	memset(&dev->pcie, 0, sizeof(dev->pcie));
	walk_std(dev);
	walk_ext(dev);
	check_msix(dev);
}

const char *host_cap_name(uint16_t id, bool extended)
{
	static const char *const std[] = {
		[0x01] = "Power Management", [0x02] = "AGP", [0x03] = "VPD",
		[0x04] = "Slot ID", [0x05] = "MSI", [0x06] = "CompactPCI Hot Swap",
		[0x07] = "PCI-X", [0x08] = "HyperTransport", [0x09] = "Vendor Specific",
		[0x0a] = "Debug Port", [0x0b] = "CompactPCI CRC", [0x0c] = "PCI Hot-Plug",
		[0x0d] = "Bridge Subsystem ID", [0x0e] = "AGP 8x", [0x0f] = "Secure Device",
		[0x10] = "PCI Express", [0x11] = "MSI-X", [0x12] = "SATA",
		[0x13] = "Advanced Features", [0x14] = "Enhanced Allocation",
		[0x15] = "Flattening Portal Bridge",
	};
	static const char *const ext[] = {
		[0x01] = "AER", [0x02] = "Virtual Channel", [0x03] = "Device Serial Number",
		[0x04] = "Power Budgeting", [0x05] = "RC Link Declaration",
		[0x06] = "RC Internal Link Control", [0x07] = "RC Event Collector",
		[0x08] = "MFVC", [0x09] = "Virtual Channel", [0x0a] = "RCRB",
		[0x0b] = "Vendor Specific", [0x0d] = "ACS", [0x0e] = "ARI", [0x0f] = "ATS",
		[0x10] = "SR-IOV", [0x11] = "MR-IOV", [0x12] = "Multicast", [0x13] = "PRI",
		[0x15] = "Resizable BAR", [0x16] = "DPA", [0x17] = "TPH", [0x18] = "LTR",
		[0x19] = "Secondary PCI Express", [0x1a] = "PMUX", [0x1b] = "PASID",
		[0x1c] = "LNR", [0x1d] = "DPC", [0x1e] = "L1 PM Substates", [0x1f] = "PTM",
		[0x21] = "FRS Queueing", [0x22] = "Readiness Time Reporting",
		[0x23] = "DVSEC", [0x24] = "VF Resizable BAR", [0x25] = "Data Link Feature",
		[0x26] = "Physical Layer 16.0 GT/s", [0x27] = "Lane Margining",
		[0x28] = "Hierarchy ID", [0x29] = "NPEM", [0x2a] = "Physical Layer 32.0 GT/s",
		[0x2b] = "Alternate Protocol", [0x2c] = "SFI", [0x2d] = "Shadow Functions",
		[0x2e] = "DOE", [0x2f] = "Device 3", [0x30] = "IDE",
		[0x31] = "Physical Layer 64.0 GT/s",
	};

	if (extended)
		return id < sizeof(ext) / sizeof(ext[0]) ? ext[id] : NULL;
	return id < sizeof(std) / sizeof(std[0]) ? std[id] : NULL;
}
