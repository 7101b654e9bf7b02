/*
 * Tests of the AML builder's encodings and of the ACPI tables: lengths,
 * checksums, structure offsets, and iasl -d (acpica-tools) on every table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "x86/acpi.h"
#include "x86/acpi_tables.h"
#include "x86/aml.h"
#include "x86/layout.h"

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Decode a PkgLength at p: its value, and its size in *n. */
static size_t pkglen_decode(const uint8_t *p, unsigned int *n)
{
	unsigned int follow = p[0] >> 6;
	size_t v;

	*n = follow + 1;
	if (!follow)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (unsigned int i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* ---- AML encodings ---- */

static void test_pkglen_encode(void **state)
{
	static const struct {
		size_t body;
		unsigned int n;
		uint8_t bytes[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },			/* PkgLength 63: one byte */
		{ 63, 2, { 0x41, 0x04 } },		/* 64 would fit, 65 with 2 bytes */
		{ 4093, 2, { 0x4f, 0xff } },		/* PkgLength 4095 */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },	/* 4096 does not fit in 2 */
		{ 0xfffff - 3, 3, { 0x8f, 0xff, 0xff } },
		{ 0xfffff - 2, 4, { 0xc1, 0x00, 0x00, 0x01 } },
		{ 0xfffffff - 4, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int n = aml_pkglen_encode(out, cases[i].body);
		unsigned int dn;

		assert_int_equal(n, cases[i].n);
		assert_memory_equal(out, cases[i].bytes, n);
		assert_int_equal(pkglen_decode(out, &dn), cases[i].body + n);
		assert_int_equal(dn, n);
	}
	assert_int_equal(aml_pkglen_encode(out, 0xfffffff - 3), 0);
	assert_int_equal(aml_pkglen_encode(out, SIZE_MAX), 0);
}

/*
 * A Scope whose body (NameSeg and TermList) is 'body' bytes: the PkgLength
 * takes 'hdr' bytes and decodes to the bytes from itself to the frame's end.
 * 63 and 4094 are the first bodies that need one more byte; a PkgLength of
 * exactly 64 or 4096 cannot occur.
 */
static void scope_of_body(size_t body, unsigned int hdr)
{
	struct aml a;
	unsigned int dn;

	aml_init(&a);
	aml_scope_begin(&a, "_SB");
	for (size_t i = 4; i < body; i++)
		aml_op(&a, AML_ZERO_OP);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.buf[0], AML_SCOPE_OP);
	assert_int_equal(pkglen_decode(a.buf + 1, &dn), hdr + body);
	assert_int_equal(dn, hdr);
	assert_int_equal(a.len, 1 + hdr + body);
	assert_memory_equal(a.buf + 1 + hdr, "_SB_", 4);
	aml_free(&a);
}

static void test_pkglen_frames(void **state)
{
	(void)state;
	scope_of_body(4, 1);
	scope_of_body(62, 1);
	scope_of_body(63, 2);
	scope_of_body(64, 2);
	scope_of_body(4093, 2);
	scope_of_body(4094, 3);
	scope_of_body(4095, 3);
	scope_of_body(4096, 3);
	scope_of_body(0xfffff - 3, 3);
	scope_of_body(0xfffff - 2, 4);
}

static void check_int(uint64_t v, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_int(&a, v);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, n);
	assert_memory_equal(a.buf, want, n);
	aml_free(&a);
}

static void test_integers(void **state)
{
	(void)state;
	check_int(0, (const uint8_t[]){ 0x00 }, 1);
	check_int(1, (const uint8_t[]){ 0x01 }, 1);
	check_int(2, (const uint8_t[]){ 0x0a, 0x02 }, 2);
	check_int(0xff, (const uint8_t[]){ 0x0a, 0xff }, 2);
	check_int(0x100, (const uint8_t[]){ 0x0b, 0x00, 0x01 }, 3);
	check_int(0xffff, (const uint8_t[]){ 0x0b, 0xff, 0xff }, 3);
	check_int(0x10000, (const uint8_t[]){ 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5);
	check_int(0xffffffff, (const uint8_t[]){ 0x0c, 0xff, 0xff, 0xff, 0xff }, 5);
	check_int(0x100000000ULL, (const uint8_t[]){ 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9);
	check_int(UINT64_MAX - 1,
		  (const uint8_t[]){ 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9);
	check_int(UINT64_MAX, (const uint8_t[]){ 0xff }, 1);
}

static void check_name(const char *path, const void *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_namepath(&a, path);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, n);
	assert_memory_equal(a.buf, want, n);
	aml_free(&a);
}

static void check_bad_name(const char *path)
{
	struct aml a;

	aml_init(&a);
	aml_namepath(&a, path);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

static void test_names(void **state)
{
	(void)state;
	check_name("_SB", "_SB_", 4);
	check_name("PCI0", "PCI0", 4);
	check_name("\\_S5", "\\_S5_", 5);
	check_name("\\", "\\\0", 2);
	check_name("^^FOO", "^^FOO_", 6);
	check_name("\\_SB.PCI0", "\\\x2e_SB_PCI0", 10);
	check_name("\\_SB.PCI0.COM1", "\\\x2f\x03_SB_PCI0COM1", 15);
	check_bad_name("1ABC");
	check_bad_name("ABCDE");
	check_bad_name("A..B");
	check_bad_name("A.");
	check_bad_name(".A");
	check_bad_name("pci0");
	check_bad_name("\\^A");
}

static void test_eisaid(void **state)
{
	bool ok;
	struct aml a;

	(void)state;
	assert_int_equal(aml_eisaid_value("PNP0A03", &ok), 0x030ad041);
	assert_true(ok);
	assert_int_equal(aml_eisaid_value("PNP0A08", &ok), 0x080ad041);
	assert_int_equal(aml_eisaid_value("PNP0501", &ok), 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0C02", &ok), 0x020cd041);
	aml_eisaid_value("PNP0A0", &ok);
	assert_false(ok);
	aml_eisaid_value("pnp0A03", &ok);
	assert_false(ok);
	aml_eisaid_value("PNP0A0G", &ok);
	assert_false(ok);

	aml_init(&a);
	aml_eisaid(&a, "PNP0A03");
	assert_int_equal(aml_finish(&a), 0);
	assert_memory_equal(a.buf, "\x0c\x41\xd0\x0a\x03", 5);
	aml_free(&a);
}

static void test_strings_and_name(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_name(&a, "_HID");
	aml_string(&a, "ACPI0007");
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, 1 + 4 + 1 + 9);
	assert_memory_equal(a.buf, "\x08_HID\x0d" "ACPI0007\0", a.len);
	aml_free(&a);
}

static void test_package(void **state)
{
	/* Package { 5, Package { 1, "A" }, \_SB } */
	static const uint8_t want[] = {
		0x12, 0x10, 0x03,
		0x0a, 0x05,
		0x12, 0x06, 0x02, 0x01, 0x0d, 'A', 0x00,
		'\\', '_', 'S', 'B', '_',
	};
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_package_begin(&a);
	aml_int(&a, 5);
	aml_package_begin(&a);
	aml_int(&a, 1);
	aml_string(&a, "A");
	aml_end(&a);
	aml_namepath(&a, "\\_SB");
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	aml_free(&a);
}

static void test_package_too_big(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_package_begin(&a);
	for (int i = 0; i < 256; i++)
		aml_int(&a, i);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -E2BIG);
	aml_free(&a);
}

static void test_method(void **state)
{
	/* Method (_STA, 0) { Return (0x0F) } */
	static const uint8_t want[] = {
		0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f,
	};
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_method_begin(&a, "_STA", 0, false);
	aml_return(&a);
	aml_int(&a, 0x0f);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	aml_free(&a);

	aml_init(&a);
	aml_method_begin(&a, "_OSC", 4, true);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.buf[6], 0x0c);	/* 4 args | Serialized */
	aml_free(&a);
}

static void test_device(void **state)
{
	/* Device (COM1) { } */
	static const uint8_t want[] = { 0x5b, 0x82, 0x05, 'C', 'O', 'M', '1' };
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_device_begin(&a, "COM1");
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	aml_free(&a);
}

static void test_resource_template(void **state)
{
	/* ResourceTemplate { IO (Decode16, 0x3F8, 0x3F8, 1, 8) IRQNoFlags {4} } */
	static const uint8_t want[] = {
		0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		0x22, 0x10, 0x00,
		0x79, 0x00,
	};
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_restemplate_begin(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 1 << 4);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	aml_free(&a);
}

static void test_address_descriptors(void **state)
{
	static const uint8_t bus[16] = {
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x00,
	};
	static const uint8_t io[16] = {
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
		0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf0,
	};
	struct aml a;
	const uint8_t *d;

	(void)state;
	aml_init(&a);
	aml_restemplate_begin(&a);
	aml_res_word_bus(&a, 0, 7);
	aml_res_word_io(&a, 0x1000, 0xffff);
	aml_res_dword_memory(&a, AML_MEM_NONCACHEABLE, true, 0xc0000000, 0xdfffffff);
	aml_res_qword_memory(&a, AML_MEM_PREFETCHABLE, true, 0x800000000ULL,
			     0xfffffffffULL);
	aml_res_memory32_fixed(&a, true, 0xe0000000, 0x10000000);
	aml_res_interrupt(&a, AML_IRQ_CONSUMER, 16);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);

	/* Buffer, PkgLength (2 bytes), BufferSize (byte) */
	d = a.buf + 1 + 2 + 2;
	assert_int_equal(a.buf[3], 0x0a);
	assert_int_equal(a.buf[4], 16 + 16 + 26 + 46 + 12 + 9 + 2);
	assert_memory_equal(d, bus, 16);
	d += 16;
	assert_memory_equal(d, io, 16);
	d += 16;
	assert_int_equal(d[0], 0x87);
	assert_int_equal(rd16(d + 1), 23);
	assert_int_equal(d[3], 0);		/* memory */
	assert_int_equal(d[4], 0x0c);		/* producer, MinFixed, MaxFixed */
	assert_int_equal(d[5], 0x01);		/* ReadWrite, NonCacheable */
	assert_int_equal(rd32(d + 10), 0xc0000000);
	assert_int_equal(rd32(d + 14), 0xdfffffff);
	assert_int_equal(rd32(d + 22), 0x20000000);
	d += 26;
	assert_int_equal(d[0], 0x8a);
	assert_int_equal(rd16(d + 1), 43);
	assert_int_equal(d[5], 0x07);		/* ReadWrite, Prefetchable */
	assert_true(rd64(d + 14) == 0x800000000ULL);
	assert_true(rd64(d + 22) == 0xfffffffffULL);
	assert_true(rd64(d + 38) == 0x800000000ULL);
	d += 46;
	assert_memory_equal(d, "\x86\x09\x00\x01\x00\x00\x00\xe0\x00\x00\x00\x10", 12);
	d += 12;
	assert_memory_equal(d, "\x89\x06\x00\x01\x01\x10\x00\x00\x00", 9);
	d += 9;
	assert_memory_equal(d, "\x79\x00", 2);
	assert_int_equal(d + 2 - a.buf, a.len);
	aml_free(&a);
}

static void test_uuid(void **state)
{
	static const uint8_t want[] = {
		0x11, 0x13, 0x0a, 0x10,
		0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
		0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66,
	};
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD766");
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	aml_free(&a);

	aml_init(&a);
	aml_uuid(&a, "33DB4D5B-1FF7-401C-9657_7441C03DD766");
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

static void test_builder_errors(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_scope_begin(&a, "_SB");
	assert_int_equal(aml_finish(&a), -EINVAL);	/* unclosed */
	aml_free(&a);

	aml_init(&a);
	aml_res_io(&a, 0x60, 0x60, 1, 1);		/* outside a template */
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_restemplate_begin(&a);
	aml_res_word_io(&a, 0x2000, 0x1000);		/* max < min */
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope_begin(&a, "_SB");
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

/* ---- the tables ---- */

static unsigned int test_gsi(unsigned int slot, unsigned int pin)
{
	return X86_PCI_GSI_BASE + (slot + pin - 1) % X86_PCI_GSI_COUNT;
}

static void platform_init(struct acpi_platform *p, unsigned int ncpus)
{
	memset(p, 0, sizeof(*p));
	p->ncpus = ncpus;
	p->ecam_base = X86_ECAM_BASE;
	p->bus_last = 0xff;
	p->io.base = 0;
	p->io.size = 0x10000;
	p->mem32.base = X86_MMIO32_BASE;
	p->mem32.size = X86_MMIO32_SIZE;
	p->mem64.base = 0x800000000ULL;
	p->mem64.size = 0x7800000000ULL;
	p->prt_gsi = test_gsi;
	p->uarts[0].port = 0x3f8;
	p->uarts[0].irq = 4;
	p->uarts[1].port = 0x2f8;
	p->uarts[1].irq = 3;
	p->nr_uarts = 2;
	p->i8042 = true;
	p->rtc = true;
}

#define AREA_BASE	0xe0000ULL
#define AREA_SIZE	0x20000

static uint8_t area[AREA_SIZE];

static const struct acpi_table_loc *find_table(const struct acpi_layout *l,
					       const char *sig)
{
	for (unsigned int i = 0; i < l->nr_tables; i++)
		if (!strcmp(l->tables[i].sig, sig))
			return &l->tables[i];
	fail_msg("no table %s", sig);
	return NULL;
}

static const uint8_t *table_at(const struct acpi_layout *l, uint64_t addr,
			       const char *sig)
{
	const struct acpi_table_loc *t = find_table(l, sig);

	assert_true(addr == t->addr);
	return area + t->offset;
}

static void build(const struct acpi_platform *p, struct acpi_layout *l)
{
	char err[256] = "";
	int ret;

	memset(area, 0xa5, sizeof(area));
	ret = acpi_build(p, AREA_BASE, area, sizeof(area), l, err, sizeof(err));
	if (ret)
		fail_msg("acpi_build: %d: %s", ret, err);
}

static void check_sdt(const struct acpi_layout *l, const char *sig, uint8_t rev)
{
	const struct acpi_table_loc *t = find_table(l, sig);
	const uint8_t *b = area + t->offset;

	assert_memory_equal(b, sig, 4);
	assert_int_equal(rd32(b + 4), t->len);
	assert_int_equal(b[8], rev);
	assert_int_equal(sum8(b, t->len), 0);
	assert_memory_equal(b + 10, "VMM   ", 6);
	assert_int_equal(t->offset % 8, 0);
	assert_true(t->addr == AREA_BASE + t->offset);
	assert_true(t->offset + t->len <= l->size);
}

static void check_tables(unsigned int ncpus)
{
	struct acpi_platform p;
	struct acpi_layout l;
	const uint8_t *rsdp, *xsdt, *fadt, *facs, *madt, *mcfg, *e, *end;
	unsigned int n[5] = { 0 };

	platform_init(&p, ncpus);
	build(&p, &l);
	assert_int_equal(l.nr_tables, 7);
	assert_true(l.rsdp_addr == AREA_BASE);
	check_sdt(&l, "XSDT", 1);
	check_sdt(&l, "FACP", 6);
	check_sdt(&l, "APIC", 5);
	check_sdt(&l, "MCFG", 1);
	check_sdt(&l, "DSDT", 2);

	/* RSDP: both checksums, revision 2, the XSDT */
	rsdp = table_at(&l, l.rsdp_addr, "RSDP");
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum8(rsdp, 20), 0);
	assert_int_equal(sum8(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(rd32(rsdp + 20), 36);
	xsdt = table_at(&l, rd64(rsdp + 24), "XSDT");

	/* XSDT: FADT, MADT, MCFG */
	assert_int_equal(rd32(xsdt + 4), 36 + 3 * 8);
	fadt = table_at(&l, rd64(xsdt + 36), "FACP");
	madt = table_at(&l, rd64(xsdt + 44), "APIC");
	mcfg = table_at(&l, rd64(xsdt + 52), "MCFG");

	/* FADT */
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[131], 3);				/* minor version */
	facs = table_at(&l, rd32(fadt + 36), "FACS");
	assert_int_equal(rd32(fadt + 36) % 64, 0);
	table_at(&l, rd32(fadt + 40), "DSDT");
	table_at(&l, rd64(fadt + 140), "DSDT");
	assert_int_equal(rd16(fadt + 46), 9);			/* SCI_INT */
	assert_int_equal(rd32(fadt + 48), 0);			/* SMI_CMD */
	assert_int_equal(rd32(fadt + 56), ACPI_PM1A_EVT_BLK);
	assert_int_equal(rd32(fadt + 64), ACPI_PM1A_CNT_BLK);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[108], 0x32);			/* CENTURY */
	assert_int_equal(rd16(fadt + 109) & 3, 3);		/* LEGACY, 8042 */
	assert_int_equal(rd32(fadt + 112) & (1u << 20), 0);	/* not HW-reduced */
	assert_int_equal(fadt[148], 1);				/* X_PM1a_EVT: I/O */
	assert_int_equal(fadt[149], 32);
	assert_true(rd64(fadt + 152) == ACPI_PM1A_EVT_BLK);
	assert_int_equal(fadt[172], 1);
	assert_int_equal(fadt[173], 16);
	assert_true(rd64(fadt + 176) == ACPI_PM1A_CNT_BLK);

	/* FACS */
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd32(facs + 4), 64);

	/* MADT: ncpus LAPICs, one IOAPIC, 2 overrides, one NMI */
	assert_int_equal(rd32(madt + 36), X86_LAPIC_BASE);
	assert_int_equal(rd32(madt + 40), 1);			/* PCAT_COMPAT */
	end = madt + rd32(madt + 4);
	for (e = madt + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], n[0]);		/* UID */
			assert_int_equal(e[3], n[0]);		/* APIC ID */
			assert_int_equal(rd32(e + 4), 1);
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ncpus);
			assert_int_equal(rd32(e + 4), X86_IOAPIC_BASE);
			assert_int_equal(rd32(e + 8), 0);
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(rd32(e + 4), 2);
				assert_int_equal(rd16(e + 8), 0x5);
			} else {
				assert_int_equal(e[3], 9);
				assert_int_equal(rd32(e + 4), 9);
				assert_int_equal(rd16(e + 8), 0xd);
			}
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);		/* LINT1 */
			break;
		default:
			fail_msg("MADT entry type %u", e[0]);
		}
		n[e[0] == 4 ? 3 : e[0]]++;
	}
	assert_true(e == end);
	assert_int_equal(n[0], ncpus);
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], 2);
	assert_int_equal(n[3], 1);
	assert_int_equal(rd32(madt + 4), 44 + 8 * ncpus + 12 + 2 * 10 + 6);

	/* MCFG: one allocation */
	assert_int_equal(rd32(mcfg + 4), 44 + 16);
	assert_true(rd64(mcfg + 44) == X86_ECAM_BASE);
	assert_int_equal(rd16(mcfg + 52), 0);
	assert_int_equal(mcfg[54], 0);
	assert_int_equal(mcfg[55], 0xff);
}

static void test_tables(void **state)
{
	(void)state;
	check_tables(1);
	check_tables(4);
	check_tables(ACPI_MAX_CPUS);
}

static void expect_build_error(const struct acpi_platform *p, uint64_t base,
			       size_t len, int want, const char *msg)
{
	struct acpi_layout l;
	char err[256] = "";

	assert_int_equal(acpi_build(p, base, area, len, &l, err, sizeof(err)), want);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" lacks \"%s\"", err, msg);
}

static void test_build_errors(void **state)
{
	struct acpi_platform p;

	(void)state;
	platform_init(&p, 0);
	expect_build_error(&p, AREA_BASE, AREA_SIZE, -EINVAL, "0 vCPUs");
	platform_init(&p, ACPI_MAX_CPUS + 1);
	expect_build_error(&p, AREA_BASE, AREA_SIZE, -EINVAL, "255 vCPUs");
	platform_init(&p, 2);
	expect_build_error(&p, AREA_BASE + 16, AREA_SIZE, -EINVAL, "64-byte");
	expect_build_error(&p, AREA_BASE, 256, -ENOSPC, "area has 256");
	expect_build_error(&p, SZ_4G - 256, AREA_SIZE, -EINVAL, "below 4 GiB");
	p.uarts[1].irq = 16;
	expect_build_error(&p, AREA_BASE, AREA_SIZE, -EINVAL, "COM2");
	platform_init(&p, 2);
	p.io.base = 0x1000;
	p.io.size = 0x10000;
	expect_build_error(&p, AREA_BASE, AREA_SIZE, -EINVAL, "I/O window");
	platform_init(&p, 2);
	p.ecam_base = 0xe0080000;
	expect_build_error(&p, AREA_BASE, AREA_SIZE, -EINVAL, "ECAM");
}

/* ---- iasl ---- */

static char tmpdir[64];

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *dir, const char *name)
{
	char path[256];
	char *s;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, n, f), n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Run a command in dir; its exit status, and stdout+stderr in *out. */
static int run_in(const char *dir, const char *cmd, char **out)
{
	char line[512], sh[512];
	size_t len = 0;
	char *s = calloc(1, 1);
	FILE *f;
	int st;

	snprintf(sh, sizeof(sh), "cd '%s' && %s 2>&1", dir, cmd);
	f = popen(sh, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		s = realloc(s, len + n + 1);
		assert_non_null(s);
		memcpy(s + len, line, n + 1);
		len += n;
	}
	st = pclose(f);
	*out = s;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_tool(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096], file[4200];

	if (!path)
		return false;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
		snprintf(file, sizeof(file), "%s/%s", dir, tool);
		if (!access(file, X_OK))
			return true;
	}
	return false;
}

static void require_iasl(void)
{
	if (!have_tool("iasl"))
		fail_msg("iasl not found in PATH: install acpica-tools "
			 "(apt-get install acpica-tools, or tools/install-deps)");
}

/* A word that iasl prints only when something is wrong. */
static void assert_clean(const char *what, const char *text)
{
	static const char *const bad[] = {
		"Error", "Warning", "Invalid", "Incorrect", "Unknown", "mismatch",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strcasestr(text, bad[i]))
			fail_msg("%s says \"%s\":\n%s", what, bad[i], text);
	}
}

static int setup_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_acpi.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
	struct dirent *de;
	char path[512];
	bool again = true;

	(void)state;
	/* Unlinking while reading a directory may skip entries: repeat. */
	while (again) {
		DIR *d = opendir(tmpdir);

		if (!d)
			return 0;
		again = false;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
			if (!unlink(path))
				again = true;
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static bool file_equal_masked(const char *name, const uint8_t *want, size_t n,
			      bool header)
{
	char path[256];
	uint8_t *got;
	long len;
	FILE *f;
	bool same = true;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	got = malloc(len ? len : 1);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, len, f), len);
	fclose(f);
	if ((size_t)len != n)
		fail_msg("%s: %ld bytes, ours %zu", name, len, n);
	for (size_t i = 0; i < n; i++) {
		/* iasl writes its own checksum and compiler id/revision. */
		if (header && (i == 9 || (i >= 28 && i < 36)))
			continue;
		if (got[i] != want[i]) {
			print_error("%s: byte %zu is 0x%02x, ours 0x%02x\n", name, i,
				    got[i], want[i]);
			same = false;
		}
	}
	free(got);
	return same;
}

/*
 * iasl cannot load a bare RSDP ("Loading an RSDP is not supported", its
 * acfileio.c): compile the RSDP from its fields with iasl's data table
 * compiler, which computes both checksums, and compare the bytes.
 */
static void check_rsdp_with_iasl(const char *tag, const uint8_t *rsdp)
{
	char src[1024], asl[64], aml[64], cmd[128], *out;
	int st;

	snprintf(src, sizeof(src),
		 "[0008] Signature : \"RSD PTR \"\n"
		 "[0001] Checksum : 00\n"
		 "[0006] Oem ID : \"%.6s\"\n"
		 "[0001] Revision : %02X\n"
		 "[0004] RSDT Address : %08X\n"
		 "[0004] Length : %08X\n"
		 "[0008] XSDT Address : %016llX\n"
		 "[0001] Extended Checksum : 00\n"
		 "[0003] Reserved : 000000\n",
		 (const char *)rsdp + 9, rsdp[15], rd32(rsdp + 16), rd32(rsdp + 20),
		 (unsigned long long)rd64(rsdp + 24));
	snprintf(asl, sizeof(asl), "%s-RSDP.asl", tag);
	snprintf(aml, sizeof(aml), "%s-RSDP.aml", tag);
	write_file(tmpdir, asl, src, strlen(src));
	snprintf(cmd, sizeof(cmd), "iasl %s", asl);
	st = run_in(tmpdir, cmd, &out);
	if (st || !strstr(out, "0 Errors, 0 Warnings, 0 Remarks"))
		fail_msg("%s exited %d:\n%s", cmd, st, out);
	free(out);
	if (!file_equal_masked(aml, rsdp, 36, false))
		fail_msg("iasl compiles our RSDP's fields to other bytes");
}

/*
 * iasl -d each table: exit 0, nothing wrong said; then compile the
 * disassembly back (iasl -p) without an error, warning or remark and get
 * the same bytes, so every field was read as we meant it.
 */
static void disassemble_all(const struct acpi_platform *p, const char *tag,
			    char **dsdt_dsl)
{
	struct acpi_layout l;

	require_iasl();
	build(p, &l);
	for (unsigned int i = 0; i < l.nr_tables; i++) {
		const struct acpi_table_loc *t = &l.tables[i];
		const uint8_t *b = area + t->offset;
		char dat[64], dsl[64], re[64], cmd[160], *out, *text;
		int st;

		if (!strcmp(t->sig, "RSDP")) {
			check_rsdp_with_iasl(tag, b);
			continue;
		}
		snprintf(dat, sizeof(dat), "%s-%s.dat", tag, t->sig);
		snprintf(dsl, sizeof(dsl), "%s-%s.dsl", tag, t->sig);
		write_file(tmpdir, dat, b, t->len);
		snprintf(cmd, sizeof(cmd), "iasl -d %s", dat);
		st = run_in(tmpdir, cmd, &out);
		if (st)
			fail_msg("%s exited %d:\n%s", cmd, st, out);
		assert_clean(cmd, out);
		free(out);
		text = read_file(tmpdir, dsl);
		assert_clean(dsl, text);
		if (!strcmp(t->sig, "DSDT"))
			*dsdt_dsl = text;
		else
			free(text);

		snprintf(re, sizeof(re), "%s-re-%s", tag, t->sig);
		snprintf(cmd, sizeof(cmd), "iasl -p %s %s", re, dsl);
		st = run_in(tmpdir, cmd, &out);
		if (st || !strstr(out, "0 Errors, 0 Warnings, 0 Remarks"))
			fail_msg("%s exited %d:\n%s", cmd, st, out);
		free(out);
		strcat(re, ".aml");
		if (!file_equal_masked(re, b, t->len, strcmp(t->sig, "FACS")))
			fail_msg("%s: the recompiled %s differs from ours", tag, t->sig);
	}
}

/* The text without blanks, so that a match does not hang on iasl's layout. */
static char *squash(const char *text)
{
	char *s = malloc(strlen(text) + 1), *d = s;

	assert_non_null(s);
	for (; *text; text++)
		if (*text != ' ' && *text != '\n' && *text != '\t')
			*d++ = *text;
	*d = 0;
	return s;
}

static void assert_has(const char *text, const char *s)
{
	char *t = squash(text), *want = squash(s);

	if (!strstr(t, want))
		fail_msg("the disassembled DSDT lacks \"%s\":\n%s", s, text);
	free(t);
	free(want);
}

static void assert_lacks(const char *text, const char *s)
{
	char *t = squash(text), *want = squash(s);

	if (strstr(t, want))
		fail_msg("the disassembled DSDT has \"%s\":\n%s", s, text);
	free(t);
	free(want);
}

static void test_iasl_full(void **state)
{
	static const char *const pins[] = { "Zero", "One", "0x02", "0x03" };
	struct acpi_platform p;
	char *dsl = NULL, want[128];

	(void)state;
	platform_init(&p, 4);
	disassemble_all(&p, "full", &dsl);
	assert_non_null(dsl);
	assert_has(dsl, "Device (PCI0)");
	assert_has(dsl, "Name (_HID, EisaId (\"PNP0A08\")");
	assert_has(dsl, "Name (_CID, EisaId (\"PNP0A03\")");
	assert_has(dsl, "Name (_SEG, Zero)");
	assert_has(dsl, "Name (_BBN, Zero)");
	assert_has(dsl, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,"
		   "0x0000, // Granularity\n 0x0000, // Range Minimum\n"
		   "0x00FF, // Range Maximum");
	assert_has(dsl, "IO (Decode16, 0x0CF8, // Range Minimum\n"
		   "0x0CF8, // Range Maximum\n 0x01, // Alignment\n 0x08, // Length");
	assert_has(dsl, "0x0000, // Range Minimum\n 0x0CF7, // Range Maximum");
	assert_has(dsl, "0x0D00, // Range Minimum\n 0xFFFF, // Range Maximum");
	assert_has(dsl, "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, "
		   "NonCacheable, ReadWrite, 0x00000000, // Granularity\n"
		   "0xC0000000, // Range Minimum\n 0xDFFFFFFF, // Range Maximum");
	assert_has(dsl, "QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, "
		   "Prefetchable, ReadWrite, 0x0000000000000000, // Granularity\n"
		   "0x0000000800000000, // Range Minimum\n"
		   "0x0000007FFFFFFFFF, // Range Maximum");
	assert_has(dsl, "Name (_PRT, Package (0x80)");
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			char addr[16];

			/* iasl prints the smallest hex width: 0xFFFF, 0x0001FFFF */
			if (slot)
				snprintf(addr, sizeof(addr), "0x%04XFFFF", slot);
			else
				snprintf(addr, sizeof(addr), "0xFFFF");
			snprintf(want, sizeof(want), "Package (0x04) { %s, %s, Zero, 0x%02X }",
				 addr, pins[pin], test_gsi(slot, pin + 1));
			assert_has(dsl, want);
		}
	}
	assert_has(dsl, "Method (_OSC, 4, NotSerialized)");
	assert_has(dsl, "ToUUID (\"33db4d5b-1ff7-401c-9657-7441c03dd766\")");
	assert_has(dsl, "Device (MRES) { Name (_HID, EisaId (\"PNP0C02\")");
	assert_has(dsl, "Memory32Fixed (ReadWrite, 0xE0000000, // Address Base\n"
		   "0x10000000, // Address Length");
	assert_has(dsl, "Device (COM1) { Name (_HID, EisaId (\"PNP0501\")");
	assert_has(dsl, "Name (_UID, One)");
	assert_has(dsl, "0x03F8, // Range Minimum\n 0x03F8, // Range Maximum");
	assert_has(dsl, "IRQNoFlags () {4}");
	assert_has(dsl, "Device (COM2)");
	assert_has(dsl, "0x02F8, // Range Minimum");
	assert_has(dsl, "IRQNoFlags () {3}");
	assert_lacks(dsl, "Device (COM3)");
	assert_has(dsl, "Device (PS2K) { Name (_HID, EisaId (\"PNP0303\")");
	assert_has(dsl, "IRQNoFlags () {1}");
	assert_lacks(dsl, "Device (PS2M)");
	assert_lacks(dsl, "IRQNoFlags () {12}");
	assert_has(dsl, "Device (RTC) { Name (_HID, EisaId (\"PNP0B00\")");
	assert_has(dsl, "IRQNoFlags () {8}");
	assert_has(dsl, "Device (C000) { Name (_HID, \"ACPI0007\"");
	assert_has(dsl, "Device (C003) { Name (_HID, \"ACPI0007\" /* Processor Device */)"
		   " // _HID: Hardware ID\n Name (_UID, 0x03)");
	assert_lacks(dsl, "Device (C004)");
	assert_has(dsl, "Name (_S5, Package (0x04) // _S5_: S5 System State\n"
		   "{ 0x05, 0x05, Zero, Zero })");
	free(dsl);
}

/* Fewest devices: one vCPU, no UART, i8042, RTC, 64-bit window or _PRT. */
static void test_iasl_minimal(void **state)
{
	struct acpi_platform p;
	char *dsl = NULL;

	(void)state;
	platform_init(&p, 1);
	p.nr_uarts = 0;
	p.i8042 = false;
	p.rtc = false;
	p.mem64.size = 0;
	p.prt_gsi = NULL;
	p.bus_last = 0;
	p.io.base = X86_PCI_IO_BASE;
	p.io.size = X86_PCI_IO_END - X86_PCI_IO_BASE;
	disassemble_all(&p, "min", &dsl);
	assert_has(dsl, "Device (PCI0)");
	assert_has(dsl, "0x1000,             // Range Minimum");
	assert_lacks(dsl, "_PRT");
	assert_lacks(dsl, "QWordMemory");
	assert_lacks(dsl, "Device (COM1)");
	assert_lacks(dsl, "PNP0303");
	assert_has(dsl, "0x00100000,         // Address Length");
	free(dsl);
}

/*
 * Run the DSDT's methods in ACPICA's own interpreter (acpiexec, also from
 * acpica-tools): _OSC grants what the OS asks for the PCI host bridge UUID
 * and flags any other UUID; \_S5 gives SLP_TYP 5; COM1 is present.
 */
static void test_acpiexec(void **state)
{
	static const char cmd[] =
		"acpiexec -b '"
		"Evaluate \\_SB.PCI0._OSC (5b 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66) "
		"1 3 (01 00 00 00 1f 00 00 00 1d 00 00 00);"
		"Evaluate \\_SB.PCI0._OSC (00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff) "
		"1 3 (00 00 00 00 1f 00 00 00 1d 00 00 00);"
		"Evaluate \\_S5;"
		"Evaluate \\_SB.COM1._STA' exec-DSDT.dat";
	struct acpi_platform p;
	struct acpi_layout l;
	const struct acpi_table_loc *t;
	char *out;
	int st;

	(void)state;
	if (!have_tool("acpiexec"))
		fail_msg("acpiexec not found in PATH: install acpica-tools "
			 "(apt-get install acpica-tools, or tools/install-deps)");
	platform_init(&p, 2);
	build(&p, &l);
	t = find_table(&l, "DSDT");
	write_file(tmpdir, "exec-DSDT.dat", area + t->offset, t->len);
	st = run_in(tmpdir, cmd, &out);
	if (st)
		fail_msg("acpiexec exited %d:\n%s", st, out);
	if (strstr(out, "ACPI Error") || strstr(out, "ACPI Warning"))
		fail_msg("acpiexec complains:\n%s", out);
	if (!strstr(out, "0000: 01 00 00 00 1F 00 00 00 1D 00 00 00") ||
	    !strstr(out, "0000: 04 00 00 00 1F 00 00 00 1D 00 00 00") ||
	    !strstr(out, "[Integer] = 0000000000000005") ||
	    !strstr(out, "[Integer] = 000000000000000F"))
		fail_msg("acpiexec's answers are not the expected ones:\n%s", out);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_encode),
		cmocka_unit_test(test_pkglen_frames),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_strings_and_name),
		cmocka_unit_test(test_package),
		cmocka_unit_test(test_package_too_big),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_resource_template),
		cmocka_unit_test(test_address_descriptors),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_iasl_full),
		cmocka_unit_test(test_iasl_minimal),
		cmocka_unit_test(test_acpiexec),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
