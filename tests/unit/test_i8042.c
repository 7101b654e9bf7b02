/*
 * The i8042 and port 0x92 driven through the io_bus: Linux's probe, the
 * keyboard's replies, both reset paths, IRQ 1/12 gating, hostile input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/io.h"
#include "legacy/i8042.h"

#define DATA	0x60
#define CMD	0x64

#define STR_OBF		0x01
#define STR_IBF		0x02
#define STR_SYS		0x04
#define STR_CMDDAT	0x08
#define STR_KEYLOCK	0x10
#define STR_AUXDATA	0x20
#define STR_TIMEOUT	0x40

#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

struct irq_rec {
	int level;
	unsigned int raises;
};

static void irq_rec_set(void *opaque, unsigned int gsi, int level)
{
	struct irq_rec *r = opaque;

	if (level && !r->level)
		r->raises++;
	r->level = level;
}

struct fixture {
	struct io_bus bus;
	struct i8042 *kbc;
	struct irq_rec kbd, aux;
	unsigned int resets;
};

static struct fixture *F;

static void reset_cb(void *opaque)
{
	struct fixture *f = opaque;

	f->resets++;
}

static uint8_t in(unsigned int port)
{
	uint64_t v = 0;

	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, port, 1, &v));
	assert_true(v <= 0xff);
	return v;
}

static void out(unsigned int port, uint8_t v)
{
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, port, 1, v));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct irq_line kl, al;

	if (!f)
		return -1;
	io_bus_init(&f->bus);
	kl = (struct irq_line){ .set = irq_rec_set, .opaque = &f->kbd, .gsi = I8042_KBD_IRQ };
	al = (struct irq_line){ .set = irq_rec_set, .opaque = &f->aux, .gsi = I8042_AUX_IRQ };
	f->kbc = i8042_create(&kl, &al, reset_cb, f);
	if (!f->kbc || i8042_register(f->kbc, &f->bus))
		return -1;
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8042_destroy(f->kbc);
	io_bus_free(&f->bus);
	free(f);
	F = NULL;
	return 0;
}

/* i8042_wait_read()/i8042_read_data(): one byte, or -1 when none comes. */
static int read_byte(void)
{
	if (!(in(CMD) & STR_OBF))
		return -1;
	return in(DATA);
}

/* drivers/input/serio/i8042.c: __i8042_command(); -1 on a timeout. */
static int command(uint8_t *param, unsigned int cmd)
{
	unsigned int nparam = (cmd >> 12) & 0xf, nret = (cmd >> 8) & 0xf;
	uint8_t str;

	if (in(CMD) & STR_IBF)
		return -1;
	out(CMD, cmd & 0xff);
	for (unsigned int i = 0; i < nparam; i++) {
		if (in(CMD) & STR_IBF)
			return -1;
		out(DATA, param[i]);
	}
	for (unsigned int i = 0; i < nret; i++) {
		str = in(CMD);
		if (!(str & STR_OBF))
			return -1;
		if ((cmd & 0xff) == 0xd3 && !(str & STR_AUXDATA))
			return -1;
		param[i] = in(DATA);
	}
	return 0;
}

#define I8042_CMD_CTL_RCTR	0x0120
#define I8042_CMD_CTL_WCTR	0x1060
#define I8042_CMD_CTL_TEST	0x01aa
#define I8042_CMD_AUX_DISABLE	0x00a7
#define I8042_CMD_AUX_ENABLE	0x00a8
#define I8042_CMD_AUX_TEST	0x01a9
#define I8042_CMD_AUX_SEND	0x10d4
#define I8042_CMD_AUX_LOOP	0x11d3

static int flush(void)
{
	int n = 0;

	while ((in(CMD) & STR_OBF) && n < 16) {
		in(DATA);
		n++;
	}
	return n;
}

/* The probe of i8042_controller_check/selftest/init and i8042_check_aux. */
static void test_linux_probe(void **state)
{
	uint8_t param, ctr[2];

	/* i8042_controller_check */
	assert_true(flush() < 16);
	/* i8042_controller_selftest */
	assert_int_equal(command(&param, I8042_CMD_CTL_TEST), 0);
	assert_int_equal(param, 0x55);
	/* i8042_controller_init: CTR read until stable */
	assert_int_equal(command(&ctr[0], I8042_CMD_CTL_RCTR), 0);
	assert_int_equal(command(&ctr[1], I8042_CMD_CTL_RCTR), 0);
	assert_int_equal(ctr[0], ctr[1]);
	assert_true(ctr[0] & CTR_XLATE);
	assert_true(in(CMD) & STR_KEYLOCK);	/* no "Keylock active" */
	ctr[0] |= CTR_KBDDIS;
	ctr[0] &= ~CTR_KBDINT;
	assert_int_equal(command(&ctr[0], I8042_CMD_CTL_WCTR), 0);
	assert_int_equal(command(&ctr[1], I8042_CMD_CTL_RCTR), 0);
	assert_int_equal(ctr[1], ctr[0]);
	assert_int_equal(flush(), 0);

	/* i8042_check_aux: the loop test */
	param = 0x5a;
	assert_int_equal(command(&param, I8042_CMD_AUX_LOOP), 0);
	assert_int_equal(param, 0x5a);
	/* i8042_toggle_aux */
	assert_int_equal(command(&param, I8042_CMD_AUX_DISABLE), 0);
	assert_int_equal(command(&param, I8042_CMD_CTL_RCTR), 0);
	assert_true(param & CTR_AUXDIS);
	assert_int_equal(command(&param, I8042_CMD_AUX_ENABLE), 0);
	assert_int_equal(command(&param, I8042_CMD_CTL_RCTR), 0);
	assert_false(param & CTR_AUXDIS);
	/* the AUX IRQ delivery test */
	ctr[0] = param | CTR_AUXINT;
	ctr[0] &= ~CTR_AUXDIS;
	assert_int_equal(command(&ctr[0], I8042_CMD_CTL_WCTR), 0);
	assert_int_equal(F->aux.level, 0);
	param = 0xa5;
	assert_int_equal(command(&param, I8042_CMD_AUX_LOOP & 0xf0ff), 0);
	assert_int_equal(F->aux.level, 1);
	assert_int_equal(F->kbd.level, 0);
	/* i8042_aux_test_irq */
	assert_int_equal(in(CMD) & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	assert_int_equal(in(DATA), 0xa5);
	assert_int_equal(F->aux.level, 0);

	/* i8042_set_mux_mode(1): the third byte comes back unchanged: no MUX */
	param = 0xf0;
	assert_int_equal(command(&param, I8042_CMD_AUX_LOOP), 0);
	assert_int_equal(param, 0xf0);
	param = 0x56;
	assert_int_equal(command(&param, I8042_CMD_AUX_LOOP), 0);
	assert_int_equal(param, 0x56);
	param = 0xa4;
	assert_int_equal(command(&param, I8042_CMD_AUX_LOOP), 0);
	assert_int_equal(param, 0xa4);

	/* No mouse: a byte sent to it times out. */
	param = 0xff;
	assert_int_equal(command(&param, I8042_CMD_AUX_SEND), 0);
	assert_int_equal(in(CMD) & (STR_OBF | STR_AUXDATA | STR_TIMEOUT),
			 STR_OBF | STR_AUXDATA | STR_TIMEOUT);
	assert_int_equal(in(DATA), 0xfe);
	assert_false(in(CMD) & STR_TIMEOUT);

	/* aux interface test: 0 is OK */
	assert_int_equal(command(&param, I8042_CMD_AUX_TEST), 0);
	assert_int_equal(param, 0);
	assert_int_equal(F->resets, 0);
}

static void test_self_test_and_status(void **state)
{
	assert_int_equal(in(CMD) & (STR_OBF | STR_IBF), 0);
	out(CMD, 0xaa);
	assert_int_equal(in(CMD) & (STR_OBF | STR_SYS | STR_CMDDAT | STR_AUXDATA),
			 STR_OBF | STR_SYS | STR_CMDDAT);
	assert_int_equal(in(DATA), 0x55);
	assert_false(in(CMD) & STR_OBF);
	/* an empty buffer reads its last byte again */
	assert_int_equal(in(DATA), 0x55);
	out(CMD, 0xab);
	assert_int_equal(read_byte(), 0x00);
	out(CMD, 0xa9);
	assert_int_equal(read_byte(), 0x00);
	/* last write to 0x60 clears the command/data bit */
	out(CMD, 0x60);
	assert_true(in(CMD) & STR_CMDDAT);
	out(DATA, 0x45);
	assert_false(in(CMD) & STR_CMDDAT);
}

static void test_ctr_and_ram(void **state)
{
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x65);	/* the power-on CTR */
	out(CMD, 0x60);
	out(DATA, 0x47);
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x47);
	/* the rest of the controller RAM */
	for (unsigned int i = 1; i < 32; i++) {
		out(CMD, 0x60 + i);
		out(DATA, 0x80 + i);
	}
	for (unsigned int i = 1; i < 32; i++) {
		out(CMD, 0x20 + i);
		assert_int_equal(read_byte(), 0x80 + i);
	}
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x47);
	/* the interface enable commands flip their CTR bits */
	out(CMD, 0xad);
	out(CMD, 0xa7);
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x47 | CTR_KBDDIS | CTR_AUXDIS);
	out(CMD, 0xae);
	out(CMD, 0xa8);
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x47);
	/* a new command abandons a pending one */
	out(CMD, 0x60);
	out(CMD, 0x20);
	assert_int_equal(read_byte(), 0x47);
}

/* The keyboard itself, as atkbd drives it. */
static void test_keyboard(void **state)
{
	out(DATA, 0xff);			/* reset */
	assert_int_equal(read_byte(), 0xfa);
	assert_int_equal(read_byte(), 0xaa);
	assert_int_equal(read_byte(), -1);
	out(DATA, 0xf2);			/* identify */
	assert_int_equal(read_byte(), 0xfa);
	assert_int_equal(read_byte(), 0xab);
	assert_int_equal(read_byte(), 0x83);
	out(DATA, 0xf5);			/* reset and disable */
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0xed);			/* LEDs + parameter */
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0x07);
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0xf3);			/* typematic + parameter */
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0x20);
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0xf0);			/* get scan code set */
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0x00);
	assert_int_equal(read_byte(), 0xfa);
	assert_int_equal(read_byte(), 0x02);
	out(DATA, 0xf4);			/* enable */
	assert_int_equal(read_byte(), 0xfa);
	out(DATA, 0xee);			/* echo */
	assert_int_equal(read_byte(), 0xee);
	out(DATA, 0xfe);			/* resend */
	assert_int_equal(read_byte(), 0xee);
	out(DATA, 0x12);			/* nonsense */
	assert_int_equal(read_byte(), 0xfe);
	/* the responses are keyboard data, not aux */
	out(DATA, 0xf4);
	assert_int_equal(in(CMD) & (STR_OBF | STR_AUXDATA), STR_OBF);
	in(DATA);
}

static void test_irq_gating(void **state)
{
	unsigned int raises;

	/* KBDINT off: data waits without an interrupt */
	out(CMD, 0x60);
	out(DATA, CTR_XLATE);
	out(DATA, 0xf2);
	assert_true(in(CMD) & STR_OBF);
	assert_int_equal(F->kbd.level, 0);
	assert_int_equal(F->aux.level, 0);
	/* enabling it with data waiting raises IRQ 1 */
	out(CMD, 0x60);
	out(DATA, CTR_XLATE | CTR_KBDINT);
	assert_int_equal(F->kbd.level, 1);
	raises = F->kbd.raises;
	/* each byte read makes a fresh edge for the next one */
	assert_int_equal(in(DATA), 0xfa);
	assert_int_equal(F->kbd.level, 1);
	assert_int_equal(F->kbd.raises, raises + 1);
	assert_int_equal(in(DATA), 0xab);
	assert_int_equal(F->kbd.raises, raises + 2);
	assert_int_equal(in(DATA), 0x83);
	assert_int_equal(F->kbd.level, 0);

	/* aux bytes use IRQ 12, only with AUXINT */
	out(CMD, 0xd3);
	out(DATA, 0x11);
	assert_int_equal(F->aux.level, 0);
	assert_int_equal(F->kbd.level, 0);
	out(CMD, 0x60);
	out(DATA, CTR_XLATE | CTR_KBDINT | CTR_AUXINT);
	assert_int_equal(F->aux.level, 1);
	assert_int_equal(F->kbd.level, 0);
	/* a keyboard byte queued behind it: IRQ 1 once it reaches the front */
	out(CMD, 0xd2);
	out(DATA, 0x22);
	assert_int_equal(F->kbd.level, 0);
	assert_int_equal(in(DATA), 0x11);
	assert_int_equal(F->aux.level, 0);
	assert_int_equal(F->kbd.level, 1);
	assert_int_equal(in(CMD) & STR_AUXDATA, 0);
	assert_int_equal(in(DATA), 0x22);
	assert_int_equal(F->kbd.level, 0);
}

static void test_reset_paths(void **state)
{
	uint64_t v;

	out(CMD, 0xfe);
	assert_int_equal(F->resets, 1);
	out(CMD, 0xff);				/* pulses nothing */
	out(CMD, 0xfd);				/* pulses bit 1 only */
	assert_int_equal(F->resets, 1);
	out(CMD, 0xf0);				/* pulses all four */
	assert_int_equal(F->resets, 2);
	/* writing the output port with the reset line low */
	out(CMD, 0xd0);
	assert_int_equal(read_byte() & 0x03, 0x03);
	out(CMD, 0xd1);
	out(DATA, 0xdf);			/* A20 on, reset high */
	assert_int_equal(F->resets, 2);
	assert_true(i8042_a20(F->kbc));
	out(CMD, 0xd1);
	out(DATA, 0xde);
	assert_int_equal(F->resets, 3);

	/* port 0x92: bit 1 A20, bit 0 reset (reads back 0) */
	assert_int_equal(in(0x92), 0x02);
	out(0x92, 0x00);
	assert_int_equal(F->resets, 3);
	assert_int_equal(in(0x92), 0x00);
	out(0x92, 0x03);
	assert_int_equal(F->resets, 4);
	assert_int_equal(in(0x92), 0x02);

	/* port 0x61 belongs to the PIT: not claimed */
	assert_false(io_bus_read(&F->bus, IO_SPACE_PIO, 0x61, 1, &v));
	assert_false(io_bus_read(&F->bus, IO_SPACE_PIO, 0x65, 1, &v));
}

static void test_register_conflict(void **state)
{
	struct io_bus bus;
	struct i8042 *kbc = i8042_create(NULL, NULL, NULL, NULL);
	static const struct io_ops none = { 0 };
	uint64_t v;

	assert_non_null(kbc);
	io_bus_init(&bus);
	assert_int_equal(io_bus_register(&bus, IO_SPACE_PIO, 0x92, 1, &none, NULL, "x"), 0);
	assert_int_equal(i8042_register(kbc, &bus), -EEXIST);
	/* nothing left half-claimed */
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x60));
	assert_null(io_bus_find(&bus, IO_SPACE_PIO, 0x64));
	io_bus_unregister(&bus, IO_SPACE_PIO, 0x92);
	assert_int_equal(i8042_register(kbc, &bus), 0);
	/* no callbacks at all: a reset request is harmless */
	assert_true(io_bus_write(&bus, IO_SPACE_PIO, 0x64, 1, 0xfe));
	assert_true(io_bus_write(&bus, IO_SPACE_PIO, 0x64, 1, 0xaa));
	assert_true(io_bus_read(&bus, IO_SPACE_PIO, 0x60, 1, &v));
	assert_int_equal(v, 0x55);
	i8042_unregister(kbc, &bus);
	assert_false(io_bus_read(&bus, IO_SPACE_PIO, 0x60, 1, &v));
	i8042_destroy(kbc);
	io_bus_free(&bus);
}

static void test_hostile(void **state)
{
	static const unsigned int ports[] = { 0x60, 0x64, 0x92 };
	uint64_t v;

	for (unsigned int p = 0; p < 3; p++) {
		for (unsigned int val = 0; val < 256; val++) {
			/* every command followed by every data byte */
			out(ports[p], val);
			for (unsigned int d = 0; d < 256; d += 17)
				out(DATA, d);
			in(CMD);
			in(DATA);
			in(0x92);
		}
	}
	/* a queue nobody reads stays bounded */
	for (unsigned int i = 0; i < 1000; i++)
		out(DATA, 0xf2);
	assert_true(flush() <= 16);
	srand(3);
	for (unsigned int i = 0; i < 100000; i++) {
		static const unsigned int lens[] = { 1, 2, 4, 8 };
		unsigned int port = ports[rand() % 3], len = lens[rand() % 4];
		uint64_t val = (uint64_t)rand() << 32 | rand();

		if (rand() % 2)
			io_bus_write(&F->bus, IO_SPACE_PIO, port, len, val);
		else
			io_bus_read(&F->bus, IO_SPACE_PIO, port, len, &v);
	}
	/* wide reads: only lane 0 is the register */
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, 0x64, 4, &v));
	assert_int_equal(v >> 8, 0xffffff);
	i8042_reset(F->kbc);
	assert_int_equal(F->kbd.level, 0);
	assert_int_equal(F->aux.level, 0);
	out(CMD, 0xaa);
	assert_int_equal(read_byte(), 0x55);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_test_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctr_and_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_gating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_paths, setup, teardown),
		cmocka_unit_test(test_register_conflict),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
