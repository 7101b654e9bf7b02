/*
 * The DSDT's namespace: the PCI host bridge with its windows and _PRT, the
 * ECAM reservation, the ISA devices, the processors and \_S5.
 */
#include <errno.h>
#include <stdio.h>

#include "x86/acpi.h"
#include "x86/aml.h"

#define PCI_SLOTS		32
#define PCI_CFG_PORT		0xcf8
#define PCI_CFG_PORT_END	0xcff

/* _OSC UUID of PCI host bridges (PCI Firmware Specification 3.2, 4.5). */
#define PCI_OSC_UUID		"33db4d5b-1ff7-401c-9657-7441c03dd766"
#define OSC_UNRECOGNIZED_UUID	0x04

/* Device (name) { Name (_HID, EisaId (hid)) Name (_UID, uid) ... */
static void device_begin(struct aml *a, const char *name, const char *hid,
			 uint64_t uid)
{
	aml_device_begin(a, name);
	aml_name(a, "_HID");
	aml_eisaid(a, hid);
	aml_name(a, "_UID");
	aml_int(a, uid);
}

/* Method (_STA) { Return (0x0F) }: present, enabled, shown, functioning. */
static void sta_present(struct aml *a)
{
	aml_method_begin(a, "_STA", 0, false);
	aml_return(a);
	aml_int(a, 0x0f);
	aml_end(a);
}

static void pci0_crs_io(struct aml *a, const struct acpi_window *io)
{
	uint64_t lo = io->base, hi = io->base + io->size - 1;

	if (!io->size)
		return;
	if (lo > PCI_CFG_PORT_END || hi < PCI_CFG_PORT) {
		aml_res_word_io(a, lo, hi);
		return;
	}
	/* Leave out the config ports, as a PC's host bridge does. */
	if (lo < PCI_CFG_PORT)
		aml_res_word_io(a, lo, PCI_CFG_PORT - 1);
	if (hi > PCI_CFG_PORT_END)
		aml_res_word_io(a, PCI_CFG_PORT_END + 1, hi);
}

static void pci0_crs(struct aml *a, const struct acpi_platform *p)
{
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_word_bus(a, 0, p->bus_last);
	aml_res_io(a, PCI_CFG_PORT, PCI_CFG_PORT, 1, 8);
	pci0_crs_io(a, &p->io);
	if (p->mem32.size)
		aml_res_dword_memory(a, AML_MEM_NONCACHEABLE, true, p->mem32.base,
				     p->mem32.base + p->mem32.size - 1);
	if (p->mem64.size)
		aml_res_qword_memory(a, AML_MEM_PREFETCHABLE, true, p->mem64.base,
				     p->mem64.base + p->mem64.size - 1);
	aml_end(a);
}

/* Package { Package { slot << 16 | 0xFFFF, pin, Zero, GSI }, ... } */
static void pci0_prt(struct aml *a, const struct acpi_platform *p)
{
	aml_name(a, "_PRT");
	aml_package_begin(a);
	for (unsigned int slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			aml_package_begin(a);
			aml_int(a, (uint64_t)slot << 16 | 0xffff);
			aml_int(a, pin);
			aml_int(a, 0);		/* no link device: a GSI */
			aml_int(a, p->prt_gsi(slot, pin + 1));
			aml_end(a);
		}
	}
	aml_end(a);
}

/*
 * Grant the OS every PCIe feature it asks for: the capabilities buffer goes
 * back unchanged, with "unrecognized UUID" set for any other UUID.
 *
 *	Method (_OSC, 4) {
 *		CreateDWordField (Arg3, Zero, CDW1)
 *		If (LNot (LEqual (Arg0, ToUUID (PCI_OSC_UUID)))) {
 *			Or (CDW1, 0x04, CDW1)
 *		}
 *		Return (Arg3)
 *	}
 */
static void pci0_osc(struct aml *a)
{
	aml_method_begin(a, "_OSC", 4, false);
	aml_op(a, AML_CREATE_DWORD_FIELD_OP);
	aml_arg(a, 3);
	aml_int(a, 0);
	aml_namepath(a, "CDW1");

	aml_if_begin(a);
	aml_op(a, AML_LNOT_OP);
	aml_op(a, AML_LEQUAL_OP);
	aml_arg(a, 0);
	aml_uuid(a, PCI_OSC_UUID);
	aml_op(a, AML_OR_OP);
	aml_namepath(a, "CDW1");
	aml_int(a, OSC_UNRECOGNIZED_UUID);
	aml_namepath(a, "CDW1");
	aml_end(a);

	aml_return(a);
	aml_arg(a, 3);
	aml_end(a);
}

/* No _ADR: a device has a _HID or an _ADR, not both (iasl warns). */
static void dsdt_pci0(struct aml *a, const struct acpi_platform *p)
{
	device_begin(a, "PCI0", "PNP0A08", 0);
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	pci0_crs(a, p);
	if (p->prt_gsi)
		pci0_prt(a, p);
	pci0_osc(a);
	aml_end(a);
}

/*
 * Motherboard resources: Linux trusts the MCFG area only if firmware
 * reserves it, in E820 or here.
 */
static void dsdt_mres(struct aml *a, const struct acpi_platform *p)
{
	device_begin(a, "MRES", "PNP0C02", 0);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_memory32_fixed(a, true, p->ecam_base, (p->bus_last + 1u) << 20);
	aml_end(a);
	aml_end(a);
}

static void dsdt_uarts(struct aml *a, const struct acpi_platform *p)
{
	for (unsigned int i = 0; i < p->nr_uarts; i++) {
		char name[16];

		snprintf(name, sizeof(name), "COM%u", i + 1);
		device_begin(a, name, "PNP0501", i + 1);
		sta_present(a);
		aml_name(a, "_CRS");
		aml_restemplate_begin(a);
		aml_res_io(a, p->uarts[i].port, p->uarts[i].port, 1, 8);
		aml_res_irq_noflags(a, 1u << p->uarts[i].irq);
		aml_end(a);
		aml_end(a);
	}
}

static void dsdt_i8042(struct aml *a)
{
	device_begin(a, "PS2K", "PNP0303", 0);
	sta_present(a);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_io(a, 0x60, 0x60, 1, 1);
	aml_res_io(a, 0x64, 0x64, 1, 1);
	aml_res_irq_noflags(a, 1u << 1);
	aml_end(a);
	aml_end(a);
	/* No PS2M: the controller has no mouse behind it. */
}

static void dsdt_rtc(struct aml *a)
{
	device_begin(a, "RTC", "PNP0B00", 0);
	sta_present(a);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_io(a, 0x70, 0x70, 1, 2);
	aml_res_irq_noflags(a, 1u << 8);
	aml_end(a);
	aml_end(a);
}

/* Processor devices; _UID matches the MADT's ACPI processor UID. */
static void dsdt_cpus(struct aml *a, const struct acpi_platform *p)
{
	for (unsigned int i = 0; i < p->ncpus; i++) {
		char name[16];

		snprintf(name, sizeof(name), "C%03X", i);
		aml_device_begin(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		aml_name(a, "_UID");
		aml_int(a, i);
		aml_end(a);
	}
}

int acpi_dsdt_aml(const struct acpi_platform *p, uint8_t **aml, size_t *len)
{
	struct aml a;
	int ret;

	aml_init(&a);
	aml_scope_begin(&a, "_SB");
	dsdt_pci0(&a, p);
	dsdt_mres(&a, p);
	dsdt_uarts(&a, p);
	if (p->i8042)
		dsdt_i8042(&a);
	if (p->rtc)
		dsdt_rtc(&a);
	dsdt_cpus(&a, p);
	aml_end(&a);

	/*
	 * Power-off: Name (\_S5, Package { SLP_TYPa, SLP_TYPb, 0, 0 }). Names
	 * at the root go without '\', as iasl writes them.
	 */
	aml_name(&a, "_S5");
	aml_package_begin(&a);
	aml_int(&a, ACPI_S5_SLP_TYP);
	aml_int(&a, ACPI_S5_SLP_TYP);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a);

	ret = aml_finish(&a);
	if (ret) {
		aml_free(&a);
		return ret;
	}
	*aml = a.buf;
	*len = a.len;
	return 0;
}
