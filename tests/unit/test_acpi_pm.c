/*
 * The ACPI PM1 registers through their ports: SCI_EN reads set, status bits
 * clear on a written 1, and only S5 with SLP_EN powers off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/io.h"
#include "legacy/acpi_pm.h"
#include "x86/acpi.h"

struct fixture {
	struct io_bus bus;
	struct acpi_pm *pm;
	int poweroffs;
};

static void count_poweroff(void *opaque)
{
	struct fixture *f = opaque;

	f->poweroffs++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	io_bus_init(&f->bus);
	f->pm = acpi_pm_create(count_poweroff, f);
	if (!f->pm || acpi_pm_register(f->pm, &f->bus))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acpi_pm_destroy(f->pm);
	io_bus_free(&f->bus);
	free(f);
	return 0;
}

static uint64_t in(struct fixture *f, uint16_t port, unsigned int len)
{
	uint64_t v = 0;

	assert_true(io_bus_read(&f->bus, IO_SPACE_PIO, port, len, &v));
	return v;
}

static void out(struct fixture *f, uint16_t port, unsigned int len, uint64_t v)
{
	assert_true(io_bus_write(&f->bus, IO_SPACE_PIO, port, len, v));
}

static void test_sci_en_reads_set(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SCI_EN, 1);
	out(f, ACPI_PM1A_CNT_BLK, 2, 0);
	assert_int_equal(in(f, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SCI_EN, 1);
}

static void test_s5_powers_off_only_with_slp_en(void **state)
{
	struct fixture *f = *state;
	uint16_t typ = ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT;

	/* ACPICA writes SLP_TYP alone first, then with SLP_EN. */
	out(f, ACPI_PM1A_CNT_BLK, 2, typ | ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(f->poweroffs, 0);
	assert_int_equal(in(f, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_TYP_MASK, typ);
	out(f, ACPI_PM1A_CNT_BLK, 2, typ | ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(f->poweroffs, 1);
	/* SLP_EN is write-only. */
	assert_int_equal(in(f, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_EN, 0);
}

static void test_other_sleep_states_ignored(void **state)
{
	struct fixture *f = *state;

	for (unsigned int t = 0; t < 8; t++) {
		if (t == ACPI_S5_SLP_TYP)
			continue;
		out(f, ACPI_PM1A_CNT_BLK, 2,
		    (t << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN);
	}
	assert_int_equal(f->poweroffs, 0);
}

static void test_byte_writes_reach_s5(void **state)
{
	struct fixture *f = *state;
	uint16_t v = (ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN;

	out(f, ACPI_PM1A_CNT_BLK, 1, v & 0xff);
	assert_int_equal(f->poweroffs, 0);
	out(f, ACPI_PM1A_CNT_BLK + 1, 1, v >> 8);
	assert_int_equal(f->poweroffs, 1);
}

static void test_status_write_one_to_clear(void **state)
{
	struct fixture *f = *state;

	/* Enable bits are plain storage; status starts clear and stays clear. */
	out(f, ACPI_PM1A_EVT_BLK + 2, 2, 0x0120);
	assert_int_equal(in(f, ACPI_PM1A_EVT_BLK + 2, 2), 0x0120);
	assert_int_equal(in(f, ACPI_PM1A_EVT_BLK, 4), 0x01200000);
	out(f, ACPI_PM1A_EVT_BLK, 2, 0xffff);
	assert_int_equal(in(f, ACPI_PM1A_EVT_BLK, 2), 0);
	assert_int_equal(in(f, ACPI_PM1A_EVT_BLK + 2, 2), 0x0120);
	/* A dword write sets the enables and clears the status at once. */
	out(f, ACPI_PM1A_EVT_BLK, 4, 0x0001ffff);
	assert_int_equal(in(f, ACPI_PM1A_EVT_BLK, 4), 0x00010000);
}

static void test_ports_claimed(void **state)
{
	struct fixture *f = *state;
	const struct io_range *r;

	r = io_bus_find(&f->bus, IO_SPACE_PIO, 0x600);
	assert_non_null(r);
	assert_int_equal(r->len, ACPI_PM1_EVT_LEN);
	r = io_bus_find(&f->bus, IO_SPACE_PIO, 0x604);
	assert_non_null(r);
	assert_int_equal(r->len, ACPI_PM1_CNT_LEN);
	assert_null(io_bus_find(&f->bus, IO_SPACE_PIO, 0x606));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sci_en_reads_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s5_powers_off_only_with_slp_en, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_states_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_writes_reach_s5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_write_one_to_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_claimed, setup, teardown),
	};

	return cmocka_run_group_tests_name("acpi_pm", tests, NULL, NULL);
}
