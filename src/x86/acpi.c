/*
 * The fixed ACPI tables (RSDP, XSDT, FADT, FACS, MADT, MCFG) and where each
 * table sits in the area handed to the guest; the DSDT body is acpi_dsdt.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x86/acpi.h"
#include "x86/acpi_tables.h"
#include "x86/layout.h"
#include "util/strbuf.h"

#define ACPI_OEM_ID		"VMM   "
#define ACPI_CREATOR_ID		"VMM "
#define ACPI_CENTURY_INDEX	0x32	/* CMOS register of the century */

enum { T_RSDP, T_FACS, T_XSDT, T_FADT, T_MADT, T_MCFG, T_DSDT, T_COUNT };

static const char *const table_sig[T_COUNT] = {
	[T_RSDP] = "RSDP", [T_FACS] = "FACS", [T_XSDT] = "XSDT",
	[T_FADT] = "FACP", [T_MADT] = "APIC", [T_MCFG] = "MCFG",
	[T_DSDT] = "DSDT",
};

/* The tables the XSDT lists; the FADT points at the FACS and the DSDT. */
static const int xsdt_tables[] = { T_FADT, T_MADT, T_MCFG };
#define XSDT_ENTRIES	(sizeof(xsdt_tables) / sizeof(xsdt_tables[0]))

/* Interrupt Source Overrides: IRQ0 → GSI2 (the PIT), the SCI level high. */
static const struct acpi_madt_iso madt_isos[] = {
	{ ACPI_MADT_ISO, sizeof(struct acpi_madt_iso), 0, 0, 2,
	  ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_EDGE },
	{ ACPI_MADT_ISO, sizeof(struct acpi_madt_iso), 0, ACPI_SCI_IRQ,
	  ACPI_SCI_IRQ, ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_LEVEL },
};
#define MADT_ISOS	(sizeof(madt_isos) / sizeof(madt_isos[0]))

static_assert(ACPI_MAX_TABLES >= T_COUNT, "acpi_layout.tables");

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return -sum;
}

static void header_init(struct acpi_header *h, const char *sig, size_t len,
			uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	/* "VMMFACP ", "VMMAPIC ", ... */
	memcpy(h->oem_table_id, "VMM", 3);
	memcpy(h->oem_table_id + 3, sig, 4);
	h->oem_table_id[7] = ' ';
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void header_sum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static size_t madt_size(const struct acpi_platform *p)
{
	return sizeof(struct acpi_madt) +
	       p->ncpus * sizeof(struct acpi_madt_lapic) +
	       sizeof(struct acpi_madt_ioapic) +
	       sizeof(madt_isos) + sizeof(struct acpi_madt_lapic_nmi);
}

static int check_platform(const struct acpi_platform *p, uint64_t guest_base,
			  char *err, size_t errlen)
{
	uint64_t ecam_size = ((uint64_t)p->bus_last + 1) * SZ_1M;

	if (!p->ncpus || p->ncpus > ACPI_MAX_CPUS) {
		set_err(err, errlen, "ACPI: %u vCPUs: 1 to %u are supported",
			p->ncpus, ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (guest_base % 64) {
		set_err(err, errlen,
			"ACPI: tables at 0x%llx: need a 64-byte aligned address",
			(unsigned long long)guest_base);
		return -EINVAL;
	}
	if (p->ecam_base % SZ_1M || p->ecam_base + ecam_size > SZ_4G) {
		set_err(err, errlen,
			"ACPI: ECAM at 0x%llx (%u buses): must be 1 MiB aligned and below 4 GiB",
			(unsigned long long)p->ecam_base, p->bus_last + 1u);
		return -EINVAL;
	}
	if (p->io.size && (p->io.base >= 0x10000 || p->io.size > 0x10000 - p->io.base)) {
		set_err(err, errlen, "ACPI: I/O window 0x%llx+0x%llx beyond port 0xffff",
			(unsigned long long)p->io.base, (unsigned long long)p->io.size);
		return -EINVAL;
	}
	if (p->mem32.size && (p->mem32.base >= SZ_4G ||
			      p->mem32.size > SZ_4G - p->mem32.base)) {
		set_err(err, errlen, "ACPI: 32-bit window 0x%llx+0x%llx beyond 4 GiB",
			(unsigned long long)p->mem32.base,
			(unsigned long long)p->mem32.size);
		return -EINVAL;
	}
	if (p->mem64.size && p->mem64.base + p->mem64.size - 1 < p->mem64.base) {
		set_err(err, errlen, "ACPI: 64-bit window 0x%llx+0x%llx wraps",
			(unsigned long long)p->mem64.base,
			(unsigned long long)p->mem64.size);
		return -EINVAL;
	}
	if (p->nr_uarts > ACPI_MAX_UARTS) {
		set_err(err, errlen, "ACPI: %u UARTs: at most %u", p->nr_uarts,
			ACPI_MAX_UARTS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < p->nr_uarts; i++) {
		if (p->uarts[i].irq > 15 || p->uarts[i].port > 0xfff8) {
			set_err(err, errlen, "ACPI: COM%u at port 0x%x IRQ %u: not an ISA UART",
				i + 1, p->uarts[i].port, p->uarts[i].irq);
			return -EINVAL;
		}
	}
	return 0;
}

static void build_rsdp(uint8_t *buf, uint64_t xsdt_addr)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)buf;

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->rsdt_addr = 0;
	r->length = sizeof(*r);
	r->xsdt_addr = xsdt_addr;
	r->checksum = acpi_checksum(r, 20);
	r->ext_checksum = acpi_checksum(r, sizeof(*r));
}

static void build_facs(uint8_t *buf)
{
	struct acpi_facs *f = (struct acpi_facs *)buf;

	memcpy(f->signature, "FACS", 4);
	f->length = sizeof(*f);
	f->version = 2;
}

static void build_xsdt(uint8_t *buf, const struct acpi_layout *l)
{
	struct acpi_header *h = (struct acpi_header *)buf;
	size_t len = sizeof(*h) + 8 * XSDT_ENTRIES;

	header_init(h, "XSDT", len, 1);
	for (size_t i = 0; i < XSDT_ENTRIES; i++) {
		uint64_t addr = l->tables[xsdt_tables[i]].addr;

		memcpy(buf + sizeof(*h) + 8 * i, &addr, 8);
	}
	header_sum(h);
}

static struct acpi_gas gas_io(uint16_t port, unsigned int len)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8 * len,
		.address = port,
	};
}

static void build_fadt(uint8_t *buf, const struct acpi_platform *p,
		       const struct acpi_layout *l)
{
	struct acpi_fadt *f = (struct acpi_fadt *)buf;

	header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 3;			/* ACPI 6.3 */
	f->firmware_ctrl = l->tables[T_FACS].addr;
	f->dsdt = l->tables[T_DSDT].addr;
	f->x_dsdt = l->tables[T_DSDT].addr;
	f->sci_int = ACPI_SCI_IRQ;
	/* smi_cmd 0: always in ACPI mode, SCI_EN set; no S4BIOS, no _PSS. */
	f->pm1a_evt_blk = ACPI_PM1A_EVT_BLK;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->x_pm1a_evt_blk = gas_io(ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN);
	f->pm1a_cnt_blk = ACPI_PM1A_CNT_BLK;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->x_pm1a_cnt_blk = gas_io(ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN);
	/* No C2 or C3 states. */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	f->century = p->rtc ? ACPI_CENTURY_INDEX : 0;
	f->iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_NO_VGA;
	if (p->i8042)
		f->iapc_boot_arch |= ACPI_BOOT_8042;
	if (!p->rtc)
		f->iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_C1_SUPPORTED |
		   ACPI_FADT_POWER_BUTTON | ACPI_FADT_SLEEP_BUTTON;
	header_sum(&f->h);
}

static void build_madt(uint8_t *buf, const struct acpi_platform *p, size_t len)
{
	struct acpi_madt *m = (struct acpi_madt *)buf;
	uint8_t *e = buf + sizeof(*m);
	struct acpi_madt_ioapic io = {
		.type = ACPI_MADT_IOAPIC,
		.length = sizeof(io),
		.id = p->ncpus,
		.addr = X86_IOAPIC_BASE,
		.gsi_base = 0,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_LAPIC_NMI,
		.length = sizeof(nmi),
		.uid = 0xff,
		.flags = ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_EDGE,
		.lint = 1,
	};

	header_init(&m->h, "APIC", len, 5);
	m->lapic_addr = X86_LAPIC_BASE;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	for (unsigned int i = 0; i < p->ncpus; i++) {
		struct acpi_madt_lapic la = {
			.type = ACPI_MADT_LAPIC,
			.length = sizeof(la),
			.uid = i,
			.apic_id = i,
			.flags = 1,		/* enabled */
		};

		memcpy(e, &la, sizeof(la));
		e += sizeof(la);
	}
	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	memcpy(e, madt_isos, sizeof(madt_isos));
	e += sizeof(madt_isos);
	memcpy(e, &nmi, sizeof(nmi));
	header_sum(&m->h);
}

static void build_mcfg(uint8_t *buf, const struct acpi_platform *p)
{
	struct acpi_mcfg *m = (struct acpi_mcfg *)buf;
	struct acpi_mcfg_alloc a = {
		.base = p->ecam_base,
		.segment = 0,
		.bus_start = 0,
		.bus_end = p->bus_last,
	};

	header_init(&m->h, "MCFG", sizeof(*m) + sizeof(a), 1);
	memcpy(buf + sizeof(*m), &a, sizeof(a));
	header_sum(&m->h);
}

static void build_dsdt(uint8_t *buf, const uint8_t *aml, size_t aml_len)
{
	struct acpi_header *h = (struct acpi_header *)buf;

	/* Revision 2: integers are 64 bits wide. */
	header_init(h, "DSDT", sizeof(*h) + aml_len, 2);
	memcpy(buf + sizeof(*h), aml, aml_len);
	header_sum(h);
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int acpi_build(const struct acpi_platform *p, uint64_t guest_base,
	       uint8_t *buf, size_t buflen, struct acpi_layout *out,
	       char *err, size_t errlen)
{
	size_t sizes[T_COUNT], pos = 0;
	uint8_t *aml;
	size_t aml_len;
	int ret;

	ret = check_platform(p, guest_base, err, errlen);
	if (ret)
		return ret;
	ret = acpi_dsdt_aml(p, &aml, &aml_len);
	if (ret) {
		set_err(err, errlen, "ACPI: building the DSDT: %s", strerror(-ret));
		return ret;
	}

	sizes[T_RSDP] = sizeof(struct acpi_rsdp);
	sizes[T_FACS] = sizeof(struct acpi_facs);
	sizes[T_XSDT] = sizeof(struct acpi_header) + 8 * XSDT_ENTRIES;
	sizes[T_FADT] = sizeof(struct acpi_fadt);
	sizes[T_MADT] = madt_size(p);
	sizes[T_MCFG] = sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_alloc);
	sizes[T_DSDT] = sizeof(struct acpi_header) + aml_len;

	memset(out, 0, sizeof(*out));
	for (int t = 0; t < T_COUNT; t++) {
		struct acpi_table_loc *loc = &out->tables[t];

		/* The FACS wants 64-byte alignment; 16 for the rest. */
		pos = align_up(pos, t == T_FACS ? 64 : 16);
		memcpy(loc->sig, table_sig[t], 5);
		loc->offset = pos;
		loc->len = sizes[t];
		loc->addr = guest_base + pos;
		pos += sizes[t];
	}
	out->nr_tables = T_COUNT;
	out->size = pos;
	out->rsdp_addr = guest_base;

	if (guest_base + pos > SZ_4G) {
		set_err(err, errlen, "ACPI: tables at 0x%llx+0x%zx: must lie below 4 GiB",
			(unsigned long long)guest_base, pos);
		ret = -EINVAL;
		goto out;
	}
	if (pos > buflen) {
		set_err(err, errlen, "ACPI: tables need %zu bytes, the area has %zu",
			pos, buflen);
		ret = -ENOSPC;
		goto out;
	}

	memset(buf, 0, pos);
	build_rsdp(buf + out->tables[T_RSDP].offset, out->tables[T_XSDT].addr);
	build_facs(buf + out->tables[T_FACS].offset);
	build_xsdt(buf + out->tables[T_XSDT].offset, out);
	build_fadt(buf + out->tables[T_FADT].offset, p, out);
	build_madt(buf + out->tables[T_MADT].offset, p, sizes[T_MADT]);
	build_mcfg(buf + out->tables[T_MCFG].offset, p);
	build_dsdt(buf + out->tables[T_DSDT].offset, aml, aml_len);
out:
	free(aml);
	return ret;
}
