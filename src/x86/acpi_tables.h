/*
 * Byte layouts of the fixed ACPI tables (ACPI 6.3, chapter 5.2), packed and
 * little-endian as the guest reads them.
 */
#ifndef VMM_X86_ACPI_TABLES_H
#define VMM_X86_ACPI_TABLES_H

#include <assert.h>
#include <stdint.h>

struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;		/* 2: ACPI 2.0+ */
	uint32_t rsdt_addr;		/* 0: no RSDT, use the XSDT */
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;		/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
static_assert(sizeof(struct acpi_header) == 36, "SDT header");

/* Generic Address Structure */
struct acpi_gas {
	uint8_t space_id;		/* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;		/* 0 undefined, 1 byte, 2 word, ... */
	uint64_t address;
} __attribute__((packed));
static_assert(sizeof(struct acpi_gas) == 12, "GAS");

#define ACPI_GAS_SYSTEM_IO	1

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;		/* FACS */
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.x");
static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT");
static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT");

#define ACPI_FADT_WBINVD	(1u << 0)
#define ACPI_FADT_C1_SUPPORTED	(1u << 2)
#define ACPI_FADT_POWER_BUTTON	(1u << 4)	/* set: no fixed-feature button */
#define ACPI_FADT_SLEEP_BUTTON	(1u << 5)

#define ACPI_BOOT_LEGACY_DEVICES	(1u << 0)
#define ACPI_BOOT_8042		(1u << 1)
#define ACPI_BOOT_NO_VGA	(1u << 2)
#define ACPI_BOOT_NO_CMOS_RTC	(1u << 5)

struct acpi_facs {
	char signature[4];		/* "FACS" */
	uint32_t length;		/* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;		/* 2 */
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));
static_assert(sizeof(struct acpi_facs) == 64, "FACS");

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));
static_assert(sizeof(struct acpi_madt) == 44, "MADT");

#define ACPI_MADT_PCAT_COMPAT	1u

enum {
	ACPI_MADT_LAPIC		= 0,
	ACPI_MADT_IOAPIC	= 1,
	ACPI_MADT_ISO		= 2,
	ACPI_MADT_LAPIC_NMI	= 4,
};

struct acpi_madt_lapic {
	uint8_t type, length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;			/* bit 0 enabled */
} __attribute__((packed));
static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC");

struct acpi_madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));
static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC");

struct acpi_madt_iso {
	uint8_t type, length;
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI flags */
} __attribute__((packed));
static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO");

struct acpi_madt_lapic_nmi {
	uint8_t type, length;
	uint8_t uid;			/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));
static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI");

/* MPS INTI flags: polarity bits 1-0, trigger mode bits 3-2. */
#define ACPI_INTI_ACTIVE_HIGH	0x1
#define ACPI_INTI_ACTIVE_LOW	0x3
#define ACPI_INTI_EDGE		(0x1 << 2)
#define ACPI_INTI_LEVEL		(0x3 << 2)

struct acpi_mcfg {
	struct acpi_header h;
	uint64_t reserved;
} __attribute__((packed));
static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG");

struct acpi_mcfg_alloc {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
	uint32_t reserved;
} __attribute__((packed));
static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation");

#endif
