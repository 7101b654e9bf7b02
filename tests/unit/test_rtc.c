/*
 * The CMOS RTC through ports 0x70/0x71 with a pinned clock: BCD, binary,
 * 12-hour mode, registers A-D, setting the time, storage, hostile input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/io.h"
#include "legacy/rtc.h"

#define T_LEAP_AFTERNOON	1709214356LL	/* Thu 2024-02-29 13:45:56 UTC */
#define T_LEAP_MIDNIGHT		1709164805LL	/* Thu 2024-02-29 00:00:05 */
#define T_LEAP_NOON		1709209800LL	/* Thu 2024-02-29 12:30:00 */
#define T_Y2K_EVE		946684799LL	/* Fri 1999-12-31 23:59:59 */

struct fixture {
	struct io_bus bus;
	struct rtc *rtc;
	int64_t now;
};

static struct fixture *F;

static int64_t pinned(void *opaque)
{
	struct fixture *f = opaque;

	return f->now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->now = T_LEAP_AFTERNOON;
	io_bus_init(&f->bus);
	f->rtc = rtc_create(pinned, f);
	if (!f->rtc || rtc_register(f->rtc, &f->bus))
		return -1;
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rtc_destroy(f->rtc);
	io_bus_free(&f->bus);
	free(f);
	F = NULL;
	return 0;
}

static uint8_t cmos_read(uint8_t idx)
{
	uint64_t v = 0;

	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, 0x70, 1, idx));
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, 0x71, 1, &v));
	assert_true(v <= 0xff);
	return v;
}

static void cmos_write(uint8_t idx, uint8_t val)
{
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, 0x70, 1, idx));
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, 0x71, 1, val));
}

static void expect_time(const uint8_t want[8])
{
	static const uint8_t regs[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };

	for (unsigned int i = 0; i < 8; i++) {
		uint8_t got = cmos_read(regs[i]);

		if (got != want[i])
			fail_msg("CMOS register %#x: got %#x, want %#x",
				 regs[i], got, want[i]);
	}
}

static void test_bcd_24h(void **state)
{
	/* sec min hour wday mday mon year century */
	static const uint8_t want[8] = { 0x56, 0x45, 0x13, 5, 0x29, 0x02, 0x24, 0x20 };

	assert_int_equal(cmos_read(0x0a), 0x26);
	assert_int_equal(cmos_read(0x0b), 0x02);
	assert_int_equal(cmos_read(0x0d), 0x80);
	expect_time(want);
}

static void test_binary(void **state)
{
	static const uint8_t want[8] = { 56, 45, 13, 5, 29, 2, 24, 20 };
	static const uint8_t y2k[8] = { 59, 59, 23, 6, 31, 12, 99, 19 };

	cmos_write(0x0b, 0x06);		/* 24h, binary */
	assert_int_equal(cmos_read(0x0b), 0x06);
	expect_time(want);
	F->now = T_Y2K_EVE;
	expect_time(y2k);
	F->now++;
	assert_int_equal(cmos_read(9), 0);
	assert_int_equal(cmos_read(0x32), 20);
	assert_int_equal(cmos_read(6), 7);	/* Saturday */
}

static void test_12h(void **state)
{
	cmos_write(0x0b, 0x00);		/* 12h, BCD */
	assert_int_equal(cmos_read(4), 0x80 | 0x01);	/* 1 PM */
	F->now = T_LEAP_MIDNIGHT;
	assert_int_equal(cmos_read(4), 0x12);		/* 12 AM */
	F->now = T_LEAP_NOON;
	assert_int_equal(cmos_read(4), 0x80 | 0x12);	/* 12 PM */
	cmos_write(0x0b, 0x04);		/* 12h, binary */
	assert_int_equal(cmos_read(4), 0x80 | 12);
	F->now = T_LEAP_AFTERNOON;
	assert_int_equal(cmos_read(4), 0x80 | 1);
	F->now = T_LEAP_MIDNIGHT;
	assert_int_equal(cmos_read(4), 12);
}

static void test_register_c_read_clears(void **state)
{
	assert_int_equal(cmos_read(0x0c), 0);
	F->now++;
	assert_int_equal(cmos_read(0x0c), 0x10);	/* an update happened */
	assert_int_equal(cmos_read(0x0c), 0);
	/* with UIE on, IRQF goes with it */
	cmos_write(0x0b, 0x12);
	F->now += 5;
	assert_int_equal(cmos_read(0x0c), 0x90);
	assert_int_equal(cmos_read(0x0c), 0);
	/* C and D are read-only; A's UIP never shows */
	cmos_write(0x0c, 0xff);
	cmos_write(0x0d, 0x00);
	assert_int_equal(cmos_read(0x0c), 0);
	assert_int_equal(cmos_read(0x0d), 0x80);
	cmos_write(0x0a, 0xa6);
	assert_int_equal(cmos_read(0x0a), 0x26);
}

static void test_set_time(void **state)
{
	/* what Linux's mc146818_set_time() does: SET, write, clear SET */
	static const uint8_t set[8] = { 0x30, 0x15, 0x08, 2, 0x04, 0x07, 0x31, 0x20 };
	/* the day of the week follows from the date: a Friday */
	static const uint8_t run[8] = { 0x30, 0x15, 0x08, 6, 0x04, 0x07, 0x31, 0x20 };
	static const uint8_t later[8] = { 0x40, 0x15, 0x08, 6, 0x04, 0x07, 0x31, 0x20 };

	cmos_write(0x0b, 0x82);
	/* while SET, the registers hold still */
	F->now += 100;
	assert_int_equal(cmos_read(0), 0x56);
	cmos_write(0, 0x30);
	cmos_write(2, 0x15);
	cmos_write(4, 0x08);
	cmos_write(6, 2);
	cmos_write(7, 0x04);
	cmos_write(8, 0x07);
	cmos_write(9, 0x31);
	cmos_write(0x32, 0x20);
	expect_time(set);
	cmos_write(0x0b, 0x02);
	expect_time(run);		/* Fri 2031-07-04 08:15:30 */
	F->now += 10;
	expect_time(later);		/* and it runs */

	/* a lone write while running moves just that field */
	cmos_write(2, 0x59);
	assert_int_equal(cmos_read(2), 0x59);
	assert_int_equal(cmos_read(0), 0x40);
	F->now += 20;
	assert_int_equal(cmos_read(0), 0x00);
	assert_int_equal(cmos_read(2), 0x00);
	assert_int_equal(cmos_read(4), 0x09);

	/* garbage values never hurt */
	cmos_write(0x0b, 0x80);
	for (unsigned int r = 0; r < 10; r++)
		cmos_write(r, 0xff);
	cmos_write(0x32, 0xff);
	cmos_write(0x0b, 0x00);
	for (unsigned int r = 0; r < 10; r++)
		cmos_read(r);
}

static void test_storage_and_index(void **state)
{
	uint64_t v;

	for (unsigned int i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != 0x32)
			cmos_write(i, (uint8_t)(i * 7 + 1));
	for (unsigned int i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != 0x32)
			assert_int_equal(cmos_read(i), (uint8_t)(i * 7 + 1));
	/* bit 7 of the index is the NMI mask, not part of the index */
	assert_false(rtc_nmi_masked(F->rtc));
	assert_int_equal(cmos_read(0x80 | 0x10), (uint8_t)(0x10 * 7 + 1));
	assert_true(rtc_nmi_masked(F->rtc));
	cmos_write(0x80 | 0x11, 0x42);
	assert_int_equal(cmos_read(0x11), 0x42);
	assert_false(rtc_nmi_masked(F->rtc));
	assert_int_equal(cmos_read(0x80 | 0x00), 0x56);	/* seconds */
	/* the alarm bytes are storage too */
	cmos_write(1, 0x11);
	cmos_write(3, 0x22);
	cmos_write(5, 0x33);
	assert_int_equal(cmos_read(1), 0x11);
	assert_int_equal(cmos_read(3), 0x22);
	assert_int_equal(cmos_read(5), 0x33);
	/* the index port reads as all ones */
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, 0x70, 1, &v));
	assert_int_equal(v, 0xff);

	/* the VMM side */
	rtc_cmos_set(F->rtc, 0x34, 0x12);
	assert_int_equal(cmos_read(0x34), 0x12);
	assert_int_equal(rtc_cmos_get(F->rtc, 0x34), 0x12);
	rtc_cmos_set(F->rtc, 0x00, 0x99);		/* computed: ignored */
	assert_int_equal(rtc_cmos_get(F->rtc, 0x00), 0x56);
	F->now++;
	assert_int_equal(rtc_cmos_get(F->rtc, 0x0c), 0x10);
	assert_int_equal(rtc_cmos_get(F->rtc, 0x0c), 0x10);	/* no side effect */
	assert_int_equal(cmos_read(0x0c), 0x10);
	assert_int_equal(cmos_read(0x0c), 0x00);
}

static void test_wide_access(void **state)
{
	uint64_t v;

	/* outw 0x70: index in the low byte, data in the high byte */
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, 0x70, 2, 0x5a20));
	assert_int_equal(cmos_read(0x20), 0x5a);
	/* inw 0x70: 0xff from the index port, then the data */
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, 0x70, 1, 0x20));
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, 0x70, 2, &v));
	assert_int_equal(v, 0x5aff);
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, 0x71, 4, &v));
	assert_int_equal(v, 0xffffff5a);
}

static void test_host_clock(void **state)
{
	struct io_bus bus;
	struct rtc *rtc = rtc_create(NULL, NULL);
	uint64_t v;

	assert_non_null(rtc);
	io_bus_init(&bus);
	assert_int_equal(rtc_register(rtc, &bus), 0);
	assert_int_equal(rtc_register(rtc, &bus), -EEXIST);
	assert_true(io_bus_write(&bus, IO_SPACE_PIO, 0x70, 1, 0x32));
	assert_true(io_bus_read(&bus, IO_SPACE_PIO, 0x71, 1, &v));
	assert_int_equal(v, 0x20);	/* good until 2100 */
	assert_int_equal(rtc_unregister(rtc, &bus), 0);
	rtc_destroy(rtc);
	io_bus_free(&bus);
}

static void test_hostile(void **state)
{
	uint64_t v;

	for (unsigned int idx = 0; idx < 256; idx++) {
		for (unsigned int val = 0; val < 256; val++) {
			cmos_write(idx, val);
			cmos_read(idx);
		}
		F->now += 3601;
	}
	srand(5);
	for (unsigned int i = 0; i < 100000; i++) {
		static const unsigned int lens[] = { 1, 2, 4, 8 };
		unsigned int port = 0x70 + rand() % 2, len = lens[rand() % 4];
		uint64_t val = (uint64_t)rand() << 32 | rand();

		if (rand() % 2)
			io_bus_write(&F->bus, IO_SPACE_PIO, port, len, val);
		else
			io_bus_read(&F->bus, IO_SPACE_PIO, port, len, &v);
		F->now += rand() % 100000;
	}
	/* extreme clocks */
	F->now = 0;
	cmos_read(0);
	F->now = -1;
	cmos_read(9);
	F->now = INT64_MAX / 2;
	cmos_read(0x32);
	F->now = INT64_MIN / 2;
	cmos_read(0x32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bcd_24h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_12h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_c_read_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_and_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
		cmocka_unit_test(test_host_clock),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
