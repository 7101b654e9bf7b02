/*
 * The VFIO opening layer without /dev/vfio: the error messages built from
 * inventory facts, the memlock check, the group and DMA bookkeeping over a
 * fake IOMMU backend, and the region helpers (sparse-mmap capability
 * parsing, the directly mappable parts of a BAR).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include "vfio/container.h"
#include "vfio/device.h"

static void make_host(struct host_device *d)
{
	memset(d, 0, sizeof(*d));
	d->bdf = (struct pci_bdf){ .domain = 0, .bus = 1, .dev = 0, .fn = 0 };
	d->iommu_group = 12;
	snprintf(d->driver, sizeof(d->driver), "nouveau");
	d->peers[0].bdf = (struct pci_bdf){ .domain = 0, .bus = 1, .dev = 0, .fn = 1 };
	snprintf(d->peers[0].driver, sizeof(d->peers[0].driver), "snd_hda_intel");
	d->peers[1].bdf = (struct pci_bdf){ .domain = 0, .bus = 0, .dev = 1, .fn = 0 };
	snprintf(d->peers[1].driver, sizeof(d->peers[1].driver), "pcieport");
	d->peers[1].is_bridge = true;
	d->peers[2].bdf = (struct pci_bdf){ .domain = 0, .bus = 1, .dev = 0, .fn = 2 };
	d->nr_peers = 3;
	d->nr_peers_total = 3;
}

static void test_msg_not_bound(void **state)
{
	struct host_device d;
	char buf[1024];

	(void)state;
	make_host(&d);
	vfio_msg_not_bound(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:01:00.0: not bound to vfio-pci (bound to nouveau)"));
	/* The command binds the function and the group members that block it, not bridges. */
	assert_non_null(strstr(buf, "vfio-bind 0000:01:00.0 0000:01:00.1 ("));
	assert_null(strstr(buf, "0000:00:01.0"));
	assert_null(strstr(buf, "0000:01:00.2"));

	d.driver[0] = 0;
	d.nr_peers = 0;
	vfio_msg_not_bound(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "(no driver)"));
	assert_non_null(strstr(buf, "vfio-bind 0000:01:00.0 ("));
}

static void test_msg_group(void **state)
{
	struct host_device d;
	char buf[1024], small[40];

	(void)state;
	make_host(&d);
	snprintf(d.driver, sizeof(d.driver), "vfio-pci");
	d.nr_peers_total = 5;
	vfio_msg_group_not_viable(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:01:00.0: IOMMU group 12 is not viable"));
	assert_non_null(strstr(buf, "0000:01:00.1 (bound to snd_hda_intel, blocks the group)"));
	assert_non_null(strstr(buf, "0000:00:01.0 (bound to pcieport, a bridge: fine)"));
	assert_non_null(strstr(buf, "0000:01:00.2 (no driver)"));
	assert_non_null(strstr(buf, "and 2 more"));
	assert_non_null(strstr(buf, "run (as root): vfio-bind 0000:01:00.1 ("));

	/* Too small a buffer: cut, terminated, marked. */
	memset(small, 'x', sizeof(small));
	vfio_msg_group_not_viable(&d, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(small + sizeof(small) - 4, "...");
}

static void test_msg_others(void **state)
{
	struct host_device d;
	char buf[1024];

	(void)state;
	make_host(&d);
	vfio_msg_no_intr_remap(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:01:00.0"));
	assert_non_null(strstr(buf, "interrupt remapping"));
	assert_non_null(strstr(buf, "allow_unsafe_interrupts"));
	assert_non_null(strstr(buf, "vfio_iommu_type1"));

	vfio_msg_busy(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:01:00.0: the device is busy"));
	assert_non_null(strstr(buf, "/dev/vfio/12"));

	vfio_msg_no_group_node(&d, EACCES, buf, sizeof(buf));
	assert_non_null(strstr(buf, "no permission to open /dev/vfio/12"));
	vfio_msg_no_group_node(&d, ENOENT, buf, sizeof(buf));
	assert_non_null(strstr(buf, "cannot open /dev/vfio/12"));
	assert_non_null(strstr(buf, "vfio-bind 0000:01:00.0"));
}

static void test_memlock(void **state)
{
	char buf[1024];

	(void)state;
	buf[0] = 0;
	assert_int_equal(vfio_check_memlock(4ull << 30, 64ull << 20, false, buf, sizeof(buf)),
			 -ENOMEM);
	assert_non_null(strstr(buf, "RLIMIT_MEMLOCK is 64 MiB"));
	assert_non_null(strstr(buf, "4 GiB needed"));
	assert_non_null(strstr(buf, "ulimit -l 4194304 "));
	assert_non_null(strstr(buf, "LimitMEMLOCK=4G "));
	assert_non_null(strstr(buf, "CAP_IPC_LOCK"));

	/* An uneven size: systemd's form rounds up to KiB. */
	vfio_check_memlock((4ull << 30) + 100, 8ull << 20, false, buf, sizeof(buf));
	assert_non_null(strstr(buf, "LimitMEMLOCK=4194305K "));
	assert_non_null(strstr(buf, "ulimit -l 4194305 "));

	buf[0] = 0;
	assert_int_equal(vfio_check_memlock(4ull << 30, 4ull << 30, false, buf, sizeof(buf)), 0);
	assert_int_equal(vfio_check_memlock(4ull << 30, 64ull << 20, true, buf, sizeof(buf)), 0);
	assert_int_equal(vfio_check_memlock(4ull << 30, (uint64_t)RLIM_INFINITY, false, buf,
					    sizeof(buf)), 0);
	assert_int_equal(buf[0], 0);
}

/* ---- a fake IOMMU backend ---- */

struct fake_iommu {
	int attached[8];
	unsigned int nr_attached;
	struct vfio_dma_range maps[8];
	unsigned int nr_maps;
	unsigned int nr_unmaps;
	uint64_t unmapped_iova[8];
	int map_error;
	bool closed;
};

static struct fake_iommu fio;

static int fake_open(struct vfio_iommu **io, const char *dev_root, char *err, size_t errlen)
{
	(void)dev_root;
	(void)err;
	(void)errlen;
	*io = (struct vfio_iommu *)&fio;
	return 0;
}

static int fake_attach(struct vfio_iommu *io, int group_fd)
{
	(void)io;
	fio.attached[fio.nr_attached++ % 8] = group_fd;
	return 0;
}

static void fake_detach(struct vfio_iommu *io, int group_fd)
{
	(void)io;
	(void)group_fd;
}

static int fake_map(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva)
{
	(void)io;
	if (fio.map_error)
		return fio.map_error;
	fio.maps[fio.nr_maps++ % 8] = (struct vfio_dma_range){ iova, size, hva };
	return 0;
}

static int fake_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	(void)io;
	(void)size;
	fio.unmapped_iova[fio.nr_unmaps++ % 8] = iova;
	return 0;
}

static void fake_close(struct vfio_iommu *io)
{
	(void)io;
	fio.closed = true;
}

static const struct vfio_iommu_ops fake_iommu_ops = {
	.name = "fake",
	.open = fake_open,
	.attach_group = fake_attach,
	.detach_group = fake_detach,
	.map_dma = fake_map,
	.unmap_dma = fake_unmap,
	.close = fake_close,
};

static void test_type1_no_vfio(void **state)
{
	struct vfio_container c;
	char root[] = "/tmp/test_vfio_devXXXXXX", err[512] = "";

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(vfio_container_open(&c, NULL, root, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/vfio/vfio"));
	assert_non_null(strstr(err, "modprobe vfio-pci"));
	rmdir(root);
}

static void test_get_device_errors(void **state)
{
	struct vfio_container c;
	struct host_device d;
	char root[] = "/tmp/test_vfio_devXXXXXX", path[256], err[1024];
	int fd;

	(void)state;
	memset(&fio, 0, sizeof(fio));
	assert_non_null(mkdtemp(root));
	assert_int_equal(vfio_container_open(&c, &fake_iommu_ops, root, err, sizeof(err)), 0);
	make_host(&d);

	/* Bound elsewhere: refused before anything is opened. */
	err[0] = 0;
	assert_int_equal(vfio_container_get_device(&c, &d, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "not bound to vfio-pci (bound to nouveau)"));
	assert_int_equal(c.nr_groups, 0);

	/* No IOMMU group at all. */
	d.iommu_group = -1;
	assert_int_equal(vfio_container_get_device(&c, &d, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no IOMMU group"));

	/* Bound, but no /dev/vfio/12. */
	d.iommu_group = 12;
	snprintf(d.driver, sizeof(d.driver), "vfio-pci");
	assert_int_equal(vfio_container_get_device(&c, &d, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open /dev/vfio/12"));

	/* A node that is not a VFIO group: the status ioctl fails, nothing attached. */
	snprintf(path, sizeof(path), "%s/vfio", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vfio/12", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	err[0] = 0;
	assert_true(vfio_container_get_device(&c, &d, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "VFIO_GROUP_GET_STATUS"));
	assert_int_equal(fio.nr_attached, 0);
	assert_int_equal(c.nr_groups, 0);

	vfio_container_close(&c);
	assert_true(fio.closed);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vfio", root);
	rmdir(path);
	rmdir(root);
}

static void test_map_ram(void **state)
{
	static uint8_t ram_a[4096], ram_b[4096];
	const struct vfio_dma_range ranges[] = {
		{ 0, sizeof(ram_a), ram_a },
		{ 0x100000000ull, sizeof(ram_b), ram_b },
	};
	struct vfio_container c;
	struct rlimit rl;
	char err[1024] = "";

	(void)state;
	memset(&fio, 0, sizeof(fio));
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 8192)
		skip();
	assert_int_equal(vfio_container_open(&c, &fake_iommu_ops, "/nonexistent", err,
					     sizeof(err)), 0);
	assert_int_equal(vfio_container_map_ram(&c, ranges, 2, err, sizeof(err)), 0);
	assert_int_equal(fio.nr_maps, 2);
	assert_int_equal(fio.maps[1].iova, 0x100000000ull);
	assert_ptr_equal(fio.maps[1].hva, ram_b);
	assert_int_equal(c.mapped, 8192);

	/* The kernel refusing to pin more: the memlock message. */
	fio.map_error = -ENOMEM;
	assert_int_equal(vfio_container_map_ram(&c, ranges, 1, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "RLIMIT_MEMLOCK"));
	assert_non_null(strstr(err, "12 KiB needed"));

	/* Teardown unmaps what was mapped, last first. */
	vfio_container_close(&c);
	assert_int_equal(fio.nr_unmaps, 2);
	assert_int_equal(fio.unmapped_iova[0], 0x100000000ull);
	assert_int_equal(fio.unmapped_iova[1], 0);
}

/* ---- region helpers ---- */

static void test_direct_areas(void **state)
{
	struct vfio_region r = {
		.present = true, .size = 0x4000,
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			 VFIO_REGION_INFO_FLAG_MMAP,
	};
	struct addr_range t[2] = { { 0x2000, 0x1000 }, { 0x3000, 0x1000 } };
	struct vfio_area out[4];
	int n;

	(void)state;
	/* MSI-X table and PBA pages at the end: the first half goes straight in. */
	n = vfio_region_direct_areas(&r, t, 2, out, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].offset, 0);
	assert_int_equal(out[0].size, 0x2000);

	/* A trap in the middle splits the BAR; unsorted traps are fine. */
	r.size = 0x10000;
	t[0] = (struct addr_range){ 0xc000, 0x1000 };
	t[1] = (struct addr_range){ 0x8000, 0x1000 };
	n = vfio_region_direct_areas(&r, t, 2, out, 4);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].offset, 0);
	assert_int_equal(out[0].size, 0x8000);
	assert_int_equal(out[1].offset, 0x9000);
	assert_int_equal(out[1].size, 0x3000);
	assert_int_equal(out[2].offset, 0xd000);
	assert_int_equal(out[2].size, 0x3000);
	assert_int_equal(vfio_region_direct_areas(&r, t, 2, out, 2), -ENOSPC);

	/* Sparse areas from an older kernel that already leave the table out. */
	r.sparse = true;
	r.nr_areas = 2;
	r.areas[0] = (struct vfio_area){ 0, 0x8000 };
	r.areas[1] = (struct vfio_area){ 0x9000, 0x7000 };
	t[0] = (struct addr_range){ 0x8000, 0x800 };	/* not page sized: widened */
	n = vfio_region_direct_areas(&r, t, 1, out, 4);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].size, 0x8000);
	assert_int_equal(out[1].offset, 0x9000);
	assert_int_equal(out[1].size, 0x7000);

	/* Not mmappable (an I/O BAR): nothing direct. */
	r.flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(vfio_region_direct_areas(&r, t, 1, out, 4), 0);
}

/* A GET_REGION_INFO answer: the info, one sparse-mmap capability, two areas. */
#define SPARSE_CAP	sizeof(struct vfio_region_info)
#define SPARSE_AREAS	(SPARSE_CAP + sizeof(struct vfio_region_info_cap_sparse_mmap))
#define SPARSE_LEN	(SPARSE_AREAS + 2 * sizeof(struct vfio_region_sparse_mmap_area))

struct sparse_info {
	struct vfio_region_info info;
	struct vfio_region_sparse_mmap_area areas[2];
	uint8_t buf[SPARSE_LEN];
	struct vfio_region_info_cap_sparse_mmap cap;	/* last: it ends in a flexible array */
};

/* The answer's bytes from the three parts. */
static const void *sparse_bytes(struct sparse_info *s)
{
	memcpy(s->buf, &s->info, sizeof(s->info));
	memcpy(s->buf + SPARSE_CAP, &s->cap, sizeof(s->cap));
	memcpy(s->buf + SPARSE_AREAS, s->areas, sizeof(s->areas));
	return s->buf;
}

static void make_sparse(struct sparse_info *s)
{
	memset(s, 0, sizeof(*s));
	s->info.argsz = SPARSE_LEN;
	s->info.flags = VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	s->info.cap_offset = SPARSE_CAP;
	s->info.size = 0x10000;
	s->cap.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	s->cap.header.version = 1;
	s->cap.nr_areas = 2;
	s->areas[0] = (struct vfio_region_sparse_mmap_area){ 0, 0x2000 };
	s->areas[1] = (struct vfio_region_sparse_mmap_area){ 0x3000, 0xd000 };
}

static void test_parse_sparse(void **state)
{
	struct vfio_region r = { .present = true, .size = 0x10000 };
	struct sparse_info s;

	(void)state;
	make_sparse(&s);
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), 0);
	assert_true(r.sparse);
	assert_int_equal(r.nr_areas, 2);
	assert_int_equal(r.areas[1].offset, 0x3000);
	assert_int_equal(r.areas[1].size, 0xd000);

	/* No capability flag: the whole region. */
	s.info.flags = VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), 0);
	assert_false(r.sparse);

	/* More areas than the answer holds. */
	make_sparse(&s);
	s.cap.nr_areas = 1000;
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), -EINVAL);
	/* The chain points outside the answer, or back on itself. */
	make_sparse(&s);
	s.info.cap_offset = SPARSE_LEN - 2;
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), -EINVAL);
	make_sparse(&s);
	s.cap.header.next = SPARSE_CAP;
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), -EINVAL);
	/* An area past the region. */
	make_sparse(&s);
	s.areas[1].size = 0xe000;
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN), -EINVAL);
	/* Cut short: the areas are not all there. */
	make_sparse(&s);
	assert_int_equal(vfio_region_parse_caps(&r, sparse_bytes(&s), SPARSE_LEN - 8), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_not_bound),
		cmocka_unit_test(test_msg_group),
		cmocka_unit_test(test_msg_others),
		cmocka_unit_test(test_memlock),
		cmocka_unit_test(test_type1_no_vfio),
		cmocka_unit_test(test_get_device_errors),
		cmocka_unit_test(test_map_ram),
		cmocka_unit_test(test_direct_areas),
		cmocka_unit_test(test_parse_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
