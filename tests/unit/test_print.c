/*
 * pci-topo's printers on a plan built by hand: the lspci-style tree, the
 * iomem/ioports nesting, JSON escaping, and the device tree (ranges,
 * assigned-addresses, interrupt-map swizzle through bridges; dtc if present).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libfdt.h>

#include "util/size.h"
#include "json.h"
#include "print.h"
#include "print_priv.h"

/*
 * 00:00.0 host bridge
 * 00:01.0 rp0 (root port) -> bus 01..02
 *     01:00.0 br1 (PCI bridge) -> bus 02
 *         02:03.0 nic (vfio, INTA, an I/O BAR, MSI-X in BAR3)
 * 00:02.0 disk0 (virtio-blk)
 * 00:03.0 rp2 (root port) -> bus 03, empty
 */
struct fixture {
	struct vm_config cfg;
	struct bridge_config bridges[3];
	struct device_config devices[2];
	struct pci_func funcs[6];
	struct pci_bus_node buses[4];
	struct plan_func pfuncs[6];
	struct host_device host;
	struct vm_plan plan;
};

static struct fixture *fixture_new(void)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct vm_plan *p;
	struct x86_layout *l;
	struct pci_func *f;
	unsigned int i;

	assert_non_null(x);
	p = &x->plan;
	x->cfg.machine.name = "hand \"made\"";
	x->cfg.machine.cpus = 2;
	x->cfg.machine.memory = 2 * SZ_1G;
	x->cfg.machine.phys_bits = 40;
	x->cfg.serials[0].index = 0;
	x->cfg.serials[0].console.kind = CONSOLE_STDIO;
	x->cfg.nr_serials = 1;
	x->bridges[0] = (struct bridge_config){ .name = "rp0", .kind = BRIDGE_ROOT_PORT };
	x->bridges[1] = (struct bridge_config){ .name = "br1", .kind = BRIDGE_PCI };
	x->bridges[2] = (struct bridge_config){ .name = "rp2", .kind = BRIDGE_ROOT_PORT };
	x->cfg.bridges = x->bridges;
	x->cfg.nr_bridges = 3;
	x->devices[0].name = "disk0";
	x->devices[0].kind = DEV_VIRTIO_BLK;
	x->devices[1].name = "nic";
	x->devices[1].kind = DEV_VFIO;
	x->cfg.devices = x->devices;
	x->cfg.nr_devices = 2;
	p->cfg = &x->cfg;

	l = &p->layout;
	l->memory = 2 * SZ_1G;
	l->phys_bits = 40;
	l->ram[0] = (struct addr_range){ 0, 2 * SZ_1G };
	l->nr_ram = 1;
	l->mmio32 = (struct addr_range){ X86_MMIO32_BASE, X86_MMIO32_SIZE };
	l->mmio64 = (struct addr_range){ 0x8000000000ULL, 0x8000000000ULL };
	l->ecam = (struct addr_range){ X86_ECAM_BASE, X86_ECAM_SIZE };
	l->pci_io = (struct addr_range){ X86_PCI_IO_BASE, X86_PCI_IO_END - X86_PCI_IO_BASE };
	l->e820[0] = (struct e820_entry){ 0, 0xa0000, E820_RAM };
	l->e820[1] = (struct e820_entry){ 0xa0000, 0x60000, E820_RESERVED };
	l->e820[2] = (struct e820_entry){ 0x100000, 2 * SZ_1G - 0x100000, E820_RAM };
	l->e820[3] = (struct e820_entry){ X86_ECAM_BASE, X86_ECAM_SIZE, E820_RESERVED };
	l->e820[4] = (struct e820_entry){ X86_IOAPIC_BASE, X86_IOAPIC_SIZE, E820_RESERVED };
	l->e820[5] = (struct e820_entry){ X86_LAPIC_BASE, X86_LAPIC_SIZE, E820_RESERVED };
	l->nr_e820 = 6;

	x->buses[0] = (struct pci_bus_node){ .bridge = -1, .number = 0 };
	x->buses[1] = (struct pci_bus_node){ .bridge = 1, .number = 1, .single_slot = true };
	x->buses[2] = (struct pci_bus_node){ .bridge = 3, .number = 2 };
	x->buses[3] = (struct pci_bus_node){ .bridge = 5, .number = 3, .single_slot = true };
	p->pci.buses = x->buses;
	p->pci.nr_buses = 4;
	p->pci.funcs = x->funcs;
	p->pci.nr_funcs = 6;
	p->pci.host.io = (struct pci_window){ 0x1000, 0xf000 };
	p->pci.host.mem32 = (struct pci_window){ X86_MMIO32_BASE, X86_MMIO32_SIZE };
	p->pci.host.mem64 = (struct pci_window){ 0x8000000000ULL, 0x8000000000ULL };
	p->funcs = x->pfuncs;

	f = &x->funcs[0];
	*f = (struct pci_func){ .kind = PCI_FUNC_HOST_BRIDGE, .name = "host-bridge",
		.vendor = PLAN_HOST_BRIDGE_VENDOR, .device = PLAN_HOST_BRIDGE_DEVICE,
		.class_code = 0x060000, .child_bus = -1 };
	x->pfuncs[0] = (struct plan_func){ .role = PLAN_ROLE_HOST_BRIDGE, .index = -1 };

	f = &x->funcs[1];
	*f = (struct pci_func){ .kind = PCI_FUNC_ROOT_PORT, .name = "rp0", .dev = 1,
		.vendor = PLAN_ROOT_PORT_VENDOR, .device = PLAN_ROOT_PORT_DEVICE,
		.class_code = 0x060400, .child_bus = 1, .secondary = 1, .subordinate = 2,
		.io = { 0x1000, 0x1000 }, .mem = { 0xc0000000, 0x100000 } };
	x->pfuncs[1] = (struct plan_func){ .role = PLAN_ROLE_BRIDGE, .index = 0 };

	f = &x->funcs[2];
	*f = (struct pci_func){ .kind = PCI_FUNC_ENDPOINT, .name = "disk0", .dev = 2,
		.vendor = 0x1af4, .device = 0x1042, .subsys_vendor = 0x1af4,
		.subsys_device = 0x1100, .class_code = 0x018000, .revision = 1,
		.intx_pin = 1, .root_slot = 2, .root_pin = 1, .gsi = 18, .msix_vectors = 3,
		.child_bus = -1 };
	f->bars[0] = (struct pci_bar){ PCI_BAR_MEM64, false, 0x4000, 0xc0104000 };
	x->pfuncs[2] = (struct plan_func){ .role = PLAN_ROLE_DEVICE, .index = 0,
		.virtio_queues = 2 };

	f = &x->funcs[3];
	*f = (struct pci_func){ .kind = PCI_FUNC_PCI_BRIDGE, .name = "br1", .bus_req = 1,
		.bus = 1, .vendor = PLAN_PCI_BRIDGE_VENDOR, .device = PLAN_PCI_BRIDGE_DEVICE,
		.class_code = 0x060400, .child_bus = 2, .secondary = 2, .subordinate = 2,
		.io = { 0x1000, 0x1000 }, .mem = { 0xc0000000, 0x100000 } };
	x->pfuncs[3] = (struct plan_func){ .role = PLAN_ROLE_BRIDGE, .index = 1 };

	/* Behind two bridges: INTA at 02:03 -> INTD at 01:00 -> INTD at root slot 1. */
	f = &x->funcs[4];
	*f = (struct pci_func){ .kind = PCI_FUNC_ENDPOINT, .name = "nic", .bus_req = 2,
		.bus = 2, .dev = 3, .vendor = 0x8086, .device = 0x1521,
		.subsys_vendor = 0x8086, .subsys_device = 0x0001, .class_code = 0x020000,
		.revision = 1, .intx_pin = 1, .root_slot = 1, .root_pin = 4, .gsi = 20,
		.msi_vectors = 1, .msix_vectors = 10, .child_bus = -1 };
	f->bars[0] = (struct pci_bar){ PCI_BAR_MEM32, false, 0x20000, 0xc0000000 };
	f->bars[2] = (struct pci_bar){ PCI_BAR_IO, false, 0x20, 0x1000 };
	f->bars[3] = (struct pci_bar){ PCI_BAR_MEM32, false, 0x4000, 0xc0020000 };
	x->pfuncs[4] = (struct plan_func){ .role = PLAN_ROLE_DEVICE, .index = 1, .host = &x->host };
	x->pfuncs[4].pt_bars[0] = (struct plan_pt_bar){ .host_addr = 0xf7c00000, .host_size = 0x20000 };
	x->pfuncs[4].pt_bars[2] = (struct plan_pt_bar){ .host_addr = 0xe000, .host_size = 0x20 };
	x->pfuncs[4].pt_bars[3] = (struct plan_pt_bar){ .host_addr = 0xf7c20000,
		.host_size = 0x4000, .nr_trapped = 2,
		.trapped = { { 0x0, 0x1000 }, { 0x2000, 0x1000 } } };

	f = &x->funcs[5];
	*f = (struct pci_func){ .kind = PCI_FUNC_ROOT_PORT, .name = "rp2", .dev = 3,
		.vendor = PLAN_ROOT_PORT_VENDOR, .device = PLAN_ROOT_PORT_DEVICE,
		.class_code = 0x060400, .child_bus = 3, .secondary = 3, .subordinate = 3 };
	x->pfuncs[5] = (struct plan_func){ .role = PLAN_ROLE_BRIDGE, .index = 2 };

	x->host.bdf = (struct pci_bdf){ 0, 0x05, 0, 0 };
	x->host.vendor = 0x8086;
	x->host.device = 0x1521;
	x->host.class_code = 0x020000;
	strcpy(x->host.vendor_name, "Intel Corporation");
	strcpy(x->host.device_name, "I350 Gigabit Network Connection");
	strcpy(x->host.class_name, "Ethernet controller");
	strcpy(x->host.driver, "vfio-pci");
	strcpy(x->host.reset_method, "flr");
	x->host.iommu_group = 7;
	x->host.numa_node = -1;
	x->host.vfio_dev_exists = true;
	x->host.msix = (struct host_msix){ .present = true, .table_size = 10, .table_bar = 3,
		.table_offset = 0, .pba_bar = 3, .pba_offset = 0x2000 };

	p->legacy[0] = (struct plan_legacy){ "serial", 0x3f8, 8, 4, 0 };
	p->legacy[1] = (struct plan_legacy){ "keyboard", 0x60, 1, 1, -1 };
	p->legacy[2] = (struct plan_legacy){ "keyboard", 0x64, 1, 1, -1 };
	p->legacy[3] = (struct plan_legacy){ "rtc0", 0x70, 2, 8, -1 };
	p->legacy[4] = (struct plan_legacy){ "PCI conf1", 0xcf8, 8, -1, -1 };
	p->nr_legacy = 5;
	for (i = 0; i < 6; i++)
		x->funcs[i].owner = (int)i;
	return x;
}

/* Runs a printer into a string. */
static char *capture(int (*fn)(FILE *, const struct vm_plan *), const struct vm_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(f, p), 0);
	fclose(f);
	return buf;
}

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		print_error("missing: [%s]\nin:\n%s\n", want, text);
		fail();
	}
}

static void test_text_tree(void **state)
{
	struct fixture *x = fixture_new();
	char *t = capture(print_text, &x->plan);

	(void)state;
	assert_has(t, "-[0000:00]-+-00.0  Red Hat, Inc. QEMU PCIe Host bridge\n"
		      "           +-01.0-[01-02]----00.0-[02]----03.0  Intel Corporation I350 Gigabit Network Connection\n"
		      "           +-02.0  Red Hat, Inc. Virtio 1.0 block device\n"
		      "           \\-03.0-[03]--\n");
	assert_has(t, "machine    hand \"made\"\ncpus       2\nmemory     2 GiB");
	assert_has(t, "0000:02:03.0 nic (vfio)\n");
	assert_has(t, "0000:00:03.0 rp2 (root-port)\n");
	assert_has(t, "    bus         primary 01, secondary 02, subordinate 02\n");
	assert_has(t, "    io window   1000-1fff  4 KiB\n");
	assert_has(t, "    intx        INTA, root slot 01 INTD, GSI 20\n");
	assert_has(t, "    bar 2       1000-101f  32 bytes  io\n");
	assert_has(t, "trapped  c0020000-c0020fff  +0x0  MSI-X table\n");
	assert_has(t, "direct   c0021000-c0021fff  +0x1000\n");
	assert_has(t, "trapped  c0022000-c0022fff  +0x2000  MSI-X PBA\n");
	assert_has(t, "direct   c0023000-c0023fff  +0x3000\n");
	assert_has(t, "    IRQ 1  keyboard   0060-0060, 0064-0064\n");
	assert_has(t, "  nic: host 0000:05:00.0 -> guest 0000:02:03.0: ");
	free(t);
	free(x);
}

static void test_text_maps(void **state)
{
	struct fixture *x = fixture_new();
	char *t = capture(print_text, &x->plan);

	(void)state;
	assert_has(t, "00000000-0009ffff : System RAM\n"
		      "000a0000-000fffff : Reserved\n"
		      "  000f0000-000fffff : System ROM\n"
		      "00100000-7fffffff : System RAM\n"
		      "80000000-bfffffff : (hole)\n"
		      "c0000000-dfffffff : PCI Bus 0000:00\n"
		      "  c0000000-c00fffff : PCI Bus 0000:01\n"
		      "    c0000000-c00fffff : PCI Bus 0000:02\n"
		      "      c0000000-c001ffff : 0000:02:03.0\n"
		      "      c0020000-c0023fff : 0000:02:03.0\n"
		      "  c0104000-c0107fff : 0000:00:02.0\n"
		      "e0000000-efffffff : PCI MMCONFIG 0000 [bus 00-ff]\n"
		      "  e0000000-efffffff : Reserved\n"
		      "    e0000000-efffffff : pnp 00:00\n"
		      "f0000000-febfffff : (hole)\n"
		      "fec00000-fec00fff : Reserved\n"
		      "  fec00000-fec003ff : IOAPIC 0\n"
		      "fec01000-fedfffff : (hole)\n"
		      "fee00000-fee00fff : Local APIC\n"
		      "  fee00000-fee00fff : Reserved\n"
		      "fee01000-7fffffffff : (hole)\n"
		      "8000000000-ffffffffff : PCI Bus 0000:00\n");
	assert_has(t, "0000-001f : dma1\n"
		      "0020-0021 : pic1\n"
		      "0040-0043 : timer0\n"
		      "0050-0053 : timer1\n"
		      "0060-0060 : keyboard\n"
		      "0064-0064 : keyboard\n"
		      "0070-0071 : rtc0\n"
		      "0080-008f : dma page reg\n"
		      "00a0-00a1 : pic2\n"
		      "00c0-00df : dma2\n"
		      "00f0-00ff : fpu\n"
		      "03f8-03ff : serial\n"
		      "0cf8-0cff : PCI conf1\n"
		      "1000-ffff : PCI Bus 0000:00\n"
		      "  1000-1fff : PCI Bus 0000:01\n"
		      "    1000-1fff : PCI Bus 0000:02\n"
		      "      1000-101f : 0000:02:03.0\n");
	free(t);
	free(x);
}

static void test_deterministic(void **state)
{
	struct fixture *x = fixture_new();
	char *a = capture(print_text, &x->plan), *b = capture(print_text, &x->plan);
	char *ja = capture(print_json, &x->plan), *jb = capture(print_json, &x->plan);

	(void)state;
	assert_string_equal(a, b);
	assert_string_equal(ja, jb);
	free(a);
	free(b);
	free(ja);
	free(jb);
	free(x);
}

static void test_json(void **state)
{
	struct fixture *x = fixture_new();
	char *j = capture(print_json, &x->plan);

	(void)state;
	assert_true(j[0] == '{');
	assert_has(j, "\"version\": 1,\n  \"machine\": {\n    \"name\": \"hand \\\"made\\\"\",");
	assert_has(j, "\"bdf\": \"0000:02:03.0\",\n      \"name\": \"nic\",\n      \"kind\": \"endpoint\",\n"
		      "      \"type\": \"vfio\",\n      \"vendor\": \"0x8086\",\n      \"device\": \"0x1521\",");
	assert_has(j, "\"class\": \"0x020000\",\n      \"revision\": \"0x01\",");
	assert_has(j, "\"index\": 2,\n          \"type\": \"io\",\n          \"prefetchable\": false,\n"
		      "          \"addr\": \"0x1000\",\n          \"size\": 32\n");
	assert_has(j, "\"intx\": {\n        \"pin\": 1,\n        \"root_slot\": 1,\n        \"root_pin\": 4,\n"
		      "        \"gsi\": 20\n      },");
	assert_has(j, "\"host\": \"0000:05:00.0\",");
	assert_has(j, "\"offset\": \"0x2000\",");
	assert_has(j, "\"what\": \"MSI-X PBA\"");
	assert_has(j, "\"bridge\": null,");
	assert_has(j, "\"io\": null");
	assert_has(j, "\"name\": \"PCI MMCONFIG 0000 [bus 00-ff]\",");
	assert_has(j, "\"children\": []");
	assert_has(j, "\"serial\": \"com1\"");
	free(j);
	free(x);
}

static void test_json_strings(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	json_write_string(f, "a\"b\\c\n\t\x01 \xc3\xa9 \xff\xc3 \xed\xa0\x80");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\"");
	free(buf);
}

static void test_json_nesting(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	(void)state;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "a");
	json_array_end(&j);
	json_object_begin(&j, "o");
	json_hexw(&j, "id", 0x1af4, 4);
	json_hex(&j, "addr", 0xfee00000ULL);
	json_u64(&j, "n", 18446744073709551615ULL);
	json_bool(&j, "t", true);
	json_null(&j, "z");
	json_object_end(&j);
	json_object_end(&j);
	assert_int_equal(json_finish(&j), 0);
	fclose(f);
	assert_string_equal(buf, "{\n  \"a\": [],\n  \"o\": {\n    \"id\": \"0x1af4\",\n"
			    "    \"addr\": \"0xfee00000\",\n    \"n\": 18446744073709551615,\n"
			    "    \"t\": true,\n    \"z\": null\n  }\n}\n");
	free(buf);
}

static const fdt32_t *prop(const void *fdt, const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(fdt, path);
	const fdt32_t *v;

	if (node < 0) {
		print_error("no node %s: %s\n", path, fdt_strerror(node));
		fail();
	}
	v = fdt_getprop(fdt, node, name, len);
	if (!v) {
		print_error("no %s in %s\n", name, path);
		fail();
	}
	return v;
}

static void assert_cells(const fdt32_t *v, int len, const uint32_t *want, int n)
{
	int i;

	for (i = 0; i < n && len == n * 4; i++)
		if (fdt32_to_cpu(v[i]) != want[i])
			break;
	if (len == n * 4 && i == n)
		return;
	print_error("cells differ at %d:", i);
	for (i = 0; i < len / 4; i++)
		print_error(" 0x%x", fdt32_to_cpu(v[i]));
	print_error("\nwanted:");
	for (i = 0; i < n; i++)
		print_error(" 0x%x", want[i]);
	print_error("\n");
	fail();
}

static void test_fdt(void **state)
{
	struct fixture *x = fixture_new();
	const char *nic = "/pci@e0000000/pci@1/pci@0/pci8086,1521@3";
	void *blob;
	size_t size;
	int len;
	const fdt32_t *v;

	(void)state;
	assert_int_equal(print_fdt_build(&x->plan, &blob, &size), 0);
	assert_int_equal(fdt_check_header(blob), 0);
	assert_int_equal(fdt_totalsize(blob), size);

	/* BAR2 (I/O, register 0x18) and BAR3 of 02:03.0, with the n bit set. */
	v = prop(blob, nic, "assigned-addresses", &len);
	{
		const uint32_t want[] = {
			0x82021810, 0, 0xc0000000, 0, 0x20000,
			0x81021818, 0, 0x1000, 0, 0x20,
			0x8202181c, 0, 0xc0020000, 0, 0x4000,
		};
		assert_cells(v, len, want, 15);
	}
	v = prop(blob, nic, "reg", &len);
	assert_int_equal(fdt32_to_cpu(v[0]), 0x021800);
	assert_int_equal(len, 4 * 5 * 4);

	/* INTA of 02:03 -> INTD at br1 (01:00.0) -> INTD at root slot 1 -> GSI 20. */
	v = prop(blob, "/pci@e0000000/pci@1/pci@0", "interrupt-map", &len);
	{
		const uint32_t want[] = { 0x1800, 0, 0, 1, 3, 0x10000, 0, 0, 4 };
		assert_cells(v, len, want, 9);
	}
	v = prop(blob, "/pci@e0000000/pci@1", "interrupt-map", &len);
	{
		const uint32_t want[] = { 0x0, 0, 0, 4, 2, 0x800, 0, 0, 4 };
		assert_cells(v, len, want, 9);
	}
	v = prop(blob, "/pci@e0000000", "interrupt-map", &len);
	{
		const uint32_t want[] = { 0x800, 0, 0, 4, 1, 20, 1,
					  0x1000, 0, 0, 1, 1, 18, 1 };
		assert_cells(v, len, want, 14);
	}
	v = prop(blob, "/pci@e0000000", "ranges", &len);
	{
		const uint32_t want[] = {
			0x01000000, 0, 0x1000, 0, 0x1000, 0, 0xf000,
			0x02000000, 0, 0xc0000000, 0, 0xc0000000, 0, 0x20000000,
			0x43000000, 0x80, 0, 0x80, 0, 0x80, 0,
		};
		assert_cells(v, len, want, 21);
	}
	v = prop(blob, "/pci@e0000000/pci@3", "bus-range", &len);
	{
		const uint32_t want[] = { 3, 3 };
		assert_cells(v, len, want, 2);
	}
	v = prop(blob, "/isa/serial@i3f8", "reg", &len);
	{
		const uint32_t want[] = { 1, 0x3f8, 8 };
		assert_cells(v, len, want, 3);
	}
	v = prop(blob, "/isa/keyboard-controller@i60", "reg", &len);
	{
		const uint32_t want[] = { 1, 0x60, 1, 1, 0x64, 1 };
		assert_cells(v, len, want, 6);
	}
	v = prop(blob, "/memory@100000", "reg", &len);
	{
		const uint32_t want[] = { 0, 0x100000, 0, 0x7ff00000 };
		assert_cells(v, len, want, 4);
	}
	assert_true(fdt_path_offset(blob, "/cpus/cpu@1") >= 0);
	assert_true(fdt_path_offset(blob, "/cpus/cpu@2") < 0);
	free(blob);
	free(x);
}

/* dtc compiles our source and decompiles our blob without a warning. */
static void test_dtc(void **state)
{
	struct fixture *x = fixture_new();
	char dir[] = "/tmp/test_print.XXXXXX", cmd[512], path[128];
	FILE *f;
	long errsize;

	(void)state;
	if (system("command -v dtc >/dev/null 2>&1") != 0) {
		free(x);
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.dts", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(print_dts(f, &x->plan), 0);
	fclose(f);
	snprintf(path, sizeof(path), "%s/t.dtb", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(print_dtb(f, &x->plan), 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && dtc -I dts -O dtb -o a.dtb t.dts 2>err && "
		 "dtc -I dtb -O dts -o a.dts t.dtb 2>>err && "
		 "dtc -I dtb -O dts -o b.dts a.dtb 2>>err && cmp -s a.dts b.dts", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/err", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	errsize = ftell(f);
	fclose(f);
	if (errsize) {
		snprintf(cmd, sizeof(cmd), "cat %s/err >&2", dir);
		(void)!system(cmd);
	}
	assert_int_equal(errsize, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	free(x);
}

static void test_sizes(void **state)
{
	char buf[TOPO_SIZE_MAX];

	(void)state;
	assert_string_equal(size_str(0x40000000, buf, sizeof(buf)), "1 GiB");
	assert_string_equal(size_str(0xa0000, buf, sizeof(buf)), "640 KiB");
	assert_string_equal(size_str(0xbff00000, buf, sizeof(buf)), "3071 MiB");
	assert_string_equal(size_str(0x20, buf, sizeof(buf)), "32 bytes");
	assert_string_equal(size_str(1, buf, sizeof(buf)), "1 byte");
	assert_string_equal(size_str(0x1000000000ULL, buf, sizeof(buf)), "64 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_tree),
		cmocka_unit_test(test_text_maps),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_nesting),
		cmocka_unit_test(test_fdt),
		cmocka_unit_test(test_dtc),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
