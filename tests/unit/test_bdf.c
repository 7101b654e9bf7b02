/* Unit tests of PCI address parsing and printing (src/pci/bdf.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pci/bdf.h"

static void test_parse_full(void **state)
{
	struct pci_bdf b;

	(void)state;
	assert_int_equal(pci_bdf_parse("0000:01:00.1", &b), 0);
	assert_int_equal(b.domain, 0);
	assert_int_equal(b.bus, 1);
	assert_int_equal(b.dev, 0);
	assert_int_equal(b.fn, 1);
	assert_int_equal(pci_bdf_parse("ABCD:fE:1f.7", &b), 0);
	assert_int_equal(b.domain, 0xabcd);
	assert_int_equal(b.bus, 0xfe);
	assert_int_equal(b.dev, 0x1f);
	assert_int_equal(b.fn, 7);
}

static void test_parse_short(void **state)
{
	struct pci_bdf b = { .domain = 0x1234 };

	(void)state;
	assert_int_equal(pci_bdf_parse("41:00.0", &b), 0);
	assert_int_equal(b.domain, 0);		/* implied */
	assert_int_equal(b.bus, 0x41);
	assert_int_equal(b.dev, 0);
	assert_int_equal(b.fn, 0);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "01:00", "01:00.", "1:00.0", "01:0.0", "001:00.0",
		"01:20.0",		/* device 0x20 > 31 */
		"01:00.8",		/* function 8 > 7 */
		"0000:01:00.0 ", " 0000:01:00.0", "0000:01:00.0x",
		"0000-01:00.0", "0000:01-00.0", "0000:01:00:0",
		"g000:01:00.0", "0000:0g:00.0", "00000:01:00.0",
		"+0:01:00.0",
	};
	struct pci_bdf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pci_bdf_parse(bad[i], &b) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(pci_bdf_parse(NULL, &b), -EINVAL);
}

static void test_format_round_trip(void **state)
{
	char buf[PCI_BDF_STRLEN];
	struct pci_bdf b, c;

	(void)state;
	assert_int_equal(pci_bdf_parse("ABCD:FE:1F.7", &b), 0);
	assert_string_equal(pci_bdf_format(&b, buf, sizeof(buf)), "abcd:fe:1f.7");
	assert_int_equal(pci_bdf_parse(buf, &c), 0);
	assert_true(pci_bdf_equal(&b, &c));
	c.fn = 6;
	assert_false(pci_bdf_equal(&b, &c));
	/* A short buffer is cut, never overrun. */
	assert_string_equal(pci_bdf_format(&b, buf, 5), "abcd");
}

static void test_order(void **state)
{
	static const char *const sorted[] = {
		"0000:00:00.0", "0000:00:00.7", "0000:00:1f.0", "0000:01:00.0",
		"0000:ff:00.0", "0001:00:00.0",
	};
	struct pci_bdf a, b;
	size_t i;

	(void)state;
	for (i = 0; i + 1 < sizeof(sorted) / sizeof(sorted[0]); i++) {
		assert_int_equal(pci_bdf_parse(sorted[i], &a), 0);
		assert_int_equal(pci_bdf_parse(sorted[i + 1], &b), 0);
		assert_true(pci_bdf_cmp(&a, &b) < 0);
		assert_true(pci_bdf_cmp(&b, &a) > 0);
		assert_int_equal(pci_bdf_cmp(&a, &a), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
