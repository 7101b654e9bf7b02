/* Unit tests of the machine file: every key, every default, every error message. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/config.h"

#define ERR_LEN		1024
#define MACHINE		"[machine]\nkernel = /boot/vmlinuz\n"	/* lines 1-2 */

/* Loads text as the machine file "t.ini"; returns config_load_stream's result. */
static int load_text(const char *text, struct vm_config *cfg, char *err)
{
	FILE *f;
	int ret;

	f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	ret = config_load_stream(f, "t.ini", cfg, err, ERR_LEN);
	fclose(f);
	return ret;
}

static void load_ok(const char *text, struct vm_config *cfg)
{
	char err[ERR_LEN] = "";
	int ret = load_text(text, cfg, err);

	if (ret)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(err, "");
}

static void expect_error(const char *text, const char *msg)
{
	struct vm_config cfg;
	char err[ERR_LEN] = "";

	assert_int_equal(load_text(text, &cfg, err), -EINVAL);
	assert_string_equal(err, msg);
	/* a failed load leaves nothing to free */
	assert_null(cfg.devices);
	assert_null(cfg.file);
	config_free(&cfg);
}

/* A file in a fresh directory; returns the directory (free it). */
static char *write_temp(const char *name, const char *text, char *path, size_t len)
{
	char tmpl[] = "/tmp/test_config.XXXXXX";
	char *dir = mkdtemp(tmpl);
	FILE *f;

	assert_non_null(dir);
	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return strdup(dir);
}

static void remove_temp(char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* --- the [machine] section ---------------------------------------------- */

static void test_machine_defaults(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE, &cfg);
	assert_string_equal(cfg.file, "t.ini");
	assert_string_equal(cfg.machine.name, "t");
	assert_int_equal(cfg.machine.cpus, 1);
	assert_int_equal(cfg.machine.memory, 512ULL << 20);
	assert_string_equal(cfg.machine.kernel, "/boot/vmlinuz");
	assert_null(cfg.machine.initrd);
	assert_string_equal(cfg.machine.cmdline, "console=ttyS0");
	assert_int_equal(cfg.machine.hugepages, HUGEPAGES_OFF);
	assert_int_equal(cfg.machine.phys_bits, 40);
	assert_int_equal(cfg.machine.on_reboot, REBOOT_RESET);
	assert_int_equal(cfg.machine.decompress, DECOMPRESS_VMM);
	assert_int_equal(cfg.machine.line, 1);
	assert_int_equal(cfg.machine.kernel_line, 2);
	assert_int_equal(cfg.machine.initrd_line, 0);
	/* no [serial]: com1 on stdio, implied */
	assert_int_equal(cfg.nr_serials, 1);
	assert_int_equal(cfg.serials[0].index, 0);
	assert_int_equal(cfg.serials[0].console.kind, CONSOLE_STDIO);
	assert_null(cfg.serials[0].console.path);
	assert_int_equal(cfg.serials[0].line, 0);
	assert_int_equal(cfg.nr_bridges, 0);
	assert_int_equal(cfg.nr_devices, 0);
	config_free(&cfg);
}

static void test_machine_all_keys(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok("; a comment\n"
		"[machine]\n"
		"name = big-vm_1.0\n"
		"cpus = 64\n"
		"memory = 0x100000000\n"
		"kernel = /k/bzImage\n"
		"initrd = /k/initrd.img\n"
		"cmdline = console=hvc0 quiet\n"
		"hugepages = 2M\n"
		"phys-bits = 52\n"
		"on-reboot = poweroff\n"
		"kernel-decompress = guest\n", &cfg);
	assert_string_equal(cfg.machine.name, "big-vm_1.0");
	assert_int_equal(cfg.machine.cpus, 64);
	assert_int_equal(cfg.machine.memory, 4ULL << 30);
	assert_string_equal(cfg.machine.kernel, "/k/bzImage");
	assert_string_equal(cfg.machine.initrd, "/k/initrd.img");
	assert_string_equal(cfg.machine.cmdline, "console=hvc0 quiet");
	assert_int_equal(cfg.machine.hugepages, HUGEPAGES_2M);
	assert_int_equal(cfg.machine.phys_bits, 52);
	assert_int_equal(cfg.machine.on_reboot, REBOOT_POWEROFF);
	assert_int_equal(cfg.machine.decompress, DECOMPRESS_GUEST);
	assert_int_equal(cfg.machine.line, 2);
	assert_int_equal(cfg.machine.kernel_line, 6);
	assert_int_equal(cfg.machine.initrd_line, 7);
	config_free(&cfg);
}

static void test_machine_limits(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE "cpus = 1\nmemory = 64M\nphys-bits = 36\nhugepages = off\n", &cfg);
	assert_int_equal(cfg.machine.memory, 64ULL << 20);
	assert_int_equal(cfg.machine.phys_bits, 36);
	config_free(&cfg);
	load_ok(MACHINE "memory = 1T\nhugepages = 1g\nphys-bits = 41\n", &cfg);
	assert_int_equal(cfg.machine.memory, 1ULL << 40);
	assert_int_equal(cfg.machine.hugepages, HUGEPAGES_1G);
	config_free(&cfg);
	load_ok(MACHINE "memory = 1536MiB\n", &cfg);
	assert_int_equal(cfg.machine.memory, 1536ULL << 20);
	config_free(&cfg);
}

static void test_empty_cmdline(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE "cmdline =\n", &cfg);
	assert_string_equal(cfg.machine.cmdline, "");
	config_free(&cfg);
}

static void test_size_parser(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("2M", &v), 0);
	assert_int_equal(v, 2ULL << 20);
	assert_int_equal(config_parse_size("3g", &v), 0);
	assert_int_equal(v, 3ULL << 30);
	assert_int_equal(config_parse_size("2T", &v), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_equal(config_parse_size("8GiB", &v), 0);
	assert_int_equal(v, 8ULL << 30);
	assert_int_equal(config_parse_size("0x1000", &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(config_parse_size("0X10M", &v), 0);
	assert_int_equal(v, 16ULL << 20);
	assert_int_equal(config_parse_size("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(config_parse_size("", &v), -EINVAL);
	assert_int_equal(config_parse_size("M", &v), -EINVAL);
	assert_int_equal(config_parse_size("0x", &v), -EINVAL);
	assert_int_equal(config_parse_size("-1", &v), -EINVAL);
	assert_int_equal(config_parse_size("1 G", &v), -EINVAL);
	assert_int_equal(config_parse_size("1GB", &v), -EINVAL);
	assert_int_equal(config_parse_size("1iB", &v), -EINVAL);
	assert_int_equal(config_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(config_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(config_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(config_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(config_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(config_parse_size("0x10000000000000000", &v), -ERANGE);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(device_kind_name(DEV_VIRTIO_BLK), "virtio-blk");
	assert_string_equal(device_kind_name(DEV_VIRTIO_NET), "virtio-net");
	assert_string_equal(device_kind_name(DEV_VIRTIO_CONSOLE), "virtio-console");
	assert_string_equal(device_kind_name(DEV_VIRTIO_RNG), "virtio-rng");
	assert_string_equal(device_kind_name(DEV_VFIO), "vfio");
	assert_string_equal(bridge_kind_name(BRIDGE_ROOT_PORT), "root-port");
	assert_string_equal(bridge_kind_name(BRIDGE_PCI), "pci-bridge");
	assert_string_equal(console_kind_name(CONSOLE_NONE), "none");
	assert_string_equal(console_kind_name(CONSOLE_STDIO), "stdio");
	assert_string_equal(console_kind_name(CONSOLE_PTY), "pty");
	assert_string_equal(console_kind_name(CONSOLE_FILE), "file");
}

/* --- lines: comments, continuation, long lines --------------------------- */

static void test_syntax_variants(void **state)
{
	struct vm_config cfg;

	(void)state;
	/* a UTF-8 BOM, CRLF, '#' and ';' comments, an inline comment, KEY: VALUE */
	load_ok("\xef\xbb\xbf# machine file\r\n"
		"[machine]   ; the machine\r\n"
		"   ; indented comment\r\n"
		"kernel = /boot/vmlinuz ; inline comment\r\n"
		"cpus: 3\r\n"
		"\r\n"
		"cmdline = a;b #c\r\n", &cfg);
	assert_string_equal(cfg.machine.kernel, "/boot/vmlinuz");
	assert_int_equal(cfg.machine.cpus, 3);
	/* ';' only starts a comment after whitespace; '#' only at line start */
	assert_string_equal(cfg.machine.cmdline, "a;b #c");
	assert_int_equal(cfg.machine.line, 2);
	config_free(&cfg);
}

static void test_long_cmdline_one_line(void **state)
{
	struct vm_config cfg;
	char text[1200], value[1001];

	(void)state;
	memset(value, 'a', 1000);
	value[1000] = '\0';
	value[500] = ' ';
	snprintf(text, sizeof(text), MACHINE "cmdline = %s\ncpus = 2\n", value);
	load_ok(text, &cfg);
	assert_int_equal(strlen(cfg.machine.cmdline), 1000);
	assert_string_equal(cfg.machine.cmdline, value);
	/* nothing after the long line was lost or split off */
	assert_int_equal(cfg.machine.cpus, 2);
	config_free(&cfg);
}

static void test_longest_line(void **state)
{
	struct vm_config cfg;
	char text[1200], value[1024];
	size_t n = 1023 - strlen("cmdline = ");

	(void)state;
	memset(value, 'x', n);
	value[n] = '\0';
	snprintf(text, sizeof(text), MACHINE "cmdline = %s\n", value);
	load_ok(text, &cfg);
	assert_int_equal(strlen(cfg.machine.cmdline), n);
	config_free(&cfg);
}

static void test_cmdline_continuation(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE
		"cmdline = console=ttyS0\n"
		"    root=/dev/vda rw   ; the root disk\n"
		"\n"
		"; a comment between continuation lines\n"
		"\tquiet\n"
		"cpus = 2\n", &cfg);
	assert_string_equal(cfg.machine.cmdline,
			    "console=ttyS0 root=/dev/vda rw quiet");
	assert_int_equal(cfg.machine.cpus, 2);
	config_free(&cfg);

	/* an empty first line adds no space */
	load_ok(MACHINE "cmdline =\n  a=1\n  b=2\n", &cfg);
	assert_string_equal(cfg.machine.cmdline, "a=1 b=2");
	config_free(&cfg);
}

static void test_cmdline_long_continuation(void **state)
{
	struct vm_config cfg;
	char *text, part[601];
	size_t len = 4096;

	(void)state;
	memset(part, 'p', 600);
	part[600] = '\0';
	text = malloc(len);
	assert_non_null(text);
	snprintf(text, len, MACHINE "cmdline = %s\n  %s\n  %s\n", part, part, part);
	load_ok(text, &cfg);
	assert_int_equal(strlen(cfg.machine.cmdline), 3 * 600 + 2);
	assert_int_equal(cfg.machine.cmdline[600], ' ');
	assert_int_equal(cfg.machine.cmdline[1201], ' ');
	config_free(&cfg);
	free(text);
}

/* --- serial ports and consoles ------------------------------------------- */

static void test_serials(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE
		"[serial \"com4\"]\n"
		"console = file:/var/log/guest.log\n"
		"[serial \"com2\"]\n"
		"console = pty\n"
		"[serial \"com1\"]\n"
		"[serial \"com3\"]\n"
		"console = stdio\n", &cfg);
	assert_int_equal(cfg.nr_serials, 4);
	/* sorted by port */
	assert_int_equal(cfg.serials[0].index, 0);
	assert_int_equal(cfg.serials[0].console.kind, CONSOLE_NONE);
	assert_int_equal(cfg.serials[0].console.line, 0);
	assert_int_equal(cfg.serials[0].line, 7);
	assert_int_equal(cfg.serials[1].index, 1);
	assert_int_equal(cfg.serials[1].console.kind, CONSOLE_PTY);
	assert_int_equal(cfg.serials[1].console.line, 6);
	assert_int_equal(cfg.serials[2].index, 2);
	assert_int_equal(cfg.serials[2].console.kind, CONSOLE_STDIO);
	assert_int_equal(cfg.serials[3].index, 3);
	assert_int_equal(cfg.serials[3].console.kind, CONSOLE_FILE);
	assert_string_equal(cfg.serials[3].console.path, "/var/log/guest.log");
	assert_int_equal(cfg.serials[3].line, 3);
	config_free(&cfg);
}

static void test_virtio_console_takes_stdio(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE "[device \"con0\"]\ntype = virtio-console\n", &cfg);
	assert_int_equal(cfg.nr_devices, 1);
	assert_int_equal(cfg.devices[0].kind, DEV_VIRTIO_CONSOLE);
	assert_int_equal(cfg.devices[0].console.kind, CONSOLE_STDIO);
	assert_int_equal(cfg.devices[0].console.line, 0);
	/* com1 still exists, but on none */
	assert_int_equal(cfg.nr_serials, 1);
	assert_int_equal(cfg.serials[0].index, 0);
	assert_int_equal(cfg.serials[0].console.kind, CONSOLE_NONE);
	assert_int_equal(cfg.serials[0].line, 0);
	config_free(&cfg);

	load_ok(MACHINE "[device \"con0\"]\ntype = virtio-console\nconsole = pty\n", &cfg);
	assert_int_equal(cfg.devices[0].console.kind, CONSOLE_PTY);
	assert_int_equal(cfg.devices[0].console.line, 5);
	assert_int_equal(cfg.serials[0].console.kind, CONSOLE_STDIO);
	config_free(&cfg);
}

/* --- devices -------------------------------------------------------------- */

static void test_blk_defaults(void **state)
{
	struct vm_config cfg;
	const struct device_config *d;

	(void)state;
	load_ok(MACHINE "[device \"disk0\"]\ntype = virtio-blk\npath = /images/root.img\n", &cfg);
	assert_int_equal(cfg.nr_devices, 1);
	d = &cfg.devices[0];
	assert_string_equal(d->name, "disk0");
	assert_int_equal(d->kind, DEV_VIRTIO_BLK);
	assert_int_equal(d->line, 3);
	assert_int_equal(d->at.bus, -1);
	assert_int_equal(d->at.slot, CFG_SLOT_AUTO);
	assert_int_equal(d->at.function, 0);
	assert_int_equal(d->at.bus_line, 0);
	assert_int_equal(d->at.slot_line, 0);
	assert_int_equal(d->at.function_line, 0);
	assert_string_equal(d->blk.path, "/images/root.img");
	assert_int_equal(d->blk.path_line, 5);
	assert_false(d->blk.readonly);
	assert_true(d->blk.discard);
	assert_int_equal(d->blk.cache, BLK_CACHE_WRITEBACK);
	assert_int_equal(d->blk.queues, 0);
	assert_int_equal(d->blk.queue_size, 256);
	assert_null(d->blk.serial);
	config_free(&cfg);
}

static void test_blk_all_keys(void **state)
{
	struct vm_config cfg;
	const struct device_config *d;

	(void)state;
	/* keys in any order: type last */
	load_ok(MACHINE "[device \"disk1\"]\n"
		"readonly = yes\n"
		"discard = off\n"
		"cache = direct\n"
		"queues = 4\n"
		"queue-size = 1024\n"
		"serial = 12345678901234567890\n"
		"path = /dev/vg0/data\n"
		"slot = 7\n"
		"type = virtio-blk\n", &cfg);
	d = &cfg.devices[0];
	assert_true(d->blk.readonly);
	assert_false(d->blk.discard);
	assert_int_equal(d->blk.cache, BLK_CACHE_DIRECT);
	assert_int_equal(d->blk.queues, 4);
	assert_int_equal(d->blk.queue_size, 1024);
	assert_string_equal(d->blk.serial, "12345678901234567890");
	assert_string_equal(d->blk.path, "/dev/vg0/data");
	assert_int_equal(d->at.slot, 7);
	assert_int_equal(d->at.slot_line, 11);
	config_free(&cfg);
}

static void test_booleans(void **state)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "False", "OFF" };
	struct vm_config cfg;
	char text[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), MACHINE
			 "[device \"d\"]\ntype = virtio-blk\npath = /d\nreadonly = %s\ndiscard = %s\n",
			 yes[i], no[i]);
		load_ok(text, &cfg);
		assert_true(cfg.devices[0].blk.readonly);
		assert_false(cfg.devices[0].blk.discard);
		config_free(&cfg);
	}
}

static void test_net(void **state)
{
	struct vm_config cfg;
	const struct net_config *n;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xCD, 0xef };

	(void)state;
	load_ok(MACHINE "[device \"net0\"]\ntype = virtio-net\ntap = tap0\n"
		"[device \"net1\"]\ntype = virtio-net\nfd = 7\nmac = 52:54:00:AB:cd:EF\nvhost = on\n"
		"queue-size = 1024\n",
		&cfg);
	assert_int_equal(cfg.nr_devices, 2);
	n = &cfg.devices[0].net;
	assert_string_equal(n->tap, "tap0");
	assert_int_equal(n->fd, -1);
	assert_false(n->mac_set);
	assert_false(n->vhost);
	assert_int_equal(n->queue_size, 256);
	assert_int_equal(n->tap_line, 5);
	n = &cfg.devices[1].net;
	assert_null(n->tap);
	assert_int_equal(n->fd, 7);
	assert_true(n->mac_set);
	assert_memory_equal(n->mac, mac, 6);
	assert_true(n->vhost);
	assert_int_equal(n->queue_size, 1024);
	assert_int_equal(n->tap_line, 8);
	config_free(&cfg);
}

/* Every power of two in range, in both device types; the smallest of each. */
static void test_queue_size(void **state)
{
	struct vm_config cfg;
	char text[256];
	unsigned int v;

	(void)state;
	for (v = 16; v <= 1024; v *= 2) {
		snprintf(text, sizeof(text), MACHINE
			 "[device \"d\"]\ntype = virtio-blk\npath = /d\nqueue-size = %u\n", v);
		load_ok(text, &cfg);
		assert_int_equal(cfg.devices[0].blk.queue_size, v);
		config_free(&cfg);
		if (v < 64)
			continue;
		snprintf(text, sizeof(text), MACHINE
			 "[device \"n\"]\ntype = virtio-net\ntap = t\nqueue-size = %u\n", v);
		load_ok(text, &cfg);
		assert_int_equal(cfg.devices[0].net.queue_size, v);
		config_free(&cfg);
	}
	/* a number as numbers are written elsewhere: leading zeros are decimal */
	load_ok(MACHINE "[device \"d\"]\ntype = virtio-blk\npath = /d\nqueue-size = 0512\n", &cfg);
	assert_int_equal(cfg.devices[0].blk.queue_size, 512);
	config_free(&cfg);
}

static void test_vfio_and_rng(void **state)
{
	struct vm_config cfg;
	const struct device_config *d;

	(void)state;
	load_ok(MACHINE "[device \"a\"]\ntype = vfio\nhost = 0000:0a:1f.7\n"
		"[device \"b\"]\ntype = vfio\nhost = 3b:00.0\nrom = off\n"
		"[device \"c\"]\ntype = vfio\nhost = 0001:3b:00.0\nrom = /fw/vbios.rom\n"
		"[device \"rng\"]\ntype = virtio-rng\nslot = 31\n", &cfg);
	assert_int_equal(cfg.nr_devices, 4);
	d = &cfg.devices[0];
	assert_int_equal(d->kind, DEV_VFIO);
	assert_int_equal(d->vfio.host.domain, 0);
	assert_int_equal(d->vfio.host.bus, 0x0a);
	assert_int_equal(d->vfio.host.dev, 0x1f);
	assert_int_equal(d->vfio.host.fn, 7);
	assert_int_equal(d->vfio.rom, ROM_AUTO);
	assert_null(d->vfio.rom_file);
	assert_int_equal(d->vfio.host_line, 5);
	assert_int_equal(d->vfio.rom_line, 0);
	d = &cfg.devices[1];
	assert_int_equal(d->vfio.host.bus, 0x3b);
	assert_int_equal(d->vfio.rom, ROM_OFF);
	assert_int_equal(d->vfio.rom_line, 9);
	d = &cfg.devices[2];
	assert_int_equal(d->vfio.host.domain, 1);
	assert_int_equal(d->vfio.rom, ROM_FILE);
	assert_string_equal(d->vfio.rom_file, "/fw/vbios.rom");
	d = &cfg.devices[3];
	assert_int_equal(d->kind, DEV_VIRTIO_RNG);
	assert_int_equal(d->at.slot, 31);
	config_free(&cfg);
}

static void test_bridges(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE
		"[device \"nvme\"]\ntype = vfio\nhost = 05:00.0\nbus = br1\n"	/* 3-6: bus defined later */
		"[pci \"rp0\"]\ntype = root-port\nslot = 4\n"			/* 7-9 */
		"[pci \"br1\"]\ntype = pci-bridge\nbus = rp0\n"		/* 10-12 */
		"[pci \"br2\"]\ntype = pci-bridge\nbus = br1\nslot = 3\nfunction = 2\n" /* 13-17 */
		"[device \"x\"]\ntype = virtio-rng\nbus = br1\nslot = 3\n",	/* 18-21 */
		&cfg);
	assert_int_equal(cfg.nr_bridges, 3);
	assert_string_equal(cfg.bridges[0].name, "rp0");
	assert_int_equal(cfg.bridges[0].kind, BRIDGE_ROOT_PORT);
	assert_int_equal(cfg.bridges[0].at.bus, -1);
	assert_int_equal(cfg.bridges[0].at.slot, 4);
	assert_int_equal(cfg.bridges[0].line, 7);
	assert_int_equal(cfg.bridges[1].kind, BRIDGE_PCI);
	assert_int_equal(cfg.bridges[1].at.bus, 0);
	/* on a root port's bus: slot 0, implied */
	assert_int_equal(cfg.bridges[1].at.slot, 0);
	assert_int_equal(cfg.bridges[1].at.bus_line, 12);
	assert_int_equal(cfg.bridges[2].at.bus, 1);
	assert_int_equal(cfg.bridges[2].at.slot, 3);
	assert_int_equal(cfg.bridges[2].at.function, 2);
	assert_int_equal(cfg.bridges[2].at.function_line, 17);
	assert_int_equal(cfg.devices[0].at.bus, 1);
	assert_int_equal(cfg.devices[0].at.slot, CFG_SLOT_AUTO);
	assert_int_equal(cfg.devices[1].at.bus, 1);
	assert_int_equal(cfg.devices[1].at.slot, 3);
	assert_int_equal(cfg.devices[1].at.function, 0);
	config_free(&cfg);
}

static void test_function_on_root_port(void **state)
{
	struct vm_config cfg;

	(void)state;
	/* function > 0 without a slot is fine behind a root port */
	load_ok(MACHINE "[pci \"rp0\"]\ntype = root-port\n"
		"[device \"f1\"]\ntype = vfio\nhost = 01:00.1\nbus = rp0\nfunction = 1\n"
		"[device \"f0\"]\ntype = vfio\nhost = 01:00.0\nbus = rp0\nslot = auto\n", &cfg);
	assert_int_equal(cfg.devices[0].at.slot, 0);
	assert_int_equal(cfg.devices[0].at.function, 1);
	assert_int_equal(cfg.devices[1].at.slot, 0);
	assert_int_equal(cfg.devices[1].at.function, 0);
	config_free(&cfg);
}

/* --- files: examples, paths, missing files -------------------------------- */

static void test_example_minimal(void **state)
{
	struct vm_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(config_load(SRCDIR "/etc/examples/minimal-virtio.ini",
				     &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.machine.cpus, 2);
	assert_int_equal(cfg.machine.memory, 1ULL << 30);
	assert_non_null(cfg.machine.initrd);
	assert_int_equal(cfg.nr_serials, 1);
	assert_int_equal(cfg.serials[0].console.kind, CONSOLE_STDIO);
	assert_int_equal(cfg.nr_devices, 3);
	assert_int_equal(cfg.devices[0].kind, DEV_VIRTIO_BLK);
	assert_string_equal(cfg.devices[0].blk.path,
			    SRCDIR "/etc/examples/minimal-root.img");
	assert_int_equal(cfg.devices[1].kind, DEV_VIRTIO_NET);
	assert_string_equal(cfg.devices[1].net.tap, "tap0");
	assert_int_equal(cfg.devices[2].kind, DEV_VIRTIO_RNG);
	config_free(&cfg);
}

static void test_example_nic(void **state)
{
	struct vm_config cfg;
	char err[ERR_LEN];
	unsigned int i, vfio = 0, blk = 0;

	(void)state;
	assert_int_equal(config_load(SRCDIR "/etc/examples/nic-passthrough.ini",
				     &cfg, err, sizeof(err)), 0);
	for (i = 0; i < cfg.nr_devices; i++) {
		const struct device_config *d = &cfg.devices[i];

		if (d->kind == DEV_VFIO) {
			vfio++;
			assert_int_equal(d->vfio.host.domain, 0);
			assert_int_equal(d->vfio.host.bus, 2);
			assert_int_equal(d->vfio.host.dev, 0);
			assert_int_equal(d->vfio.host.fn, 0);
		}
		blk += d->kind == DEV_VIRTIO_BLK;
	}
	assert_int_equal(vfio, 1);
	assert_int_equal(blk, 1);
	config_free(&cfg);
}

static void test_example_gpu(void **state)
{
	struct vm_config cfg;
	char err[ERR_LEN];
	const struct device_config *gpu, *audio;

	(void)state;
	assert_int_equal(config_load(SRCDIR "/etc/examples/gpu-passthrough.ini",
				     &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.machine.cpus, 8);
	assert_int_equal(cfg.machine.memory, 16ULL << 30);
	assert_int_equal(cfg.machine.hugepages, HUGEPAGES_1G);
	assert_int_equal(cfg.machine.phys_bits, 40);
	/* written over continuation lines */
	assert_non_null(strstr(cfg.machine.cmdline, "console=ttyS0 root=/dev/vda"));
	assert_null(strchr(cfg.machine.cmdline, '\n'));
	assert_int_equal(cfg.nr_bridges, 1);
	assert_string_equal(cfg.bridges[0].name, "rp0");
	assert_int_equal(cfg.bridges[0].kind, BRIDGE_ROOT_PORT);
	assert_int_equal(cfg.nr_devices, 3);
	gpu = &cfg.devices[0];
	audio = &cfg.devices[1];
	assert_int_equal(gpu->kind, DEV_VFIO);
	assert_int_equal(gpu->vfio.host.bus, 1);
	assert_int_equal(gpu->vfio.host.fn, 0);
	assert_int_equal(gpu->at.bus, 0);
	assert_int_equal(gpu->at.function, 0);
	assert_int_equal(audio->vfio.host.fn, 1);
	assert_int_equal(audio->at.bus, 0);
	assert_int_equal(audio->at.slot, 0);
	assert_int_equal(audio->at.function, 1);
	assert_int_equal(cfg.devices[2].kind, DEV_VIRTIO_BLK);
	config_free(&cfg);
}

static void test_missing_file(void **state)
{
	struct vm_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(config_load("/nonexistent/dir/m.ini", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/dir/m.ini: cannot open: No such file or directory");
	config_free(&cfg);
}

static void test_directory_not_file(void **state)
{
	struct vm_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(config_load("/", &cfg, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: cannot read: Is a directory");
}

static void test_relative_paths(void **state)
{
	struct vm_config cfg;
	char path[256], want[300], err[ERR_LEN];
	char *dir;

	(void)state;
	dir = write_temp("my-vm.ini",
			 "[machine]\nkernel = boot/vmlinuz\ninitrd = /abs/initrd\n"
			 "[serial \"com1\"]\nconsole = file:logs/com1.log\n"
			 "[device \"d\"]\ntype = virtio-blk\npath = ../disk.img\n"
			 "[device \"g\"]\ntype = vfio\nhost = 01:00.0\nrom = vbios.rom\n",
			 path, sizeof(path));
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.file, path);
	/* name: the file's base name without .ini */
	assert_string_equal(cfg.machine.name, "my-vm");
	snprintf(want, sizeof(want), "%s/boot/vmlinuz", dir);
	assert_string_equal(cfg.machine.kernel, want);
	assert_string_equal(cfg.machine.initrd, "/abs/initrd");
	snprintf(want, sizeof(want), "%s/logs/com1.log", dir);
	assert_string_equal(cfg.serials[0].console.path, want);
	snprintf(want, sizeof(want), "%s/../disk.img", dir);
	assert_string_equal(cfg.devices[0].blk.path, want);
	snprintf(want, sizeof(want), "%s/vbios.rom", dir);
	assert_string_equal(cfg.devices[1].vfio.rom_file, want);
	config_free(&cfg);
	remove_temp(dir, path);
}

static void test_paths_without_directory(void **state)
{
	struct vm_config cfg;

	(void)state;
	/* "t.ini" names no directory: relative paths stay as written */
	load_ok("[machine]\nkernel = vmlinuz\n", &cfg);
	assert_string_equal(cfg.machine.kernel, "vmlinuz");
	config_free(&cfg);
}

static void test_error_in_real_file(void **state)
{
	struct vm_config cfg;
	char path[256], want[400], err[ERR_LEN];
	char *dir;

	(void)state;
	dir = write_temp("bad.ini", "[machine]\nkernel = k\ncpus = 0\n", path, sizeof(path));
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: [machine] cpus: 0 is out of range, expected 1 to 64", path);
	assert_string_equal(err, want);
	remove_temp(dir, path);
}

static void test_small_errbuf(void **state)
{
	struct vm_config cfg;
	char err[16];
	FILE *f;

	(void)state;
	f = fmemopen((void *)"[machine]\n", 10, "r");
	assert_non_null(f);
	assert_int_equal(config_load_stream(f, "t.ini", &cfg, err, sizeof(err)), -EINVAL);
	fclose(f);
	assert_string_equal(err, "t.ini:1: [machi");
}

static void test_free_twice(void **state)
{
	struct vm_config cfg;

	(void)state;
	load_ok(MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nserial = s\n", &cfg);
	config_free(&cfg);
	config_free(&cfg);
	config_free(NULL);
}

/* --- the first error wins -------------------------------------------------- */

static void test_first_error_wins(void **state)
{
	(void)state;
	/* two bad values: the earlier line */
	expect_error(MACHINE "cpus = 0\nmemory = 1Q\n",
		     "t.ini:3: [machine] cpus: 0 is out of range, expected 1 to 64");
	/* a key not of the type (found once the section is read) before a bad value */
	expect_error(MACHINE "[device \"n\"]\npath = x\ntype = virtio-net\ntap = tap0\n"
		     "[machine]\n",
		     "t.ini:4: [device \"n\"] path: not a key of type virtio-net, expected one of tap, fd, mac, vhost, queue-size, bus, slot, function");
	/* a line error after a missing key: the line error, checks across lines wait */
	expect_error(MACHINE "[device \"d\"]\ntype = virtio-blk\n[device \"e\"]\ntype = virtio-rng\nslot = x\n",
		     "t.ini:7: [device \"e\"] slot: \"x\" is not a number, expected 0 to 31 or auto");
	/* among checks across lines: the earliest line */
	expect_error(MACHINE "[device \"a\"]\ntype = virtio-rng\nbus = nope\n"
		     "[device \"b\"]\ntype = virtio-blk\n",
		     "t.ini:5: [device \"a\"] bus: no [pci \"nope\"] in this file, expected the name of a [pci] bridge");
}

static void test_bad_nul_byte(void **state)
{
	static const char text[] = MACHINE "cpus = 2\0\n";
	struct vm_config cfg;
	char err[ERR_LEN];
	FILE *f;

	(void)state;
	f = fmemopen((void *)text, sizeof(text) - 1, "r");
	assert_non_null(f);
	assert_int_equal(config_load_stream(f, "t.ini", &cfg, err, sizeof(err)), -EINVAL);
	fclose(f);
	assert_string_equal(err, "t.ini:3: line holds a NUL byte, expected text");
}

/* Load 'len' bytes that may hold NULs; returns config_load_stream's result. */
static int load_bytes(const char *buf, size_t len, char *err)
{
	struct vm_config cfg;
	FILE *f = fmemopen((void *)buf, len, "r");
	int ret;

	assert_non_null(f);
	ret = config_load_stream(f, "t.ini", &cfg, err, ERR_LEN);
	fclose(f);
	if (!ret)
		config_free(&cfg);
	return ret;
}

/* A file with no newline (a device, a binary) is refused without reading it all. */
static void test_runaway_line(void **state)
{
	size_t len = 4u << 20, head = strlen(MACHINE);
	char *buf = malloc(len), err[ERR_LEN] = "";

	(void)state;
	assert_non_null(buf);
	memcpy(buf, MACHINE, head);
	memset(buf + head, 'x', len - head);
	assert_int_equal(load_bytes(buf, len, err), -EINVAL);
	assert_string_equal(err, "t.ini:3: line too long (more than 1048576 characters, at most 1023)");
	free(buf);
}

/* As /dev/zero gives: NULs without end. The first NUL ends the reading. */
static void test_nul_bytes(void **state)
{
	size_t len = 1u << 20;
	char *buf = calloc(1, len), err[ERR_LEN] = "";

	(void)state;
	assert_non_null(buf);
	assert_int_equal(load_bytes(buf, len, err), -EINVAL);
	assert_string_equal(err, "t.ini:1: line holds a NUL byte, expected text");
	memcpy(buf, MACHINE "cpus = 2", strlen(MACHINE "cpus = 2"));
	assert_int_equal(load_bytes(buf, len, err), -EINVAL);
	assert_string_equal(err, "t.ini:3: line holds a NUL byte, expected text");
	free(buf);
}

static void test_bad_cmdline_too_long(void **state)
{
	char *text, part[701];
	size_t len = 4096;

	(void)state;
	memset(part, 'c', 700);
	part[700] = '\0';
	text = malloc(len);
	assert_non_null(text);
	/* three lines of 700: 2102 bytes once joined */
	snprintf(text, len, MACHINE "cmdline = %s\n  %s\n  %s\n", part, part, part);
	expect_error(text, "t.ini:3: [machine] cmdline: 2102 bytes long, expected at most 2047 (the kernel's limit)");
	free(text);
}

/* --- broken files, one message each ----------------------------------------- */

#define BAD(name, text, msg)					\
static void test_bad_##name(void **state)			\
{								\
	(void)state;						\
	expect_error(text, msg);				\
}

BAD(line_too_long,
    MACHINE "cmdline = "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaa\n"	/* 10 + 1015 = 1025 characters */
    "[bogus]\n",
    "t.ini:3: line too long (1025 characters, at most 1023)")
BAD(memory_beyond_phys_bits, MACHINE "memory = 1T\n",
    "t.ini:3: [machine] memory: 1T of RAM reaches 0x1033fffffff and needs 41 physical address bits, expected phys-bits = 41 or more")
BAD(phys_bits_too_few, MACHINE "phys-bits = 36\nmemory = 64G\n",
    "t.ini:4: [machine] memory: 64G of RAM reaches 0x103fffffff and needs 37 physical address bits, expected phys-bits = 37 or more")
BAD(no_machine, "; nothing but a comment\n",
    "t.ini: [machine]: missing section, expected a [machine] section with kernel = PATH")
BAD(no_kernel, "\n[machine]\ncpus = 2\n",
    "t.ini:2: [machine] kernel: missing, a machine needs a kernel to boot (kernel = PATH)")
BAD(key_before_section, "cpus = 2\n" MACHINE,
    "t.ini:1: cpus: key outside any section, expected a [section] header before it")
BAD(unknown_section, MACHINE "[disk \"d\"]\npath = x\n",
    "t.ini:3: [disk \"d\"]: unknown section, expected [machine], [serial \"comN\"], [pci \"NAME\"] or [device \"NAME\"]")
BAD(section_case, MACHINE "[Device \"d\"]\n",
    "t.ini:3: [Device \"d\"]: unknown section, expected [machine], [serial \"comN\"], [pci \"NAME\"] or [device \"NAME\"]")
BAD(section_without_name, MACHINE "[device]\ntype = virtio-rng\n",
    "t.ini:3: [device]: missing name, expected [device \"NAME\"]")
BAD(section_unquoted_name, MACHINE "[pci rp0]\n",
    "t.ini:3: [pci rp0]: bad section name, expected [pci \"NAME\"]")
BAD(machine_with_name, "[machine \"x\"]\nkernel = k\n",
    "t.ini:1: [machine \"x\"]: unexpected name, expected [machine]")
BAD(section_no_bracket, MACHINE "[device \"d\"\n",
    "t.ini:3: section header without \"]\", expected [section] or [section \"name\"]")
BAD(section_trailing_text, MACHINE "[device \"d\"] type = vfio\n",
    "t.ini:3: [device \"d\"]: text after \"]\", expected nothing or a comment")
BAD(bad_name, MACHINE "[device \"disk 0\"]\n",
    "t.ini:3: [device \"disk 0\"]: \"disk 0\" is not a valid name, expected 1 to 63 characters of A-Z a-z 0-9 _ . -")
BAD(name_too_long, MACHINE
    "[pci \"n123456789n123456789n123456789n123456789n123456789n123456789abcd\"]\n",
    "t.ini:3: [pci \"n123456789n123456789n123456789n1...]: \"n123456789n123456789n123456789n123456...\" is not a valid name, expected 1 to 63 characters of A-Z a-z 0-9 _ . -")
BAD(bad_serial_port, MACHINE "[serial \"ttyS0\"]\n",
    "t.ini:3: [serial \"ttyS0\"]: unknown serial port, expected com1, com2, com3 or com4")
BAD(duplicate_machine, MACHINE "[machine]\n",
    "t.ini:3: [machine]: duplicate section (first at line 1), expected one [machine] section")
BAD(duplicate_serial, MACHINE "[serial \"com2\"]\n[serial \"com2\"]\n",
    "t.ini:4: [serial \"com2\"]: duplicate section (first at line 3), expected each serial port once")
BAD(duplicate_device, MACHINE "[device \"d\"]\ntype = virtio-rng\n[device \"d\"]\n",
    "t.ini:5: [device \"d\"]: name already used by [device \"d\"] (line 3), expected a name unique among [pci] and [device] sections")
BAD(bridge_device_same_name, MACHINE "[pci \"x\"]\ntype = pci-bridge\n[device \"x\"]\n",
    "t.ini:5: [device \"x\"]: name already used by [pci \"x\"] (line 3), expected a name unique among [pci] and [device] sections")
BAD(not_key_value, MACHINE "cpus 2\n",
    "t.ini:3: [machine]: \"cpus 2\" is not a KEY = VALUE line, expected KEY = VALUE, a [section] header or a comment")
BAD(no_key, MACHINE "= 2\n",
    "t.ini:3: [machine]: no key before \"=\", expected KEY = VALUE")
BAD(unknown_machine_key, MACHINE "ram = 1G\n",
    "t.ini:3: [machine] ram: unknown key, expected one of name, cpus, memory, kernel, initrd, cmdline, hugepages, phys-bits, on-reboot, kernel-decompress")
BAD(key_case, MACHINE "CPUS = 2\n",
    "t.ini:3: [machine] CPUS: unknown key, expected one of name, cpus, memory, kernel, initrd, cmdline, hugepages, phys-bits, on-reboot, kernel-decompress")
BAD(unknown_serial_key, MACHINE "[serial \"com1\"]\nbaud = 9600\n",
    "t.ini:4: [serial \"com1\"] baud: unknown key, expected console")
BAD(duplicate_key, MACHINE "cpus = 2\ncpus = 4\n",
    "t.ini:4: [machine] cpus: duplicate key (first at line 3), expected each key once")
BAD(empty_kernel, "[machine]\nkernel =\n",
    "t.ini:2: [machine] kernel: empty value, expected a path to the kernel image")
BAD(cpus_range, MACHINE "cpus = 65\n",
    "t.ini:3: [machine] cpus: 65 is out of range, expected 1 to 64")
BAD(cpus_junk, MACHINE "cpus = 4x\n",
    "t.ini:3: [machine] cpus: \"4x\" is not a number, expected 1 to 64")
BAD(cpus_hex, MACHINE "cpus = 0x4\n",
    "t.ini:3: [machine] cpus: \"0x4\" is not a number, expected 1 to 64")
BAD(cpus_negative, MACHINE "cpus = -1\n",
    "t.ini:3: [machine] cpus: \"-1\" is not a number, expected 1 to 64")
BAD(memory_not_size, MACHINE "memory = 12Q\n",
    "t.ini:3: [machine] memory: \"12Q\" is not a size, expected a number with an optional K, M, G or T suffix")
BAD(memory_small, MACHINE "memory = 32M\n",
    "t.ini:3: [machine] memory: 32M is too small, expected at least 64M")
BAD(memory_large, MACHINE "memory = 2T\n",
    "t.ini:3: [machine] memory: 2T is too large, expected at most 1T")
BAD(memory_overflow, MACHINE "memory = 99999999999999999999\n",
    "t.ini:3: [machine] memory: 99999999999999999999 is too large, expected at most 1T")
BAD(memory_unaligned, MACHINE "memory = 1048577K\n",
    "t.ini:3: [machine] memory: 1048577K is not a multiple of 1M, expected whole megabytes")
BAD(hugepages_word, MACHINE "hugepages = 4M\n",
    "t.ini:3: [machine] hugepages: \"4M\" is not a huge page size, expected off, 2M or 1G")
BAD(hugepages_memory, MACHINE "memory = 1536M\nhugepages = 1G\n",
    "t.ini:3: [machine] memory: 1536M is not a multiple of the 1G huge page size, expected a multiple of 1G")
BAD(hugepages_default_memory, MACHINE "hugepages = 1G\n",
    "t.ini:3: [machine] hugepages: 1G pages do not fit memory = 512M (the default), expected memory = a multiple of 1G")
BAD(phys_bits, MACHINE "phys-bits = 57\n",
    "t.ini:3: [machine] phys-bits: 57 is out of range, expected 36 to 52")
BAD(on_reboot, MACHINE "on-reboot = halt\n",
    "t.ini:3: [machine] on-reboot: \"halt\" is not a reboot action, expected reset or poweroff")
BAD(kernel_decompress, MACHINE "kernel-decompress = host\n",
    "t.ini:3: [machine] kernel-decompress: \"host\" is not who decompresses the kernel, expected vmm or guest")
BAD(machine_name, MACHINE "name = my vm\n",
    "t.ini:3: [machine] name: \"my vm\" is not a valid name, expected 1 to 63 characters of A-Z a-z 0-9 _ . -")
BAD(indented_keys, MACHINE "[device \"disk0\"]\n    type = virtio-blk\n    path = disk.img\n",
    "t.ini:5: [device \"disk0\"] type: indented line continues type, expected keys in the first column (only cmdline takes continuation lines)")
BAD(serial_console, MACHINE "[serial \"com1\"]\nconsole = tty\n",
    "t.ini:4: [serial \"com1\"] console: \"tty\" is not a console, expected stdio, pty, file:PATH or none")
BAD(console_file_empty, MACHINE "[serial \"com2\"]\nconsole = file:\n",
    "t.ini:4: [serial \"com2\"] console: \"file:\" without a path, expected file:PATH")
BAD(two_stdio_serials, MACHINE "[serial \"com1\"]\nconsole = stdio\n[serial \"com2\"]\nconsole = stdio\n",
    "t.ini:6: [serial \"com2\"] console: stdio is taken by [serial \"com1\"] (line 4), expected one stdio console")
BAD(stdio_virtio_console_default, MACHINE "[serial \"com1\"]\nconsole = stdio\n[device \"con\"]\ntype = virtio-console\n",
    "t.ini:5: [device \"con\"] console: stdio (the virtio-console default) is taken by [serial \"com1\"] (line 4), expected one stdio console")
BAD(stdio_console_first, MACHINE "[device \"con\"]\ntype = virtio-console\nconsole = stdio\n[serial \"com1\"]\nconsole = stdio\n",
    "t.ini:7: [serial \"com1\"] console: stdio is taken by [device \"con\"] (line 5), expected one stdio console")
BAD(device_no_type, MACHINE "[device \"d\"]\npath = /x\n",
    "t.ini:3: [device \"d\"] type: missing, a device needs type = virtio-blk, virtio-net, virtio-console, virtio-rng or vfio")
BAD(device_bad_type, MACHINE "[device \"d\"]\ntype = virtio-gpu\n",
    "t.ini:4: [device \"d\"] type: \"virtio-gpu\" is not a device type, expected virtio-blk, virtio-net, virtio-console, virtio-rng or vfio")
BAD(device_empty_type, MACHINE "[device \"d\"]\ntype =\n",
    "t.ini:4: [device \"d\"] type: empty value, expected virtio-blk, virtio-net, virtio-console, virtio-rng or vfio")
BAD(key_of_other_type, MACHINE "[device \"net0\"]\ntype = virtio-net\ntap = tap0\npath = disk.img\n",
    "t.ini:6: [device \"net0\"] path: not a key of type virtio-net, expected one of tap, fd, mac, vhost, queue-size, bus, slot, function")
BAD(unknown_device_key, MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nsize = 1G\n",
    "t.ini:6: [device \"d\"] size: unknown key, expected one of path, readonly, discard, cache, queues, queue-size, serial, bus, slot, function")
BAD(rng_takes_no_keys, MACHINE "[device \"r\"]\ntype = virtio-rng\nrate = 10\n",
    "t.ini:5: [device \"r\"] rate: unknown key, expected one of bus, slot, function")
BAD(blk_no_path, MACHINE "[device \"disk0\"]\ntype = virtio-blk\nreadonly = true\n",
    "t.ini:3: [device \"disk0\"] path: missing, a virtio-blk needs a disk image path")
BAD(blk_bool, MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nreadonly = maybe\n",
    "t.ini:6: [device \"d\"] readonly: \"maybe\" is not a boolean, expected true, false, yes, no, on, off, 1 or 0")
BAD(blk_cache, MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\ncache = none\n",
    "t.ini:6: [device \"d\"] cache: \"none\" is not a cache mode, expected writeback or direct")
BAD(blk_queues, MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueues = 0\n",
    "t.ini:6: [device \"d\"] queues: 0 is out of range, expected 1 to 64")
BAD(blk_queue_size_not_power_of_two,
    MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueue-size = 1000\n",
    "t.ini:6: [device \"d\"] queue-size: 1000 is not a power of two, expected 16, 32, 64, 128, 256, 512 or 1024")
BAD(blk_queue_size_small,
    MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueue-size = 8\n",
    "t.ini:6: [device \"d\"] queue-size: 8 is out of range, expected 16, 32, 64, 128, 256, 512 or 1024")
BAD(blk_queue_size_large,
    MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueue-size = 2048\n",
    "t.ini:6: [device \"d\"] queue-size: 2048 is out of range, expected 16, 32, 64, 128, 256, 512 or 1024")
BAD(blk_queue_size_zero,
    MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueue-size = 0\n",
    "t.ini:6: [device \"d\"] queue-size: 0 is out of range, expected 16, 32, 64, 128, 256, 512 or 1024")
BAD(blk_queue_size_junk,
    MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nqueue-size = 1K\n",
    "t.ini:6: [device \"d\"] queue-size: \"1K\" is not a number, expected 16, 32, 64, 128, 256, 512 or 1024")
BAD(blk_serial, MACHINE "[device \"d\"]\ntype = virtio-blk\npath = x\nserial = 123456789012345678901\n",
    "t.ini:6: [device \"d\"] serial: \"123456789012345678901\" is 21 bytes long, expected at most 20")
BAD(net_no_backend, MACHINE "[device \"n\"]\ntype = virtio-net\nvhost = on\n",
    "t.ini:3: [device \"n\"] tap: missing, a virtio-net needs tap = IFNAME or fd = N")
BAD(net_tap_and_fd, MACHINE "[device \"n\"]\ntype = virtio-net\nfd = 3\ntap = tap0\n",
    "t.ini:6: [device \"n\"] tap: tap and fd both given, expected exactly one of them")
BAD(net_tap_name, MACHINE "[device \"n\"]\ntype = virtio-net\ntap = tap0-for-the-guest\n",
    "t.ini:5: [device \"n\"] tap: \"tap0-for-the-guest\" is not an interface name, expected 1 to 15 characters of A-Z a-z 0-9 _ . -")
BAD(net_fd, MACHINE "[device \"n\"]\ntype = virtio-net\nfd = -1\n",
    "t.ini:5: [device \"n\"] fd: \"-1\" is not a number, expected an open file descriptor, 0 or more")
BAD(net_mac_format, MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nmac = 52:54:00:12:34\n",
    "t.ini:6: [device \"n\"] mac: \"52:54:00:12:34\" is not a MAC address, expected six hex bytes like 52:54:00:12:34:56")
BAD(net_mac_multicast, MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nmac = 01:00:5e:00:00:01\n",
    "t.ini:6: [device \"n\"] mac: 01:00:5e:00:00:01 is a multicast address, expected a unicast address (first byte even)")
BAD(net_mac_zero, MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nmac = 00:00:00:00:00:00\n",
    "t.ini:6: [device \"n\"] mac: 00:00:00:00:00:00 is all zeros, expected a unicast address")
BAD(net_queue_size_small,
    MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nqueue-size = 32\n",
    "t.ini:6: [device \"n\"] queue-size: 32 is out of range, expected 64, 128, 256, 512 or 1024")
BAD(net_queue_size_not_power_of_two,
    MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nqueue-size = 1000\n",
    "t.ini:6: [device \"n\"] queue-size: 1000 is not a power of two, expected 64, 128, 256, 512 or 1024")
BAD(net_queue_size_large,
    MACHINE "[device \"n\"]\ntype = virtio-net\ntap = t\nqueue-size = 2048\n",
    "t.ini:6: [device \"n\"] queue-size: 2048 is out of range, expected 64, 128, 256, 512 or 1024")
BAD(queue_size_not_for_console,
    MACHINE "[device \"c\"]\ntype = virtio-console\nqueue-size = 256\n",
    "t.ini:5: [device \"c\"] queue-size: not a key of type virtio-console, expected one of console, bus, slot, function")
BAD(vfio_no_host, MACHINE "[device \"gpu\"]\ntype = vfio\nrom = off\n",
    "t.ini:3: [device \"gpu\"] host: missing, a vfio device needs a host PCI address (host = DDDD:BB:DD.F)")
BAD(vfio_bad_bdf, MACHINE "[device \"gpu\"]\ntype = vfio\nhost = 0000:01:20.0\n",
    "t.ini:5: [device \"gpu\"] host: \"0000:01:20.0\" is not a PCI address, expected DDDD:BB:DD.F or BB:DD.F (hex)")
BAD(vfio_same_host, MACHINE "[device \"a\"]\ntype = vfio\nhost = 01:00.0\n"
    "[device \"b\"]\ntype = vfio\nhost = 0000:01:00.0\n",
    "t.ini:8: [device \"b\"] host: 0000:01:00.0 is already passed through by [device \"a\"] (line 3), expected each host function once")
BAD(bridge_no_type, MACHINE "[pci \"rp0\"]\nslot = 2\n",
    "t.ini:3: [pci \"rp0\"] type: missing, a [pci] bridge needs type = root-port or pci-bridge")
BAD(bridge_bad_type, MACHINE "[pci \"rp0\"]\ntype = pcie-root-port\n",
    "t.ini:4: [pci \"rp0\"] type: \"pcie-root-port\" is not a bridge type, expected root-port or pci-bridge")
BAD(bridge_unknown_key, MACHINE "[pci \"rp0\"]\ntype = root-port\nchassis = 1\n",
    "t.ini:5: [pci \"rp0\"] chassis: unknown key, expected one of type, bus, slot, function")
BAD(root_port_on_bridge, MACHINE "[pci \"br\"]\ntype = pci-bridge\n[pci \"rp\"]\ntype = root-port\nbus = br\n",
    "t.ini:7: [pci \"rp\"] bus: a root-port sits on the root bus, expected no bus = in a root-port")
BAD(bridge_cycle, MACHINE "[pci \"b1\"]\ntype = pci-bridge\nbus = b2\n[pci \"b2\"]\ntype = pci-bridge\nbus = b1\n",
    "t.ini:5: [pci \"b1\"] bus: \"b2\" leads back to this bridge, expected bridges that end at the root bus")
BAD(bridge_on_itself, MACHINE "[pci \"b1\"]\ntype = pci-bridge\nbus = b1\n",
    "t.ini:5: [pci \"b1\"] bus: \"b1\" leads back to this bridge, expected bridges that end at the root bus")
BAD(bus_undefined, MACHINE "[device \"d\"]\ntype = virtio-rng\nbus = rp9\n",
    "t.ini:5: [device \"d\"] bus: no [pci \"rp9\"] in this file, expected the name of a [pci] bridge")
BAD(bus_is_device, MACHINE "[device \"d\"]\ntype = virtio-rng\nbus = e\n[device \"e\"]\ntype = virtio-rng\n",
    "t.ini:5: [device \"d\"] bus: \"e\" is a [device], expected the name of a [pci] bridge")
BAD(slot_range, MACHINE "[device \"d\"]\ntype = virtio-rng\nslot = 32\n",
    "t.ini:5: [device \"d\"] slot: 32 is out of range, expected 0 to 31 or auto")
BAD(function_range, MACHINE "[device \"d\"]\ntype = virtio-rng\nslot = 3\nfunction = 8\n",
    "t.ini:6: [device \"d\"] function: 8 is out of range, expected 0 to 7")
BAD(slot_taken, MACHINE "[device \"a\"]\ntype = virtio-rng\nslot = 3\n"
    "[pci \"b\"]\ntype = pci-bridge\nslot = 3\n",
    "t.ini:8: [pci \"b\"] slot: slot 3 function 0 of the root bus is taken by [device \"a\"] (line 3), expected a free slot or function")
BAD(root_port_slot_taken, MACHINE "[pci \"rp0\"]\ntype = root-port\n"
    "[device \"a\"]\ntype = virtio-rng\nbus = rp0\n[device \"b\"]\ntype = virtio-rng\nbus = rp0\n",
    "t.ini:10: [device \"b\"] bus: slot 0 function 0 of bus rp0 is taken by [device \"a\"] (line 5), expected a free slot or function")
BAD(root_port_slot_nonzero, MACHINE "[pci \"rp0\"]\ntype = root-port\n"
    "[device \"a\"]\ntype = virtio-rng\nbus = rp0\nslot = 1\n",
    "t.ini:8: [device \"a\"] slot: rp0 is a root port, its bus has only slot 0, expected slot = 0 or no slot")
BAD(host_bridge_slot, MACHINE "[device \"a\"]\ntype = virtio-rng\nslot = 0\n",
    "t.ini:5: [device \"a\"] slot: slot 0 of the root bus holds the host bridge, expected 1 to 31 or auto")
BAD(function_without_slot, MACHINE "[device \"a\"]\ntype = virtio-rng\nfunction = 1\n",
    "t.ini:5: [device \"a\"] function: function = 1 needs an explicit slot, expected slot = N in this section")
BAD(function_without_function0, MACHINE "[device \"a\"]\ntype = virtio-rng\nslot = 5\nfunction = 2\n",
    "t.ini:6: [device \"a\"] function: slot 5 of the root bus has no function 0, expected a function 0 in the same slot")

#define BAD_TEST(name) cmocka_unit_test(test_bad_##name)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_defaults),
		cmocka_unit_test(test_machine_all_keys),
		cmocka_unit_test(test_machine_limits),
		cmocka_unit_test(test_empty_cmdline),
		cmocka_unit_test(test_size_parser),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_syntax_variants),
		cmocka_unit_test(test_long_cmdline_one_line),
		cmocka_unit_test(test_longest_line),
		cmocka_unit_test(test_cmdline_continuation),
		cmocka_unit_test(test_cmdline_long_continuation),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_virtio_console_takes_stdio),
		cmocka_unit_test(test_blk_defaults),
		cmocka_unit_test(test_blk_all_keys),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_queue_size),
		cmocka_unit_test(test_vfio_and_rng),
		cmocka_unit_test(test_bridges),
		cmocka_unit_test(test_function_on_root_port),
		cmocka_unit_test(test_example_minimal),
		cmocka_unit_test(test_example_nic),
		cmocka_unit_test(test_example_gpu),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory_not_file),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_paths_without_directory),
		cmocka_unit_test(test_error_in_real_file),
		cmocka_unit_test(test_small_errbuf),
		cmocka_unit_test(test_free_twice),
		cmocka_unit_test(test_first_error_wins),
		BAD_TEST(line_too_long),
		BAD_TEST(memory_beyond_phys_bits),
		BAD_TEST(phys_bits_too_few),
		cmocka_unit_test(test_runaway_line),
		cmocka_unit_test(test_nul_bytes),
		BAD_TEST(nul_byte),
		BAD_TEST(no_machine),
		BAD_TEST(no_kernel),
		BAD_TEST(key_before_section),
		BAD_TEST(unknown_section),
		BAD_TEST(section_case),
		BAD_TEST(section_without_name),
		BAD_TEST(section_unquoted_name),
		BAD_TEST(machine_with_name),
		BAD_TEST(section_no_bracket),
		BAD_TEST(section_trailing_text),
		BAD_TEST(bad_name),
		BAD_TEST(name_too_long),
		BAD_TEST(bad_serial_port),
		BAD_TEST(duplicate_machine),
		BAD_TEST(duplicate_serial),
		BAD_TEST(duplicate_device),
		BAD_TEST(bridge_device_same_name),
		BAD_TEST(not_key_value),
		BAD_TEST(no_key),
		BAD_TEST(unknown_machine_key),
		BAD_TEST(key_case),
		BAD_TEST(unknown_serial_key),
		BAD_TEST(duplicate_key),
		BAD_TEST(empty_kernel),
		BAD_TEST(cpus_range),
		BAD_TEST(cpus_junk),
		BAD_TEST(cpus_hex),
		BAD_TEST(cpus_negative),
		BAD_TEST(memory_not_size),
		BAD_TEST(memory_small),
		BAD_TEST(memory_large),
		BAD_TEST(memory_overflow),
		BAD_TEST(memory_unaligned),
		BAD_TEST(hugepages_word),
		BAD_TEST(hugepages_memory),
		BAD_TEST(hugepages_default_memory),
		BAD_TEST(phys_bits),
		BAD_TEST(on_reboot),
		BAD_TEST(kernel_decompress),
		BAD_TEST(machine_name),
		BAD_TEST(cmdline_too_long),
		BAD_TEST(indented_keys),
		BAD_TEST(serial_console),
		BAD_TEST(console_file_empty),
		BAD_TEST(two_stdio_serials),
		BAD_TEST(stdio_virtio_console_default),
		BAD_TEST(stdio_console_first),
		BAD_TEST(device_no_type),
		BAD_TEST(device_bad_type),
		BAD_TEST(device_empty_type),
		BAD_TEST(key_of_other_type),
		BAD_TEST(unknown_device_key),
		BAD_TEST(rng_takes_no_keys),
		BAD_TEST(blk_no_path),
		BAD_TEST(blk_bool),
		BAD_TEST(blk_cache),
		BAD_TEST(blk_queues),
		BAD_TEST(blk_queue_size_not_power_of_two),
		BAD_TEST(blk_queue_size_small),
		BAD_TEST(blk_queue_size_large),
		BAD_TEST(blk_queue_size_zero),
		BAD_TEST(blk_queue_size_junk),
		BAD_TEST(blk_serial),
		BAD_TEST(net_no_backend),
		BAD_TEST(net_tap_and_fd),
		BAD_TEST(net_tap_name),
		BAD_TEST(net_fd),
		BAD_TEST(net_mac_format),
		BAD_TEST(net_mac_multicast),
		BAD_TEST(net_mac_zero),
		BAD_TEST(net_queue_size_small),
		BAD_TEST(net_queue_size_not_power_of_two),
		BAD_TEST(net_queue_size_large),
		BAD_TEST(queue_size_not_for_console),
		BAD_TEST(vfio_no_host),
		BAD_TEST(vfio_bad_bdf),
		BAD_TEST(vfio_same_host),
		BAD_TEST(bridge_no_type),
		BAD_TEST(bridge_bad_type),
		BAD_TEST(bridge_unknown_key),
		BAD_TEST(root_port_on_bridge),
		BAD_TEST(bridge_cycle),
		BAD_TEST(bridge_on_itself),
		BAD_TEST(bus_undefined),
		BAD_TEST(bus_is_device),
		BAD_TEST(slot_range),
		BAD_TEST(function_range),
		BAD_TEST(slot_taken),
		BAD_TEST(root_port_slot_taken),
		BAD_TEST(root_port_slot_nonzero),
		BAD_TEST(host_bridge_slot),
		BAD_TEST(function_without_slot),
		BAD_TEST(function_without_function0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
