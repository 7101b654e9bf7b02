/*
 * Host inventory and readiness: every fact read from the fixture tree under
 * tests/fixtures/host, every readiness message, and hostile trees built here.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pci/pci.h>

#include "vfio/host.h"

/* cmocka last: it wants the standard headers first */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define SYS_ROOT	SRCDIR "/tests/fixtures/host/sys"
#define DEV_ROOT	SRCDIR "/tests/fixtures/host/dev"
#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)

static struct host_inventory *inv;
static struct host_device dev;	/* 4 KiB of config: keep it off the stack */

static struct pci_bdf B(const char *s)
{
	struct pci_bdf bdf = { 0 };

	if (pci_bdf_parse(s, &bdf))
		fail_msg("bad BDF %s in the test", s);
	return bdf;
}

static void read_dev(const char *bdf)
{
	struct pci_bdf b = B(bdf);
	int ret = host_device_read(inv, &b, &dev);

	if (ret)
		fail_msg("host_device_read(%s) = %d", bdf, ret);
}

static bool have_pci_ids(void)
{
	return !access("/usr/share/misc/pci.ids", R_OK) ||
	       !access("/usr/share/misc/pci.ids.gz", R_OK);
}

static void assert_bar(unsigned int i, enum host_bar_kind kind, bool pref,
		       uint64_t addr, uint64_t size)
{
	const struct host_bar *b = &dev.bars[i];

	if (b->kind != kind || b->prefetchable != pref || b->addr != addr || b->size != size)
		fail_msg("BAR%u: kind %d pref %d addr %#llx size %#llx; want %d %d %#llx %#llx",
			 i, b->kind, b->prefetchable, (unsigned long long)b->addr,
			 (unsigned long long)b->size, kind, pref,
			 (unsigned long long)addr, (unsigned long long)size);
}

static void assert_no_bar(unsigned int i)
{
	assert_bar(i, HOST_BAR_NONE, false, 0, 0);
}

struct cap_want {
	uint16_t id, offset;
	bool ext;
};

static void assert_caps(const struct cap_want *want, unsigned int n)
{
	unsigned int i;

	assert_int_equal(dev.nr_caps, n);
	for (i = 0; i < n; i++) {
		if (dev.caps[i].id != want[i].id || dev.caps[i].offset != want[i].offset ||
		    dev.caps[i].extended != want[i].ext)
			fail_msg("cap %u: %#x@%#x ext %d; want %#x@%#x ext %d", i,
				 dev.caps[i].id, dev.caps[i].offset, dev.caps[i].extended,
				 want[i].id, want[i].offset, want[i].ext);
	}
}

static void assert_peer(unsigned int i, const char *bdf, const char *driver,
			bool bridge)
{
	char buf[PCI_BDF_STRLEN];

	assert_true(i < dev.nr_peers);
	assert_string_equal(pci_bdf_format(&dev.peers[i].bdf, buf, sizeof(buf)), bdf);
	assert_string_equal(dev.peers[i].driver, driver);
	assert_int_equal(dev.peers[i].is_bridge, bridge);
}


/* ------------------------------------------------------------ inventory */

static void test_open(void **state)
{
	struct host_inventory *live;

	(void)state;
	errno = 0;
	assert_null(host_inventory_open(SRCDIR "/tests/fixtures/host/nonexistent", NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(host_inventory_open(DEV_ROOT, NULL));	/* no bus/pci/devices */
	live = host_inventory_open(NULL, NULL);
	assert_non_null(live);
	host_inventory_close(live);
	host_inventory_close(NULL);
}

static void test_list(void **state)
{
	static const char *const want[] = {
		"0000:00:00.0", "0000:00:01.0", "0000:00:02.0", "0000:01:00.0",
		"0000:01:00.1", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0",
		"0000:05:00.0", "0000:05:00.1", "0000:06:00.0", "0000:07:00.0",
		"0000:08:00.0", "0000:09:00.0", "0000:41:00.0", "0000:42:00.0",
		"0000:43:00.0", "0000:44:00.0",
	};
	struct pci_bdf *list = NULL;
	char buf[PCI_BDF_STRLEN];
	int n, i;

	(void)state;
	n = host_device_list(inv, &list);
	assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
	for (i = 0; i < n; i++)
		assert_string_equal(pci_bdf_format(&list[i], buf, sizeof(buf)), want[i]);
	free(list);
	assert_int_equal(host_device_list(NULL, &list), -EINVAL);
	assert_int_equal(host_device_list(inv, NULL), -EINVAL);
}

static void test_read_missing(void **state)
{
	struct pci_bdf b = B("0000:0a:00.0");

	(void)state;
	assert_int_equal(host_device_read(inv, &b, &dev), -ENOENT);
	b = B("0001:01:00.0");
	assert_int_equal(host_device_read(inv, &b, &dev), -ENOENT);
	assert_int_equal(host_device_read(NULL, &b, &dev), -EINVAL);
	assert_int_equal(host_device_read(inv, NULL, &dev), -EINVAL);
	assert_int_equal(host_device_read(inv, &b, NULL), -EINVAL);
}

static void test_gpu_a10(void **state)
{
	static const struct cap_want caps[] = {
		{ 0x01, 0x60, false }, { 0x05, 0x68, false }, { 0x10, 0x78, false },
		{ 0x09, 0xb4, false }, { 0x11, 0xc8, false },
		{ 0x02, 0x100, true }, { 0x1e, 0x258, true }, { 0x01, 0x420, true },
		{ 0x19, 0x900, true }, { 0x15, 0xbb0, true }, { 0x26, 0xc1c, true },
	};

	(void)state;
	read_dev("0000:01:00.0");
	assert_int_equal(dev.vendor, 0x10de);
	assert_int_equal(dev.device, 0x2236);
	assert_int_equal(dev.subsys_vendor, 0x10de);
	assert_int_equal(dev.subsys_device, 0x1482);
	assert_int_equal(dev.class_code, 0x030200);
	assert_int_equal(dev.revision, 0xa1);
	assert_int_equal(dev.header_type, 0);
	assert_int_equal(dev.intx_pin, 1);
	assert_true(dev.config_complete);
	assert_int_equal(dev.config_len, 4096);
	assert_int_equal(dev.config[0], 0xde);
	assert_int_equal(dev.config[1], 0x10);

	assert_bar(0, HOST_BAR_MEM32, false, 0xfa000000, 16 * MiB);
	assert_bar(1, HOST_BAR_MEM64, true, 0x38000000000, 32 * GiB);
	assert_no_bar(2);		/* upper half of BAR1 */
	assert_bar(3, HOST_BAR_MEM64, true, 0x38800000000, 32 * MiB);
	assert_no_bar(4);
	assert_no_bar(5);
	assert_int_equal(dev.rom_size, 512 * KiB);

	assert_caps(caps, sizeof(caps) / sizeof(caps[0]));
	assert_true(dev.msi.present);
	assert_int_equal(dev.msi.vectors, 1);
	assert_true(dev.msi.is_64bit);
	assert_false(dev.msi.per_vector_mask);
	assert_int_equal(dev.msi.offset, 0x68);
	assert_true(dev.msix.present);
	assert_int_equal(dev.msix.table_size, 6);
	assert_int_equal(dev.msix.table_bar, 0);
	assert_int_equal(dev.msix.table_offset, 0xb90000);
	assert_int_equal(dev.msix.pba_bar, 0);
	assert_int_equal(dev.msix.pba_offset, 0xba0000);
	assert_int_equal(dev.msix.offset, 0xc8);
	assert_true(dev.pcie.present);
	assert_int_equal(dev.pcie.port_type, PCI_EXP_TYPE_ENDPOINT);
	assert_int_equal(dev.pcie.link_speed, 4);	/* 16 GT/s */
	assert_int_equal(dev.pcie.link_width, 16);
	assert_int_equal(dev.pcie.offset, 0x78);

	assert_int_equal(dev.iommu_group, 10);
	assert_int_equal(dev.nr_peers, 1);
	assert_int_equal(dev.nr_peers_total, 1);
	assert_peer(0, "0000:01:00.1", "vfio-pci", false);
	assert_string_equal(dev.driver, "vfio-pci");
	assert_int_equal(dev.numa_node, 0);
	assert_string_equal(dev.reset_method, "flr bus");
	assert_true(dev.vfio_dev_exists);
}

static void test_gpu_audio(void **state)
{
	static const struct cap_want caps[] = {
		{ 0x01, 0x60, false }, { 0x05, 0x68, false }, { 0x10, 0x78, false },
		{ 0x01, 0x100, true },
	};

	(void)state;
	read_dev("0000:01:00.1");
	assert_int_equal(dev.vendor, 0x10de);
	assert_int_equal(dev.device, 0x1aef);
	assert_int_equal(dev.class_code, 0x040300);
	assert_int_equal(dev.intx_pin, 2);
	assert_bar(0, HOST_BAR_MEM32, false, 0xfb080000, 16 * KiB);
	assert_no_bar(1);
	assert_int_equal(dev.rom_size, 0);
	assert_caps(caps, sizeof(caps) / sizeof(caps[0]));
	assert_true(dev.msi.present);
	assert_int_equal(dev.msi.vectors, 1);
	assert_false(dev.msix.present);
	assert_int_equal(dev.iommu_group, 10);
	assert_peer(0, "0000:01:00.0", "vfio-pci", false);
	assert_string_equal(dev.reset_method, "bus");
	assert_true(dev.vfio_dev_exists);
}

static void test_nic_x710(void **state)
{
	static const struct cap_want caps[] = {
		{ 0x01, 0x40, false }, { 0x05, 0x50, false }, { 0x11, 0x70, false },
		{ 0x10, 0xa0, false }, { 0x03, 0xe0, false },
		{ 0x01, 0x100, true }, { 0x03, 0x140, true }, { 0x0e, 0x150, true },
		{ 0x10, 0x160, true }, { 0x17, 0x1a0, true }, { 0x0d, 0x1b0, true },
	};

	(void)state;
	read_dev("0000:02:00.0");
	assert_int_equal(dev.vendor, 0x8086);
	assert_int_equal(dev.device, 0x1572);
	assert_int_equal(dev.subsys_device, 0x0007);
	assert_int_equal(dev.class_code, 0x020000);
	assert_int_equal(dev.revision, 0x02);
	assert_bar(0, HOST_BAR_MEM64, true, 0x38f00000000, 8 * MiB);
	assert_no_bar(1);
	assert_no_bar(2);
	assert_bar(3, HOST_BAR_MEM64, true, 0x38f01000000, 32 * KiB);
	assert_no_bar(4);
	assert_no_bar(5);
	assert_int_equal(dev.rom_size, 512 * KiB);
	assert_caps(caps, sizeof(caps) / sizeof(caps[0]));
	assert_true(dev.msi.per_vector_mask);
	assert_true(dev.msix.present);
	assert_int_equal(dev.msix.table_size, 129);
	assert_int_equal(dev.msix.table_bar, 3);
	assert_int_equal(dev.msix.table_offset, 0);
	assert_int_equal(dev.msix.pba_bar, 3);
	assert_int_equal(dev.msix.pba_offset, 0x1000);
	assert_int_equal(dev.pcie.link_speed, 3);
	assert_int_equal(dev.pcie.link_width, 8);
	assert_int_equal(dev.iommu_group, 11);
	assert_int_equal(dev.nr_peers, 0);
	assert_string_equal(dev.driver, "vfio-pci");
	assert_string_equal(dev.reset_method, "flr bus");
	assert_true(dev.vfio_dev_exists);
}

static void test_nvme(void **state)
{
	(void)state;
	read_dev("0000:03:00.0");
	assert_int_equal(dev.vendor, 0x144d);
	assert_int_equal(dev.device, 0xa808);
	assert_int_equal(dev.class_code, 0x010802);
	assert_bar(0, HOST_BAR_MEM64, false, 0xf9e00000, 16 * KiB);
	assert_no_bar(1);
	assert_no_bar(2);
	assert_int_equal(dev.rom_size, 0);
	assert_true(dev.msi.present);
	assert_int_equal(dev.msi.vectors, 32);
	assert_true(dev.msi.is_64bit);
	assert_true(dev.msix.present);
	assert_int_equal(dev.msix.table_size, 33);
	assert_int_equal(dev.msix.table_bar, 0);
	assert_int_equal(dev.msix.table_offset, 0x3000);
	assert_int_equal(dev.msix.pba_bar, 0);
	assert_int_equal(dev.msix.pba_offset, 0x2000);
	assert_int_equal(dev.pcie.link_width, 4);
	assert_int_equal(dev.nr_caps, 10);
	assert_int_equal(dev.iommu_group, 12);
	assert_string_equal(dev.reset_method, "flr");
	assert_true(dev.vfio_dev_exists);
}

static void test_intx_only(void **state)
{
	static const struct cap_want caps[] = { { 0x01, 0x50, false } };

	(void)state;
	read_dev("0000:04:00.0");
	assert_int_equal(dev.vendor, 0x10ec);
	assert_int_equal(dev.device, 0x8139);
	assert_int_equal(dev.revision, 0x10);
	assert_int_equal(dev.intx_pin, 1);
	assert_int_equal(dev.config_len, 256);
	assert_true(dev.config_complete);
	assert_bar(0, HOST_BAR_IO, false, 0xc000, 256);
	assert_bar(1, HOST_BAR_MEM32, false, 0xf9d00000, 256);
	assert_no_bar(2);
	assert_caps(caps, 1);
	assert_false(dev.msi.present);
	assert_false(dev.msix.present);
	assert_false(dev.pcie.present);
	assert_int_equal(dev.iommu_group, 13);
	assert_string_equal(dev.reset_method, "");
	assert_true(dev.vfio_dev_exists);
}

static void test_i350_group(void **state)
{
	(void)state;
	read_dev("0000:05:00.0");
	assert_bar(0, HOST_BAR_MEM32, false, 0xf9800000, 1 * MiB);
	assert_no_bar(1);
	assert_bar(2, HOST_BAR_IO, false, 0xb000, 32);
	assert_bar(3, HOST_BAR_MEM32, false, 0xf9c00000, 16 * KiB);
	assert_int_equal(dev.msix.table_size, 10);
	assert_int_equal(dev.msix.table_bar, 3);
	assert_int_equal(dev.iommu_group, 14);
	assert_int_equal(dev.nr_peers, 1);
	assert_peer(0, "0000:05:00.1", "igb", false);
	assert_string_equal(dev.driver, "vfio-pci");
	assert_true(dev.vfio_dev_exists);

	read_dev("0000:05:00.1");
	assert_int_equal(dev.intx_pin, 2);
	assert_bar(0, HOST_BAR_MEM32, false, 0xf9900000, 1 * MiB);
	assert_peer(0, "0000:05:00.0", "vfio-pci", false);
	assert_string_equal(dev.driver, "igb");
}

static void test_host_gpu(void **state)
{
	(void)state;
	read_dev("0000:06:00.0");
	assert_int_equal(dev.device, 0x1c82);
	assert_int_equal(dev.class_code, 0x030000);
	assert_bar(1, HOST_BAR_MEM64, true, 0x38a00000000, 256 * MiB);
	assert_bar(5, HOST_BAR_IO, false, 0xa000, 128);
	assert_string_equal(dev.driver, "nouveau");
	assert_int_equal(dev.iommu_group, 15);
	assert_false(dev.vfio_dev_exists);	/* not bound to vfio-pci: no node */
}

static void test_no_iommu(void **state)
{
	(void)state;
	read_dev("0000:07:00.0");
	assert_int_equal(dev.device, 0x10d3);
	assert_int_equal(dev.iommu_group, -1);
	assert_int_equal(dev.nr_peers, 0);
	assert_string_equal(dev.driver, "");
	assert_false(dev.vfio_dev_exists);
	/* the MSI-X capability precedes nothing in offset order: list order is kept */
	assert_int_equal(dev.caps[3].id, 0x11);
	assert_int_equal(dev.caps[3].offset, 0xa0);
	assert_int_equal(dev.msix.table_size, 5);
}

static void test_msix_mid_page(void **state)
{
	(void)state;
	read_dev("0000:08:00.0");
	assert_bar(0, HOST_BAR_MEM32, false, 0xf8c00000, 16 * KiB);
	assert_int_equal(dev.msix.table_size, 8);
	assert_int_equal(dev.msix.table_offset, 0x1800);
	assert_int_equal(dev.msix.pba_offset, 0x2000);
	assert_int_equal(dev.iommu_group, 17);
}

static void test_node_missing(void **state)
{
	(void)state;
	read_dev("0000:09:00.0");
	assert_int_equal(dev.iommu_group, 18);
	assert_string_equal(dev.driver, "vfio-pci");
	assert_false(dev.vfio_dev_exists);
}

static void test_four_gpus(void **state)
{
	static const char *const bdfs[] = {
		"0000:41:00.0", "0000:42:00.0", "0000:43:00.0", "0000:44:00.0",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		read_dev(bdfs[i]);
		assert_int_equal(dev.vendor, 0x10de);
		assert_int_equal(dev.device, 0x2331);
		assert_int_equal(dev.class_code, 0x030200);
		assert_bar(0, HOST_BAR_MEM32, false, 0xd0000000 + i * 0x2000000ULL, 16 * MiB);
		assert_bar(1, HOST_BAR_MEM64, true, 0x20000000000 + i * 0x2000000000ULL,
			   64 * GiB);
		assert_no_bar(2);
		assert_bar(3, HOST_BAR_MEM64, true,
			   0x20000000000 + i * 0x2000000000ULL + 64 * GiB, 32 * MiB);
		assert_int_equal(dev.msix.table_bar, 0);
		assert_int_equal(dev.msix.table_offset, 0xb90000);
		assert_int_equal(dev.pcie.link_speed, 5);	/* 32 GT/s */
		assert_int_equal(dev.iommu_group, 41 + (int)i);
		assert_int_equal(dev.nr_peers, 0);
		assert_int_equal(dev.numa_node, (int)i / 2);
		assert_string_equal(dev.driver, "vfio-pci");
		assert_true(dev.vfio_dev_exists);
	}
}

static void test_bridges(void **state)
{
	(void)state;
	read_dev("0000:00:00.0");
	assert_int_equal(dev.class_code, 0x060000);
	assert_int_equal(dev.config_len, 256);
	assert_int_equal(dev.nr_caps, 0);
	assert_string_equal(dev.driver, "");
	assert_int_equal(dev.iommu_group, 0);

	read_dev("0000:00:01.0");
	assert_int_equal(dev.header_type, 1);
	assert_int_equal(dev.class_code, 0x060400);
	assert_bar(0, HOST_BAR_MEM32, false, 0xfe000000, 4 * KiB);
	assert_no_bar(1);
	assert_no_bar(2);	/* bus numbers, not a BAR */
	assert_int_equal(dev.pcie.port_type, PCI_EXP_TYPE_ROOT_PORT);
	assert_int_equal(dev.msix.table_size, 1);
	assert_string_equal(dev.driver, "pcieport");
	assert_int_equal(dev.iommu_group, 1);
}

static void test_names(void **state)
{
	(void)state;
	if (!have_pci_ids())
		skip();
	read_dev("0000:01:00.0");
	assert_string_equal(dev.vendor_name, "NVIDIA Corporation");
	assert_string_equal(dev.class_name, "3D controller");
	assert_non_null(strstr(dev.device_name, "A10"));
	read_dev("0000:02:00.0");
	assert_string_equal(dev.vendor_name, "Intel Corporation");
	assert_string_equal(dev.class_name, "Ethernet controller");
	assert_non_null(strstr(dev.device_name, "X710"));
	read_dev("0000:03:00.0");
	assert_string_equal(dev.vendor_name, "Samsung Electronics Co Ltd");
	assert_string_equal(dev.class_name, "Non-Volatile memory controller");
	read_dev("0000:04:00.0");
	assert_string_equal(dev.vendor_name, "Realtek Semiconductor Co., Ltd.");
	read_dev("0000:41:00.0");
	assert_non_null(strstr(dev.device_name, "H100"));
}

/* libpci reads the same tree through sysfs.path = DIR/bus/pci and agrees. */
static void test_libpci_agrees(void **state)
{
	struct pci_access *acc;
	struct pci_dev *p;
	unsigned int seen = 0, i;

	(void)state;
	acc = pci_alloc();
	assert_non_null(acc);
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_set_param(acc, "sysfs.path", SYS_ROOT "/bus/pci");
	pci_init(acc);
	pci_scan_bus(acc);
	for (p = acc->devices; p; p = p->next) {
		struct pci_bdf b = { (uint16_t)p->domain, p->bus, p->dev, p->func };
		uint8_t cfg[64];

		assert_int_equal(host_device_read(inv, &b, &dev), 0);
		pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_SIZES |
			      PCI_FILL_BASES | PCI_FILL_ROM_BASE);
		assert_int_equal(p->vendor_id, dev.vendor);
		assert_int_equal(p->device_id, dev.device);
		assert_int_equal(p->device_class, dev.class_code >> 8);
		for (i = 0; i < HOST_NR_BARS; i++)
			assert_int_equal(p->size[i], dev.bars[i].size);
		assert_int_equal(p->rom_size, dev.rom_size);
		assert_true(pci_read_block(p, 0, cfg, sizeof(cfg)));
		assert_memory_equal(cfg, dev.config, sizeof(cfg));
		seen++;
	}
	assert_int_equal(seen, 18);
	pci_cleanup(acc);
}

/* ------------------------------------------------------------ readiness */

static unsigned int check(const char *bdf, struct host_problem *p)
{
	read_dev(bdf);
	memset(p, 0x55, sizeof(*p) * HOST_MAX_PROBLEMS);
	return host_device_check(&dev, p);
}

static void test_ready(void **state)
{
	static const char *const ready[] = {
		"0000:01:00.0", "0000:01:00.1", "0000:02:00.0", "0000:03:00.0",
		"0000:41:00.0", "0000:42:00.0", "0000:43:00.0", "0000:44:00.0",
	};
	struct host_problem p[HOST_MAX_PROBLEMS];
	unsigned int i, n;

	(void)state;
	for (i = 0; i < sizeof(ready) / sizeof(ready[0]); i++) {
		n = check(ready[i], p);
		if (n)
			fail_msg("%s: %u problems, first: %s", ready[i], n, p[0].what);
		assert_int_equal(host_problems_blocking(p, n), 0);
	}
	assert_int_equal(host_device_check(&dev, NULL), 0);
	assert_int_equal(host_device_check(NULL, p), 0);
}

static void test_problem_not_vfio(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:06:00.0", p), 1);
	assert_int_equal(p[0].kind, HOST_PROBLEM_NOT_VFIO);
	assert_true(p[0].blocking);
	assert_string_equal(p[0].what, "not bound to vfio-pci (bound to nouveau)");
	assert_string_equal(p[0].fix,
		"bind it: vfio-bind 0000:06:00.0 (by hand: modprobe vfio-pci; "
		"echo vfio-pci > /sys/bus/pci/devices/0000:06:00.0/driver_override; "
		"echo 0000:06:00.0 > /sys/bus/pci/devices/0000:06:00.0/driver/unbind; "
		"echo 0000:06:00.0 > /sys/bus/pci/drivers_probe)");

	assert_int_equal(check("0000:05:00.1", p), 1);	/* its peer is on vfio-pci: fine */
	assert_int_equal(p[0].kind, HOST_PROBLEM_NOT_VFIO);
	assert_string_equal(p[0].what, "not bound to vfio-pci (bound to igb)");
}

static void test_problem_no_iommu(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:07:00.0", p), 2);
	assert_int_equal(host_problems_blocking(p, 2), 2);
	assert_int_equal(p[0].kind, HOST_PROBLEM_NO_IOMMU);
	assert_string_equal(p[0].what, "no IOMMU group: the IOMMU is off or missing");
	assert_string_equal(p[0].fix,
		"turn on VT-d (Intel) or AMD-Vi (AMD) in the firmware setup, add "
		"intel_iommu=on to the kernel command line on Intel hosts (AMD "
		"enables its IOMMU by default), reboot, and check that "
		"/sys/kernel/iommu_groups/ is not empty");
	assert_int_equal(p[1].kind, HOST_PROBLEM_NOT_VFIO);
	assert_string_equal(p[1].what, "not bound to vfio-pci (no driver)");
	assert_string_equal(p[1].fix,
		"bind it: vfio-bind 0000:07:00.0 (by hand: modprobe vfio-pci; "
		"echo vfio-pci > /sys/bus/pci/devices/0000:07:00.0/driver_override; "
		"echo 0000:07:00.0 > /sys/bus/pci/drivers_probe)");
}

static void test_problem_group(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:05:00.0", p), 1);
	assert_int_equal(p[0].kind, HOST_PROBLEM_GROUP_NOT_VIABLE);
	assert_true(p[0].blocking);
	assert_string_equal(p[0].what, "IOMMU group 14 also holds 0000:05:00.1 (bound to igb)");
	assert_string_equal(p[0].fix,
		"bind the other devices of the group to vfio-pci too: vfio-bind "
		"0000:05:00.1 (or unbind them from their drivers; unbound devices "
		"and bridges on pcieport may stay)");
}

static void test_problem_group_synthetic(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];
	unsigned int n;

	(void)state;
	read_dev("0000:05:00.0");
	dev.nr_peers = 5;
	dev.nr_peers_total = 7;
	dev.peers[0].bdf = B("0000:05:00.1");
	strcpy(dev.peers[0].driver, "igb");
	dev.peers[1].bdf = B("0000:05:00.2");
	strcpy(dev.peers[1].driver, "");		/* unbound: fine */
	dev.peers[2].bdf = B("0000:05:00.3");
	strcpy(dev.peers[2].driver, "e1000e");
	dev.peers[3].bdf = B("0000:00:1c.0");
	strcpy(dev.peers[3].driver, "pcieport");	/* bridge on pcieport: fine */
	dev.peers[3].is_bridge = true;
	dev.peers[4].bdf = B("0000:05:00.4");
	strcpy(dev.peers[4].driver, "pci-stub");	/* fine */
	n = host_device_check(&dev, p);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].what, "IOMMU group 14 also holds 0000:05:00.1 (bound to "
			    "igb), 0000:05:00.3 (bound to e1000e) and 2 more devices");
	assert_string_equal(p[0].fix,
		"bind the other devices of the group to vfio-pci too: vfio-bind "
		"0000:05:00.1 0000:05:00.3 (or unbind them from their drivers; "
		"unbound devices and bridges on pcieport may stay)");

	/* a variant driver counts as vfio, for the device and its peers */
	strcpy(dev.peers[0].driver, "mlx5_vfio_pci");
	strcpy(dev.peers[2].driver, "vfio-pci");
	strcpy(dev.driver, "nvgrace_gpu_vfio_pci");
	assert_int_equal(host_device_check(&dev, p), 0);
}

static void test_problem_no_reset(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:04:00.0", p), 1);
	assert_int_equal(p[0].kind, HOST_PROBLEM_NO_RESET);
	assert_false(p[0].blocking);
	assert_int_equal(host_problems_blocking(p, 1), 0);
	assert_string_equal(p[0].what,
			    "no reset method: the device cannot be reset between guests");
	assert_string_equal(p[0].fix,
		"accept that a guest finds the device as the previous user left it "
		"(only a host reboot clears it), or choose a device with FLR or a bus "
		"reset (see /sys/bus/pci/devices/0000:04:00.0/reset_method)");
}

static void test_problem_msix(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:08:00.0", p), 1);
	assert_int_equal(p[0].kind, HOST_PROBLEM_MSIX_UNALIGNED);
	assert_false(p[0].blocking);
	assert_string_equal(p[0].what, "MSI-X table at BAR0 offset 0x1800 is not page aligned");
	assert_string_equal(p[0].fix,
		"accept slower access to the device registers in BAR0 0x1000-0x1fff: "
		"that page is trapped to emulate MSI-X, so every access there exits "
		"to the VMM");
}

static void test_problem_msix_synthetic(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	read_dev("0000:08:00.0");
	/* PBA mid-page after registers */
	dev.msix.table_offset = 0x2000;
	dev.msix.pba_offset = 0x3800;
	assert_int_equal(host_device_check(&dev, p), 1);
	assert_string_equal(p[0].what, "MSI-X PBA at BAR0 offset 0x3800 is not page aligned");
	assert_string_equal(p[0].fix,
		"accept slower access to the device registers in BAR0 0x3000-0x3fff: "
		"that page is trapped to emulate MSI-X, so every access there exits "
		"to the VMM");
	/* PBA right behind the table in its page: the page is MSI-X's anyway */
	dev.msix.pba_offset = 0x2800;
	assert_int_equal(host_device_check(&dev, p), 0);
	/* both mid-page, in different pages */
	dev.msix.table_offset = 0x1800;
	dev.msix.pba_offset = 0x3800;
	assert_int_equal(host_device_check(&dev, p), 1);
	assert_string_equal(p[0].what, "MSI-X table at BAR0 offset 0x1800 and PBA at BAR0 "
			    "offset 0x3800 are not page aligned");
	assert_string_equal(p[0].fix,
		"accept slower access to the device registers in BAR0 0x1000-0x1fff "
		"and BAR0 0x3000-0x3fff: those pages are trapped to emulate MSI-X, so "
		"every access there exits to the VMM");
	/* both mid-page in one page: one range */
	dev.msix.table_offset = 0x1400;
	dev.msix.pba_offset = 0x1c00;
	assert_int_equal(host_device_check(&dev, p), 1);
	assert_string_equal(p[0].what, "MSI-X table at BAR0 offset 0x1400 is not page aligned");
}

static void test_problem_node(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];

	(void)state;
	assert_int_equal(check("0000:09:00.0", p), 1);
	assert_int_equal(p[0].kind, HOST_PROBLEM_NO_VFIO_NODE);
	assert_true(p[0].blocking);
	assert_string_equal(p[0].what,
			    "/dev/vfio/18 is missing although the device is bound to vfio-pci");
	assert_string_equal(p[0].fix,
		"load the VFIO modules (modprobe vfio-pci) and let udev create the node "
		"(udevadm trigger --subsystem-match=vfio; see the vmm udev rule "
		"90-vmm-vfio.rules); in a container, pass /dev/vfio/18 through");
}

static void test_problem_all(void **state)
{
	struct host_problem p[HOST_MAX_PROBLEMS];
	unsigned int n;

	(void)state;
	read_dev("0000:08:00.0");	/* MSI-X mid-page */
	strcpy(dev.driver, "xdma");
	dev.reset_method[0] = '\0';
	dev.nr_peers = 1;
	dev.peers[0].bdf = B("0000:08:00.1");
	strcpy(dev.peers[0].driver, "xdma");
	n = host_device_check(&dev, p);
	assert_int_equal(n, 4);
	assert_int_equal(p[0].kind, HOST_PROBLEM_NOT_VFIO);
	assert_int_equal(p[1].kind, HOST_PROBLEM_GROUP_NOT_VIABLE);
	assert_int_equal(p[2].kind, HOST_PROBLEM_NO_RESET);
	assert_int_equal(p[3].kind, HOST_PROBLEM_MSIX_UNALIGNED);
	assert_int_equal(host_problems_blocking(p, n), 2);
	assert_int_equal(host_problems_blocking(NULL, n), 0);
}

static void test_helpers(void **state)
{
	struct host_group_peer peer = { 0 };

	(void)state;
	assert_true(host_driver_is_vfio("vfio-pci"));
	assert_true(host_driver_is_vfio("mlx5_vfio_pci"));
	assert_false(host_driver_is_vfio(""));
	assert_false(host_driver_is_vfio(NULL));
	assert_false(host_driver_is_vfio("vfio-pci-x"));
	assert_false(host_peer_blocks_group(&peer));
	strcpy(peer.driver, "pcieport");
	assert_false(host_peer_blocks_group(&peer));
	strcpy(peer.driver, "snd_hda_intel");
	assert_true(host_peer_blocks_group(&peer));
	assert_string_equal(host_cap_name(0x11, false), "MSI-X");
	assert_string_equal(host_cap_name(0x10, true), "SR-IOV");
	assert_string_equal(host_cap_name(0x15, true), "Resizable BAR");
	assert_null(host_cap_name(0xff, false));
	assert_null(host_cap_name(0xffff, true));
}

/* ------------------------------------------------------------ hostile trees */

static char tmp[64];

static void put(const char *rel, const void *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		fail_msg("cannot write %s", path);
	close(fd);
}

static void puts_(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void mkdir_(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		fail_msg("cannot mkdir %s", path);
}

static void symlink_(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if (symlink(target, path))
		fail_msg("cannot symlink %s", path);
}

/* Copy a fixture device's plain files into the temp tree as device bdf. */
static void copy_dev(const char *from, const char *bdf)
{
	static const char *const files[] = {
		"vendor", "device", "subsystem_vendor", "subsystem_device", "class",
		"revision", "config", "resource", "numa_node", "reset_method",
	};
	char src[512], rel[256];
	static char buf[8192];
	unsigned int i;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	mkdir_(rel);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ssize_t n;
		int fd;

		snprintf(src, sizeof(src), "%s/bus/pci/devices/%s/%s", SYS_ROOT, from, files[i]);
		fd = open(src, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		assert_true(n >= 0);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/%s", bdf, files[i]);
		put(rel, buf, (size_t)n);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	inv = host_inventory_open(SYS_ROOT, DEV_ROOT);
	if (!inv)
		return -1;
	strcpy(tmp, "/tmp/vmm-test-host-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	mkdir_("bus");
	mkdir_("bus/pci");
	mkdir_("bus/pci/devices");
	mkdir_("kernel");
	mkdir_("kernel/iommu_groups");
	mkdir_("dev");
	mkdir_("dev/vfio");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	host_inventory_close(inv);
	inv = NULL;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int read_tmp(const char *bdf)
{
	char devroot[128];
	struct host_inventory *t;
	struct pci_bdf b = B(bdf);
	int ret;

	snprintf(devroot, sizeof(devroot), "%s/dev", tmp);
	t = host_inventory_open(tmp, devroot);
	assert_non_null(t);
	ret = host_device_read(t, &b, &dev);
	host_inventory_close(t);
	return ret;
}

static uint8_t cfgbuf[4096];

static void load_cfg(const char *from)
{
	char src[512];
	int fd;

	snprintf(src, sizeof(src), "%s/bus/pci/devices/%s/config", SYS_ROOT, from);
	memset(cfgbuf, 0, sizeof(cfgbuf));
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, cfgbuf, sizeof(cfgbuf)) > 0);
	close(fd);
}

static void test_hostile_truncated_config(void **state)
{
	(void)state;
	copy_dev("0000:01:00.0", "0000:10:00.0");
	load_cfg("0000:01:00.0");
	put("bus/pci/devices/0000:10:00.0/config", cfgbuf, 20);
	assert_int_equal(read_tmp("0000:10:00.0"), 0);
	assert_int_equal(dev.config_len, 20);
	assert_false(dev.config_complete);
	assert_int_equal(dev.nr_caps, 0);
	assert_false(dev.msix.present);
	assert_int_equal(dev.intx_pin, 0);
	/* BAR0 register is in the 20 bytes; BAR1 on is from the resource flags */
	assert_bar(0, HOST_BAR_MEM32, false, 0xfa000000, 16 * MiB);
	assert_bar(1, HOST_BAR_MEM64, true, 0x38000000000, 32 * GiB);
	assert_bar(3, HOST_BAR_MEM64, true, 0x38800000000, 32 * MiB);
	assert_int_equal(dev.vendor, 0x10de);

	/* what non-root reads on a live host: the 64-byte header */
	put("bus/pci/devices/0000:10:00.0/config", cfgbuf, 64);
	assert_int_equal(read_tmp("0000:10:00.0"), 0);
	assert_int_equal(dev.config_len, 64);
	assert_false(dev.config_complete);
	assert_int_equal(dev.intx_pin, 1);
	assert_int_equal(dev.nr_caps, 0);
	assert_bar(1, HOST_BAR_MEM64, true, 0x38000000000, 32 * GiB);

	/* empty, and absent: ids from the files, BARs from the flags */
	put("bus/pci/devices/0000:10:00.0/config", cfgbuf, 0);
	assert_int_equal(read_tmp("0000:10:00.0"), 0);
	assert_int_equal(dev.config_len, 0);
	assert_bar(0, HOST_BAR_MEM32, false, 0xfa000000, 16 * MiB);
	assert_int_equal(dev.subsys_vendor, 0x10de);

	/* longer than any config space: the first 4096 bytes, not complete */
	{
		static uint8_t big[5000];

		memcpy(big, cfgbuf, sizeof(cfgbuf));
		put("bus/pci/devices/0000:10:00.0/config", big, sizeof(big));
		assert_int_equal(read_tmp("0000:10:00.0"), 0);
		assert_int_equal(dev.config_len, 4096);
		assert_false(dev.config_complete);
		assert_int_equal(dev.nr_caps, 11);
	}
}

static void test_hostile_cap_loops(void **state)
{
	unsigned int i;

	(void)state;
	copy_dev("0000:03:00.0", "0000:11:00.0");
	load_cfg("0000:03:00.0");

	/* standard list: 0x40 -> 0x50 -> 0x40 */
	cfgbuf[0x51] = 0x40;
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.caps[0].offset, 0x40);
	assert_int_equal(dev.caps[1].offset, 0x50);
	assert_true(dev.caps[2].extended);
	assert_true(dev.msi.present);
	assert_false(dev.msix.present);		/* after the loop: never reached */
	assert_int_equal(dev.nr_caps, 2 + 6);

	/* self loop, and a pointer into the header */
	load_cfg("0000:03:00.0");
	cfgbuf[0x41] = 0x40;
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.caps[0].offset, 0x40);
	assert_true(dev.caps[1].extended);
	cfgbuf[0x34] = 0x10;
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_true(dev.caps[0].extended);

	/* extended list: 0x100 -> 0x148 -> 0x100, and a next pointer below 0x100 */
	load_cfg("0000:03:00.0");
	cfgbuf[0x14a] = (uint8_t)((cfgbuf[0x14a] & 0x0f) | 0x00);
	cfgbuf[0x14b] = 0x10;			/* next = 0x100 */
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.nr_caps, 4 + 2);
	assert_true(dev.msix.present);
	cfgbuf[0x14b] = 0x00;
	cfgbuf[0x14a] = (uint8_t)((cfgbuf[0x14a] & 0x0f) | 0x40);	/* next = 0x004 */
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.nr_caps, 4 + 2);

	/* capability at the very end of the file: the header fits, the body does not */
	load_cfg("0000:03:00.0");
	cfgbuf[0x41] = 0xfc;
	cfgbuf[0xfc] = 0x11;		/* MSI-X, 12 bytes from 0xfc: past 0x100 */
	cfgbuf[0xfd] = 0x00;
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, 256);
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.nr_caps, 2);
	assert_int_equal(dev.caps[1].offset, 0xfc);
	assert_false(dev.msix.present);

	/* more capabilities than caps[] holds: 48 standard + 900 extended */
	memset(cfgbuf + 0x40, 0, sizeof(cfgbuf) - 0x40);
	cfgbuf[0x34] = 0x40;
	for (i = 0x40; i < 0x100; i += 4) {
		cfgbuf[i] = 0x09;
		cfgbuf[i + 1] = (uint8_t)(i + 4 < 0x100 ? i + 4 : 0);
	}
	for (i = 0x100; i < 0x1000; i += 4) {
		uint32_t hdr = 0x0b | 1u << 16 | (i + 4 < 0x1000 ? (i + 4) << 20 : 0);

		memcpy(cfgbuf + i, &hdr, 4);
	}
	put("bus/pci/devices/0000:11:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:11:00.0"), 0);
	assert_int_equal(dev.nr_caps, HOST_MAX_CAPS);
	assert_false(dev.msi.present);
}

static void test_hostile_msi_msix(void **state)
{
	(void)state;
	copy_dev("0000:03:00.0", "0000:12:00.0");

	/* MSI-X table BIR 7: no such BAR */
	load_cfg("0000:03:00.0");
	cfgbuf[0xb4] = (uint8_t)((cfgbuf[0xb4] & ~7) | 7);
	put("bus/pci/devices/0000:12:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:12:00.0"), 0);
	assert_false(dev.msix.present);
	assert_int_equal(dev.caps[3].id, 0x11);	/* still listed */

	/* MSI-X table past the end of its 16 KiB BAR */
	load_cfg("0000:03:00.0");
	cfgbuf[0xb5] = 0x3f;		/* offset 0x3f00, 33 * 16 bytes: past 0x4000 */
	put("bus/pci/devices/0000:12:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:12:00.0"), 0);
	assert_false(dev.msix.present);

	/* MSI-X in an I/O BAR */
	copy_dev("0000:04:00.0", "0000:12:00.1");
	load_cfg("0000:04:00.0");
	cfgbuf[0x51] = 0x60;
	cfgbuf[0x60] = 0x11;
	cfgbuf[0x62] = 0x00;		/* 1 vector, BAR0 (I/O) */
	put("bus/pci/devices/0000:12:00.1/config", cfgbuf, 256);
	assert_int_equal(read_tmp("0000:12:00.1"), 0);
	assert_int_equal(dev.nr_caps, 2);
	assert_false(dev.msix.present);

	/* MSI with a reserved multiple-message-capable encoding */
	load_cfg("0000:03:00.0");
	cfgbuf[0x52] = (uint8_t)((cfgbuf[0x52] & ~0x0e) | 0x0e);	/* MMC = 7 */
	put("bus/pci/devices/0000:12:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:12:00.0"), 0);
	assert_int_equal(dev.msi.vectors, 32);

	/* PCIe link status reserved speed */
	load_cfg("0000:03:00.0");
	cfgbuf[0x70 + 0x12] = 0x4f;	/* speed 15, width x4 */
	put("bus/pci/devices/0000:12:00.0/config", cfgbuf, sizeof(cfgbuf));
	assert_int_equal(read_tmp("0000:12:00.0"), 0);
	assert_int_equal(dev.pcie.link_speed, 0);
	assert_int_equal(dev.pcie.link_width, 4);
}

static void test_hostile_resource(void **state)
{
	static const char *const bad[] = {
		"garbage\n",
		"0x00000000f9e00000 0x00000000f9e03fff\n",		/* two fields */
		"0x00000000f9e00000 0x00000000f9e03fff 0x0000000000140204 junk\n",
		"0x00000000f9e03fff 0x00000000f9e00000 0x0000000000140204\n",	/* end < start */
		"0x00000000f9e00000 0x00000000f9e02fff 0x0000000000140204\n",	/* 12 KiB */
		"0x0000000000000000 0xffffffffffffffff 0x0000000000140204\n",	/* wraps */
		"0x1ffffffffffffffff 0x0 0x0\n",			/* overflow */
		"\n",
		"-0x1 0x0 0x0\n",
	};
	unsigned int i;

	(void)state;
	copy_dev("0000:03:00.0", "0000:13:00.0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		puts_("bus/pci/devices/0000:13:00.0/resource", bad[i]);
		if (read_tmp("0000:13:00.0") != -EINVAL)
			fail_msg("resource %u (%s) accepted", i, bad[i]);
	}
	/* a short file: the lines it has; an empty one: no BARs */
	puts_("bus/pci/devices/0000:13:00.0/resource",
	      "0x00000000f9e00000 0x00000000f9e03fff 0x0000000000140204");
	assert_int_equal(read_tmp("0000:13:00.0"), 0);
	assert_bar(0, HOST_BAR_MEM64, false, 0xf9e00000, 16 * KiB);
	puts_("bus/pci/devices/0000:13:00.0/resource", "");
	assert_int_equal(read_tmp("0000:13:00.0"), 0);
	assert_no_bar(0);
	assert_false(dev.msix.present);	/* its BAR is gone */
	/* absent */
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:13:00.0/resource", tmp);
		unlink(path);
		assert_int_equal(read_tmp("0000:13:00.0"), -EIO);
	}
}

static void test_hostile_ids(void **state)
{
	char path[512];

	(void)state;
	copy_dev("0000:02:00.0", "0000:14:00.0");
	puts_("bus/pci/devices/0000:14:00.0/vendor", "zzz\n");
	assert_int_equal(read_tmp("0000:14:00.0"), -EINVAL);
	puts_("bus/pci/devices/0000:14:00.0/vendor", "0x18086\n");
	assert_int_equal(read_tmp("0000:14:00.0"), -EINVAL);
	puts_("bus/pci/devices/0000:14:00.0/vendor", "");
	assert_int_equal(read_tmp("0000:14:00.0"), -EINVAL);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:14:00.0/vendor", tmp);
	unlink(path);
	assert_int_equal(read_tmp("0000:14:00.0"), -EIO);
	puts_("bus/pci/devices/0000:14:00.0/vendor", "0x8086\n");
	/* optional files: bad or absent ones fall back */
	puts_("bus/pci/devices/0000:14:00.0/numa_node", "lots\n");
	puts_("bus/pci/devices/0000:14:00.0/revision", "0x1ff\n");
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:14:00.0/subsystem_device", tmp);
	unlink(path);
	assert_int_equal(read_tmp("0000:14:00.0"), 0);
	assert_int_equal(dev.numa_node, -1);
	assert_int_equal(dev.revision, 0x02);		/* from config space */
	assert_int_equal(dev.subsys_device, 0x0007);	/* from config space */
	/* a device "directory" that is a file */
	puts_("bus/pci/devices/0000:14:00.1", "not a directory\n");
	assert_int_equal(read_tmp("0000:14:00.1"), -ENOENT);
}

static void test_hostile_links(void **state)
{
	char longname[200];
	unsigned int i;

	(void)state;
	copy_dev("0000:01:00.0", "0000:15:00.0");
	/* reset_method present but empty; text with control characters */
	puts_("bus/pci/devices/0000:15:00.0/reset_method", "");
	symlink_("../../../../kernel/iommu_groups/not-a-number",
		 "bus/pci/devices/0000:15:00.0/iommu_group");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "../../../../bus/pci/drivers/", 28);
	symlink_(longname, "bus/pci/devices/0000:15:00.0/driver");
	assert_int_equal(read_tmp("0000:15:00.0"), 0);
	assert_string_equal(dev.reset_method, "");
	assert_int_equal(dev.iommu_group, -1);
	assert_int_equal(strlen(dev.driver), HOST_DRIVER_MAX - 1);

	/* a group whose member list is missing, then one with 40 members */
	copy_dev("0000:01:00.0", "0000:16:00.0");
	puts_("bus/pci/devices/0000:16:00.0/reset_method", "flr\x01\n");
	symlink_("../../../../kernel/iommu_groups/7", "bus/pci/devices/0000:16:00.0/iommu_group");
	symlink_("../../../../bus/pci/drivers/vfio-pci", "bus/pci/devices/0000:16:00.0/driver");
	assert_int_equal(read_tmp("0000:16:00.0"), 0);
	assert_string_equal(dev.reset_method, "flr?");
	assert_int_equal(dev.iommu_group, 7);
	assert_int_equal(dev.nr_peers, 0);
	assert_false(dev.vfio_dev_exists);

	mkdir_("kernel/iommu_groups/7");
	mkdir_("kernel/iommu_groups/7/devices");
	mkdir_("bus/pci/drivers");
	mkdir_("bus/pci/drivers/vfio-pci");
	mkdir_("bus/pci/drivers/ahci");
	symlink_("../../../../bus/pci/devices/0000:16:00.0",
		 "kernel/iommu_groups/7/devices/0000:16:00.0");
	symlink_("garbage", "kernel/iommu_groups/7/devices/not-a-bdf");
	for (i = 1; i <= 40; i++) {
		char bdf[16], rel[128], target[128];

		snprintf(bdf, sizeof(bdf), "0000:17:%02x.%x", i / 8, i % 8);
		copy_dev("0000:05:00.1", bdf);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
		symlink_(i == 40 ? "../../../../bus/pci/drivers/ahci" :
			 "../../../../bus/pci/drivers/vfio-pci", rel);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/7/devices/%s", bdf);
		snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", bdf);
		symlink_(target, rel);
	}
	puts_("dev/vfio/7", "");
	assert_int_equal(read_tmp("0000:16:00.0"), 0);
	assert_true(dev.vfio_dev_exists);
	assert_int_equal(dev.nr_peers, HOST_MAX_GROUP_PEERS);
	assert_int_equal(dev.nr_peers_total, 40);
	/* the one member that matters is kept, and the list stays sorted */
	assert_string_equal(dev.peers[HOST_MAX_GROUP_PEERS - 1].driver, "ahci");
	for (i = 1; i < dev.nr_peers; i++)
		assert_true((dev.peers[i - 1].bdf.dev << 3 | dev.peers[i - 1].bdf.fn) <
			    (dev.peers[i].bdf.dev << 3 | dev.peers[i].bdf.fn));
	{
		struct host_problem p[HOST_MAX_PROBLEMS];

		assert_int_equal(host_device_check(&dev, p), 1);
		assert_string_equal(p[0].what, "IOMMU group 7 also holds 0000:17:05.0 "
				    "(bound to ahci) and 8 more devices");
	}
}

static void test_hostile_list(void **state)
{
	struct host_inventory *t;
	struct pci_bdf *list;
	char buf[PCI_BDF_STRLEN];
	int n;

	(void)state;
	mkdir_("bus/pci/devices/junk");
	mkdir_("bus/pci/devices/0000:zz:00.0");
	t = host_inventory_open(tmp, NULL);
	assert_non_null(t);
	n = host_device_list(t, &list);
	assert_true(n > 0);
	assert_string_equal(pci_bdf_format(&list[0], buf, sizeof(buf)), "0000:10:00.0");
	free(list);
	host_inventory_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_gpu_a10),
		cmocka_unit_test(test_gpu_audio),
		cmocka_unit_test(test_nic_x710),
		cmocka_unit_test(test_nvme),
		cmocka_unit_test(test_intx_only),
		cmocka_unit_test(test_i350_group),
		cmocka_unit_test(test_host_gpu),
		cmocka_unit_test(test_no_iommu),
		cmocka_unit_test(test_msix_mid_page),
		cmocka_unit_test(test_node_missing),
		cmocka_unit_test(test_four_gpus),
		cmocka_unit_test(test_bridges),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_libpci_agrees),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_problem_not_vfio),
		cmocka_unit_test(test_problem_no_iommu),
		cmocka_unit_test(test_problem_group),
		cmocka_unit_test(test_problem_group_synthetic),
		cmocka_unit_test(test_problem_no_reset),
		cmocka_unit_test(test_problem_msix),
		cmocka_unit_test(test_problem_msix_synthetic),
		cmocka_unit_test(test_problem_node),
		cmocka_unit_test(test_problem_all),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_hostile_truncated_config),
		cmocka_unit_test(test_hostile_cap_loops),
		cmocka_unit_test(test_hostile_msi_msix),
		cmocka_unit_test(test_hostile_resource),
		cmocka_unit_test(test_hostile_ids),
		cmocka_unit_test(test_hostile_links),
		cmocka_unit_test(test_hostile_list),
	};
	return cmocka_run_group_tests_name("host inventory", tests, setup, teardown);
}
