/*
 * The trap registry: registration rules, ordering, lookup, unregister,
 * dispatch and what nobody claims.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/io.h"

struct rec {
	unsigned int reads, writes;
	uint64_t offset, value;
	unsigned int len;
	uint64_t ret;
};

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned int len)
{
	struct rec *r = opaque;

	r->reads++;
	r->offset = offset;
	r->len = len;
	return r->ret;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned int len)
{
	struct rec *r = opaque;

	r->writes++;
	r->offset = offset;
	r->value = value;
	r->len = len;
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct io_ops null_ops = { 0 };
static struct rec dummy;

/* Register a recording range. */
static int reg(struct io_bus *bus, enum io_space sp, uint64_t base, uint64_t len)
{
	return io_bus_register(bus, sp, base, len, &rec_ops, &dummy, "t");
}

static void test_unclaimed_all_ones(void **state)
{
	struct io_bus bus;
	uint64_t v;

	io_bus_init(&bus);
	for (int sp = 0; sp < IO_NR_SPACES; sp++) {
		v = 0;
		assert_false(io_bus_read(&bus, sp, 0x3f8, 1, &v));
		assert_int_equal(v, 0xff);
		assert_false(io_bus_read(&bus, sp, 0x3f8, 2, &v));
		assert_int_equal(v, 0xffff);
		assert_false(io_bus_read(&bus, sp, 0x3f8, 4, &v));
		assert_int_equal(v, 0xffffffffULL);
		assert_false(io_bus_read(&bus, sp, 0x3f8, 8, &v));
		assert_true(v == ~0ULL);
		assert_false(io_bus_write(&bus, sp, 0x3f8, 1, 0));
	}
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0));
	io_bus_free(&bus);
}

static void test_register_invalid(void **state)
{
	struct io_bus bus;

	io_bus_init(&bus);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x10, 0), -EINVAL);
	assert_int_equal(io_bus_register(&bus, IO_SPACE_PIO, 0x10, 1, NULL, NULL, "x"), -EINVAL);
	assert_int_equal(reg(&bus, IO_NR_SPACES, 0x10, 1), -EINVAL);
	/* base + len wraps */
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, ~0ULL, 1), -EINVAL);
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, ~0ULL - 10, 12), -EINVAL);
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, 0x1000, ~0ULL), -EINVAL);
	/* port space is 16 bits */
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0xfffe, 4), -EINVAL);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x10000, 1), -EINVAL);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0xfffc, 4), 0);
	/* the last MMIO bytes below the wrap are fine */
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, ~0ULL - 0xfff, 0xfff), 0);
	assert_int_equal(bus.nr[IO_SPACE_PIO], 1);
	assert_int_equal(bus.nr[IO_SPACE_MMIO], 1);
	io_bus_free(&bus);
}

static void test_overlap(void **state)
{
	struct io_bus bus;

	io_bus_init(&bus);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x100, 0x10), 0);
	/* same, inside, straddling either end, covering */
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x100, 0x10), -EEXIST);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x104, 0x2), -EEXIST);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0xf8, 0x9), -EEXIST);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x10f, 0x8), -EEXIST);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x0, 0x1000), -EEXIST);
	/* touching is not overlapping */
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0xf8, 0x8), 0);
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x110, 0x8), 0);
	/* the other space is separate */
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, 0x100, 0x10), 0);
	assert_int_equal(bus.nr[IO_SPACE_PIO], 3);
	io_bus_free(&bus);
}

static void test_order_find_unregister(void **state)
{
	static const uint64_t bases[] = { 0x3f8, 0x60, 0xcf8, 0x70, 0x2f8, 0x64, 0x92 };
	static const uint64_t lens[] = { 8, 1, 8, 2, 8, 1, 1 };
	struct io_bus bus;
	const struct io_range *f;

	io_bus_init(&bus);
	for (unsigned int i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		assert_int_equal(reg(&bus, IO_SPACE_PIO, bases[i], lens[i]), 0);
	for (unsigned int i = 1; i < bus.nr[IO_SPACE_PIO]; i++)
		assert_true(bus.ranges[IO_SPACE_PIO][i - 1].base <
			    bus.ranges[IO_SPACE_PIO][i].base);

	f = io_bus_find(&bus, IO_SPACE_PIO, 0x3f8);
	assert_non_null(f);
	assert_int_equal(f->base, 0x3f8);
	f = io_bus_find(&bus, IO_SPACE_PIO, 0x3ff);
	assert_non_null(f);
	assert_int_equal(f->base, 0x3f8);
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x400));
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x3f7));
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x61));
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0));
	assert_null(io_bus_find(&bus, IO_SPACE_MMIO, 0x3f8));

	assert_int_equal(io_bus_unregister(&bus, IO_SPACE_PIO, 0x3f9), -ENOENT);
	assert_int_equal(io_bus_unregister(&bus, IO_SPACE_MMIO, 0x3f8), -ENOENT);
	assert_int_equal(io_bus_unregister(&bus, IO_SPACE_PIO, 0x3f8), 0);
	assert_int_equal(io_bus_unregister(&bus, IO_SPACE_PIO, 0x3f8), -ENOENT);
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x3f8));
	assert_non_null(io_bus_find(&bus, IO_SPACE_PIO, 0x2f8));
	assert_non_null(io_bus_find(&bus, IO_SPACE_PIO, 0xcfc));
	for (unsigned int i = 1; i < bus.nr[IO_SPACE_PIO]; i++)
		assert_true(bus.ranges[IO_SPACE_PIO][i - 1].base <
			    bus.ranges[IO_SPACE_PIO][i].base);
	/* the hole can be claimed again */
	assert_int_equal(reg(&bus, IO_SPACE_PIO, 0x3f8, 8), 0);
	io_bus_free(&bus);
}

static void test_dispatch(void **state)
{
	struct io_bus bus;
	struct rec a = { .ret = 0x1122334455667788ULL };
	uint64_t v;

	io_bus_init(&bus);
	assert_int_equal(io_bus_register(&bus, IO_SPACE_MMIO, 0xfe000000, 0x1000,
					 &rec_ops, &a, "a"), 0);
	assert_int_equal(io_bus_register(&bus, IO_SPACE_MMIO, 0xfe001000, 0x1000,
					 &null_ops, NULL, "b"), 0);

	assert_true(io_bus_read(&bus, IO_SPACE_MMIO, 0xfe000010, 4, &v));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.len, 4);
	assert_int_equal(v, 0x55667788);	/* masked to the access size */
	assert_true(io_bus_read(&bus, IO_SPACE_MMIO, 0xfe000ff8, 8, &v));
	assert_true(v == 0x1122334455667788ULL);

	assert_true(io_bus_write(&bus, IO_SPACE_MMIO, 0xfe000004, 2, 0xabcdef));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 4);
	assert_int_equal(a.value, 0xcdef);
	assert_int_equal(a.len, 2);

	/* bad sizes reach nobody */
	for (unsigned int len = 0; len <= 16; len++) {
		if (len == 1 || len == 2 || len == 4 || len == 8)
			continue;
		assert_false(io_bus_read(&bus, IO_SPACE_MMIO, 0xfe000000, len, &v));
		assert_false(io_bus_write(&bus, IO_SPACE_MMIO, 0xfe000000, len, 0));
	}
	assert_int_equal(a.reads, 2);
	assert_int_equal(a.writes, 1);

	/* a range without handlers: claimed, reads all ones, drops writes */
	assert_true(io_bus_read(&bus, IO_SPACE_MMIO, 0xfe001000, 2, &v));
	assert_int_equal(v, 0xffff);
	assert_true(io_bus_write(&bus, IO_SPACE_MMIO, 0xfe001000, 4, 1));

	/* just past both */
	assert_false(io_bus_read(&bus, IO_SPACE_MMIO, 0xfe002000, 1, &v));
	assert_int_equal(v, 0xff);
	io_bus_free(&bus);
}

static struct io_bus *reentry_bus;

static void reentry_write(void *opaque, uint64_t offset, uint64_t value,
			  unsigned int len)
{
	/* A handler moving a range (a BAR) must not deadlock the bus. */
	io_bus_unregister(reentry_bus, IO_SPACE_MMIO, 0x2000);
	reg(reentry_bus, IO_SPACE_MMIO, value, 0x1000);
}

static void test_handler_reenters(void **state)
{
	static const struct io_ops ops = { .write = reentry_write };
	struct io_bus bus;

	io_bus_init(&bus);
	reentry_bus = &bus;
	assert_int_equal(io_bus_register(&bus, IO_SPACE_MMIO, 0x1000, 8, &ops, NULL, "ctl"), 0);
	assert_int_equal(reg(&bus, IO_SPACE_MMIO, 0x2000, 0x1000), 0);
	assert_true(io_bus_write(&bus, IO_SPACE_MMIO, 0x1000, 8, 0x8000));
	assert_null(io_bus_find(&bus, IO_SPACE_MMIO, 0x2000));
	assert_non_null(io_bus_find(&bus, IO_SPACE_MMIO, 0x8fff));
	io_bus_free(&bus);
}

#define NR_MANY 1000

static void test_many_ranges(void **state)
{
	static unsigned int order[NR_MANY];
	struct io_bus bus;
	uint64_t v;

	io_bus_init(&bus);
	for (unsigned int i = 0; i < NR_MANY; i++)
		order[i] = i;
	srand(42);
	for (unsigned int i = NR_MANY - 1; i > 0; i--) {
		unsigned int j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* ranges of 0x100 every 0x1000, registered in random order */
	for (unsigned int i = 0; i < NR_MANY; i++)
		assert_int_equal(reg(&bus, IO_SPACE_MMIO,
				     0x100000000ULL + order[i] * 0x1000ULL, 0x100), 0);
	assert_int_equal(bus.nr[IO_SPACE_MMIO], NR_MANY);
	for (unsigned int i = 1; i < NR_MANY; i++)
		assert_true(bus.ranges[IO_SPACE_MMIO][i - 1].base <
			    bus.ranges[IO_SPACE_MMIO][i].base);

	for (unsigned int i = 0; i < NR_MANY; i++) {
		uint64_t base = 0x100000000ULL + i * 0x1000ULL;
		const struct io_range *f;

		f = io_bus_find(&bus, IO_SPACE_MMIO, base);
		assert_non_null(f);
		assert_true(f->base == base);
		f = io_bus_find(&bus, IO_SPACE_MMIO, base + 0xff);
		assert_non_null(f);
		assert_true(f->base == base);
		assert_null(io_bus_find(&bus, IO_SPACE_MMIO, base + 0x100));
		assert_null(io_bus_find(&bus, IO_SPACE_MMIO, base - 1));
		assert_true(io_bus_read(&bus, IO_SPACE_MMIO, base + 0x80, 4, &v));
		assert_true(dummy.offset == 0x80);
		assert_int_equal(reg(&bus, IO_SPACE_MMIO, base + 0x80, 0x1000), -EEXIST);
	}
	/* remove every other one; the rest still resolve */
	for (unsigned int i = 0; i < NR_MANY; i += 2)
		assert_int_equal(io_bus_unregister(&bus, IO_SPACE_MMIO,
						   0x100000000ULL + i * 0x1000ULL), 0);
	for (unsigned int i = 0; i < NR_MANY; i++) {
		const struct io_range *f = io_bus_find(&bus, IO_SPACE_MMIO,
						       0x100000000ULL + i * 0x1000ULL + 1);

		if (i % 2)
			assert_non_null(f);
		else
			assert_null(f);
	}
	io_bus_free(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unclaimed_all_ones),
		cmocka_unit_test(test_register_invalid),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_order_find_unregister),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_handler_reenters),
		cmocka_unit_test(test_many_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
