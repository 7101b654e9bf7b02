/*
 * The 16550A UART driven through the io_bus as a guest would: Linux's
 * autoconfig probe, interrupts, FIFO, divisor latch, loopback, hostile input.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hw/io.h"
#include "legacy/serial.h"

#define BASE	SERIAL_COM1_BASE

/* Register offsets and bits, as Linux's serial_reg.h names them. */
#define RX	0
#define TX	0
#define DLL	0
#define IER	1
#define DLM	1
#define IIR	2
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08
#define IIR_NO_INT	0x01
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RCVR	0x02
#define FCR_CLEAR_XMIT	0x04
#define FCR7_64BYTE	0x20
#define LCR_DLAB	0x80
#define LCR_CONF_MODE_A	0x80
#define LCR_CONF_MODE_B	0xbf

struct irq_rec {
	int level;
	unsigned int raises;
	unsigned int calls;
	unsigned int gsi;
};

static void irq_rec_set(void *opaque, unsigned int gsi, int level)
{
	struct irq_rec *r = opaque;

	r->calls++;
	r->gsi = gsi;
	if (level && !r->level)
		r->raises++;
	r->level = level;
}

struct out_rec {
	uint8_t buf[4096];
	size_t len;
};

static void out_rec_fn(void *opaque, const uint8_t *buf, size_t len)
{
	struct out_rec *o = opaque;

	for (size_t i = 0; i < len && o->len < sizeof(o->buf); i++)
		o->buf[o->len++] = buf[i];
}

struct fixture {
	struct io_bus bus;
	struct serial *uart;
	struct irq_rec irq;
	struct out_rec out;
	struct irq_line line;
	unsigned int rx_ready;
};

static struct fixture *F;

static uint8_t in(unsigned int reg)
{
	uint64_t v = 0;

	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, BASE + reg, 1, &v));
	assert_true(v <= 0xff);
	return v;
}

static void out(unsigned int reg, uint8_t v)
{
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, BASE + reg, 1, v));
}

static void rx_ready_fn(void *opaque)
{
	struct fixture *f = opaque;

	f->rx_ready++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	io_bus_init(&f->bus);
	f->line = (struct irq_line){ .set = irq_rec_set, .opaque = &f->irq,
				     .gsi = SERIAL_COM1_IRQ };
	f->uart = serial_create(BASE, &f->line, out_rec_fn, &f->out);
	if (!f->uart || serial_register(f->uart, &f->bus))
		return -1;
	serial_set_rx_ready(f->uart, rx_ready_fn, f);
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial_destroy(f->uart);
	io_bus_free(&f->bus);
	free(f);
	F = NULL;
	return 0;
}

/* drivers/tty/serial/8250/8250_port.c: size_fifo() */
static int linux_size_fifo(void)
{
	uint8_t old_fcr, old_mcr, old_lcr;
	uint16_t old_dl;
	int count;

	old_lcr = in(LCR);
	out(LCR, 0);
	old_fcr = in(FCR);
	old_mcr = in(MCR);
	out(FCR, FCR_ENABLE | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
	out(MCR, MCR_LOOP);
	out(LCR, LCR_CONF_MODE_A);
	old_dl = in(DLL) | in(DLM) << 8;
	out(DLL, 1);
	out(DLM, 0);
	out(LCR, 0x03);
	for (count = 0; count < 256; count++)
		out(TX, count);
	for (count = 0; (in(LSR) & LSR_DR) && count < 256; count++)
		in(RX);
	out(FCR, old_fcr);
	out(MCR, old_mcr);
	out(LCR, LCR_CONF_MODE_A);
	out(DLL, old_dl & 0xff);
	out(DLM, old_dl >> 8);
	out(LCR, old_lcr);
	return count;
}

/*
 * drivers/tty/serial/8250/8250_port.c: autoconfig() and
 * autoconfig_16550a() for a port without UPF_BUGGY_UART/SKIP_TEST/EXAR.
 */
static const char *linux_autoconfig(void)
{
	uint8_t scratch, scratch2, scratch3, status1, status2, save_lcr, save_mcr;
	unsigned int iersave;
	const char *type;

	scratch = in(IER);
	out(IER, 0);
	scratch2 = in(IER) & 0x0f;
	out(IER, 0x0f);
	scratch3 = in(IER) & 0x0f;
	out(IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return "none (IER test)";

	save_mcr = in(MCR);
	save_lcr = in(LCR);
	out(MCR, MCR_LOOP | 0x0a);
	status1 = in(MSR) & 0xf0;
	out(MCR, save_mcr);
	if (status1 != 0x90)
		return "none (LOOP test)";

	out(LCR, LCR_CONF_MODE_B);
	out(2, 0);			/* EFR */
	out(LCR, 0);
	out(FCR, FCR_ENABLE);
	scratch = in(IIR) >> 6;
	switch (scratch) {
	case 0:
		return "8250/16450";
	case 1:
		return "unknown";
	case 2:
		return "16550";
	}

	/* autoconfig_16550a() */
	type = "16550A";
	out(LCR, LCR_CONF_MODE_A);
	if (in(2) == 0)
		return "ST16650 or FSL64";
	out(LCR, LCR_CONF_MODE_B);
	if (in(2) == 0)
		return "EFRv2";
	out(LCR, 0);
	status1 = in(MCR);
	out(LCR, 0xe0);
	status2 = in(0x02);		/* EXCR1 */
	if (!((status2 ^ status1) & MCR_LOOP)) {
		out(LCR, 0);
		out(MCR, status1 ^ MCR_LOOP);
		out(LCR, 0xe0);
		status2 = in(0x02);
		out(LCR, 0);
		out(MCR, status1);
		if ((status2 ^ status1) & MCR_LOOP)
			return "NS16550A";
	}
	out(LCR, 0);
	out(FCR, FCR_ENABLE | FCR7_64BYTE);
	status1 = in(IIR) >> 5;
	out(FCR, FCR_ENABLE);
	out(LCR, LCR_CONF_MODE_A);
	out(FCR, FCR_ENABLE | FCR7_64BYTE);
	status2 = in(IIR) >> 5;
	out(FCR, FCR_ENABLE);
	out(LCR, 0);
	if (status1 == 6 && status2 == 7)
		return "TI16750";
	iersave = in(IER);
	out(IER, iersave & ~0x40);
	if (!(in(IER) & 0x40)) {
		out(IER, iersave | 0x40);
		if (in(IER) & 0x40)
			return "XScale";
	}
	out(IER, iersave);
	if (linux_size_fifo() == 64)
		return "U6_16550A";

	/* back in autoconfig(): reset the UART */
	out(LCR, save_lcr);
	out(MCR, save_mcr);
	out(FCR, FCR_ENABLE);
	out(FCR, FCR_ENABLE | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
	out(FCR, 0);
	in(RX);
	out(IER, 0);
	return type;
}

static void test_autoconfig_16550a(void **state)
{
	assert_string_equal(linux_autoconfig(), "16550A");
	assert_int_equal(linux_size_fifo(), SERIAL_FIFO_SIZE);
	/* Nothing of the probe went out on the line; the IRQ is quiet. */
	assert_int_equal(F->out.len, 0);
	assert_int_equal(F->irq.level, 0);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	/* (size_fifo() "restores" FCR from an IIR read: the FIFO is back on) */
	assert_int_equal(in(IIR), 0xc0 | IIR_NO_INT);
}

/* autoconfig_8250(): the scratch register test. */
static void test_scratch(void **state)
{
	out(SCR, 0xa5);
	assert_int_equal(in(SCR), 0xa5);
	out(SCR, 0x5a);
	assert_int_equal(in(SCR), 0x5a);
	out(LCR, LCR_DLAB);
	assert_int_equal(in(SCR), 0x5a);
}

static void test_divisor_latch(void **state)
{
	out(LCR, LCR_DLAB | 0x03);
	/* never 0: Linux's probe_baud() divides by it */
	assert_int_not_equal(in(DLL) | in(DLM) << 8, 0);
	out(DLL, 0x0c);
	out(DLM, 0x01);
	assert_int_equal(in(DLL), 0x0c);
	assert_int_equal(in(DLM), 0x01);
	assert_int_equal(in(LCR), LCR_DLAB | 0x03);
	/* While DLAB is set, offset 0 is not the transmitter. */
	assert_int_equal(F->out.len, 0);
	out(LCR, 0x03);
	out(IER, 0x05);
	assert_int_equal(in(IER), 0x05);
	out(TX, 'x');
	assert_int_equal(F->out.len, 1);
	out(LCR, LCR_DLAB | 0x03);
	assert_int_equal(in(DLL), 0x0c);
	assert_int_equal(in(DLM), 0x01);
	out(LCR, 0x03);
	assert_int_equal(in(IER), 0x05);
	/* IER keeps only its four bits (the XScale UUE test relies on it). */
	out(IER, 0xff);
	assert_int_equal(in(IER), 0x0f);
}

static void test_transmit(void **state)
{
	const char *msg = "hello, world\n";

	for (const char *p = msg; *p; p++) {
		assert_true(in(LSR) & LSR_THRE);
		out(TX, *p);
	}
	assert_int_equal(F->out.len, strlen(msg));
	assert_memory_equal(F->out.buf, msg, strlen(msg));
	assert_int_equal(in(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
}

static void test_thre_interrupt(void **state)
{
	unsigned int raises;

	out(FCR, FCR_ENABLE);
	out(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(F->irq.level, 0);

	/* Enabling THRI with THR empty raises THRE. */
	out(IER, IER_THRI);
	assert_int_equal(F->irq.level, 1);
	assert_int_equal(F->irq.gsi, SERIAL_COM1_IRQ);
	assert_int_equal(in(IIR), 0xc2);
	/* The IIR read that named THRE cleared it. */
	assert_int_equal(F->irq.level, 0);
	assert_int_equal(in(IIR), 0xc1);

	/* A THR write clears it and, the byte gone at once, re-arms it. */
	raises = F->irq.raises;
	out(TX, 'a');
	assert_int_equal(F->irq.level, 1);
	assert_int_equal(F->irq.raises, raises + 1);
	/* Another write while it is pending makes a fresh edge. */
	out(TX, 'b');
	assert_int_equal(F->irq.level, 1);
	assert_int_equal(F->irq.raises, raises + 2);
	assert_int_equal(in(IIR), 0xc2);
	assert_int_equal(F->irq.level, 0);

	/* Linux's UART_BUG_THRE test: THRI off and on again re-raises. */
	out(IER, 0);
	assert_int_equal(in(IIR), 0xc1);
	out(IER, IER_THRI);
	assert_int_equal(in(IIR), 0xc2);
	out(IER, 0);
	out(IER, IER_THRI);
	assert_int_equal(in(IIR), 0xc2);

	/* Writing IER again with THRI kept does not re-raise. */
	out(IER, IER_THRI | IER_RDI);
	assert_int_equal(in(IIR), 0xc1);

	/* OUT2 gates the line, not the identification. */
	out(IER, 0);
	out(MCR, MCR_DTR | MCR_RTS);
	out(IER, IER_THRI);
	assert_int_equal(F->irq.level, 0);
	out(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(F->irq.level, 1);
	out(MCR, MCR_DTR | MCR_RTS);
	assert_int_equal(F->irq.level, 0);
	assert_int_equal(in(IIR), 0xc2);
}

static void test_receive_trigger_levels(void **state)
{
	static const struct { uint8_t fcr; unsigned int trig; } t[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	uint8_t buf[SERIAL_FIFO_SIZE];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = 'A' + i;
	out(MCR, MCR_OUT2);
	out(IER, IER_RDI);
	for (unsigned int k = 0; k < 4; k++) {
		out(FCR, t[k].fcr | FCR_CLEAR_RCVR);
		assert_int_equal(in(IIR), 0xc1);
		assert_int_equal(F->irq.level, 0);
		for (unsigned int n = 1; n <= SERIAL_FIFO_SIZE; n++) {
			assert_int_equal(serial_receive(F->uart, &buf[n - 1], 1), 1);
			assert_int_equal(F->irq.level, 1);
			/* below the trigger: the (immediate) character timeout */
			assert_int_equal(in(IIR), n < t[k].trig ? 0xcc : 0xc4);
			assert_true(in(LSR) & LSR_DR);
		}
		assert_int_equal(serial_rx_space(F->uart), 0);
		for (unsigned int n = 0; n < SERIAL_FIFO_SIZE; n++)
			assert_int_equal(in(RX), 'A' + n);
		assert_false(in(LSR) & LSR_DR);
		assert_int_equal(in(IIR), 0xc1);
		assert_int_equal(F->irq.level, 0);
	}
}

static void test_receive_backpressure(void **state)
{
	uint8_t buf[40];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = i;
	out(FCR, FCR_ENABLE);
	assert_int_equal(serial_rx_space(F->uart), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_receive(F->uart, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_receive(F->uart, buf, sizeof(buf)), 0);
	assert_int_equal(F->rx_ready, 0);
	/* back-pressure is not an overrun */
	assert_int_equal(in(LSR), LSR_DR | LSR_THRE | LSR_TEMT);

	assert_int_equal(in(RX), 0);
	assert_int_equal(F->rx_ready, 1);
	assert_int_equal(in(RX), 1);
	assert_int_equal(F->rx_ready, 1);	/* once per refusal */
	assert_int_equal(serial_receive(F->uart, &buf[16], 24), 2);
	assert_int_equal(F->rx_ready, 1);
	for (unsigned int i = 2; i < 18; i++)
		assert_int_equal(in(RX), i);
	assert_int_equal(F->rx_ready, 2);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	/* an empty RBR keeps its last byte */
	assert_int_equal(in(RX), 17);

	/* Without the FIFO the receiver holds one byte. */
	out(FCR, 0);
	assert_int_equal(in(IIR) & 0xc0, 0);
	assert_int_equal(serial_receive(F->uart, buf, 4), 1);
	assert_int_equal(serial_receive(F->uart, buf, 4), 0);
	out(IER, IER_RDI);
	assert_int_equal(in(IIR), 0x04);
	assert_int_equal(in(RX), 0);
	assert_int_equal(F->rx_ready, 3);

	/* A FIFO reset also makes room. */
	out(FCR, FCR_ENABLE);
	assert_int_equal(serial_receive(F->uart, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
	out(FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
	assert_int_equal(F->rx_ready, 4);
	assert_int_equal(serial_rx_space(F->uart), SERIAL_FIFO_SIZE);
	/* Toggling the FIFO enable empties it too. */
	assert_int_equal(serial_receive(F->uart, buf, 3), 3);
	out(FCR, 0);
	assert_false(in(LSR) & LSR_DR);
}

static void test_loopback_overrun(void **state)
{
	out(FCR, FCR_ENABLE);
	out(MCR, MCR_LOOP | MCR_OUT2);
	out(IER, IER_RDI | IER_RLSI);
	/* the receiver is off the line: input waits */
	assert_int_equal(serial_receive(F->uart, (const uint8_t *)"z", 1), 0);
	for (unsigned int i = 0; i < SERIAL_FIFO_SIZE + 3; i++)
		out(TX, 0x30 + i);
	assert_int_equal(F->out.len, 0);
	/* loopback disconnects OUT2 from the line */
	assert_int_equal(F->irq.level, 0);
	assert_int_equal(in(IIR), 0xc6);
	assert_int_equal(in(LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(in(LSR), LSR_DR | LSR_THRE | LSR_TEMT);	/* OE read-clears */
	assert_int_equal(in(IIR), 0xc4);
	for (unsigned int i = 0; i < SERIAL_FIFO_SIZE; i++)
		assert_int_equal(in(RX), 0x30 + i);	/* the FIFO kept the first 16 */
	assert_false(in(LSR) & LSR_DR);

	assert_int_equal(F->rx_ready, 0);
	out(MCR, MCR_OUT2);
	assert_int_equal(F->rx_ready, 1);
	assert_int_equal(serial_receive(F->uart, (const uint8_t *)"z", 1), 1);
	assert_int_equal(F->irq.level, 1);
	assert_int_equal(in(RX), 'z');
}

static void test_modem_status(void **state)
{
	/* Off loopback the lines say: carrier, data set ready, clear to send. */
	assert_int_equal(in(MSR), 0xb0);
	out(MCR, MCR_LOOP);
	assert_int_equal(in(MSR), 0x0b);	/* all three dropped: deltas */
	assert_int_equal(in(MSR), 0x00);
	out(MCR, MCR_LOOP | MCR_RTS);
	assert_int_equal(in(MSR), 0x11);
	out(MCR, MCR_LOOP | MCR_RTS | MCR_DTR);
	assert_int_equal(in(MSR), 0x32);
	out(MCR, MCR_LOOP | MCR_RTS | MCR_DTR | MCR_OUT1);
	assert_int_equal(in(MSR), 0x70);	/* RI rising: no delta */
	out(MCR, MCR_LOOP | MCR_RTS | MCR_DTR | MCR_OUT2);
	assert_int_equal(in(MSR), 0xbc);	/* RI trailing edge, DCD */

	/* modem status interrupt, lowest priority, cleared by an MSR read */
	out(MCR, MCR_OUT2);
	out(IER, IER_MSI);
	assert_int_equal(F->irq.level, 0);	/* lines back to b0: no change */
	out(MCR, MCR_OUT2 | MCR_LOOP);
	out(MCR, MCR_OUT2);
	assert_int_equal(F->irq.level, 1);
	assert_int_equal(in(IIR), 0x00);
	in(MSR);
	assert_int_equal(in(IIR), 0x01);
	assert_int_equal(F->irq.level, 0);
}

static void test_iir_priority(void **state)
{
	out(FCR, FCR_ENABLE | 0x80);			/* trigger 8 */
	out(MCR, MCR_OUT2 | MCR_LOOP);
	for (unsigned int i = 0; i < SERIAL_FIFO_SIZE + 1; i++)
		out(TX, i);					/* overrun */
	out(MCR, MCR_OUT2 | MCR_LOOP | MCR_RTS);	/* a modem delta */
	out(MCR, MCR_OUT2);
	out(IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
	assert_int_equal(F->irq.level, 1);

	assert_int_equal(in(IIR), 0xc6);		/* line status */
	in(LSR);
	assert_int_equal(in(IIR), 0xc4);		/* data at trigger */
	for (unsigned int i = 0; i < 9; i++)
		in(RX);
	assert_int_equal(in(IIR), 0xcc);		/* below: timeout */
	for (unsigned int i = 0; i < 7; i++)
		in(RX);
	assert_int_equal(in(IIR), 0xc2);		/* THRE, and that clears it */
	assert_int_equal(in(IIR), 0xc0);		/* modem status */
	assert_int_equal(F->irq.level, 1);
	in(MSR);
	assert_int_equal(in(IIR), 0xc1);
	assert_int_equal(F->irq.level, 0);
}

static void test_wide_access(void **state)
{
	uint64_t v;

	/* An outw to the base is THR then IER, as on an ISA bus. */
	assert_true(io_bus_write(&F->bus, IO_SPACE_PIO, BASE, 2, 0x0241));
	assert_int_equal(F->out.len, 1);
	assert_int_equal(F->out.buf[0], 'A');
	assert_int_equal(in(IER), IER_THRI);
	/* LCR, MCR, LSR, MSR in one read */
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, BASE + 3, 4, &v));
	assert_int_equal(v & 0xff, 0x03);
	assert_int_equal((v >> 16) & 0xff, LSR_THRE | LSR_TEMT);
	/* lanes past the UART float high */
	assert_true(io_bus_read(&F->bus, IO_SPACE_PIO, BASE + 7, 8, &v));
	assert_true((v & ~0xffULL) == 0xffffffffffffff00ULL);
}

static void test_reset(void **state)
{
	out(MCR, MCR_OUT2);
	out(IER, IER_THRI);
	assert_int_equal(F->irq.level, 1);
	out(FCR, FCR_ENABLE);
	serial_receive(F->uart, (const uint8_t *)"abc", 3);
	serial_reset(F->uart);
	assert_int_equal(F->irq.level, 0);
	assert_int_equal(in(IER), 0);
	assert_int_equal(in(IIR), IIR_NO_INT);
	assert_int_equal(in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(in(LCR), 0x03);
	assert_string_equal(linux_autoconfig(), "16550A");
}

static void test_hostile(void **state)
{
	uint64_t v;

	srand(7);
	for (unsigned int reg = 0; reg < 8; reg++) {
		for (unsigned int val = 0; val < 256; val++) {
			out(reg, val);
			for (unsigned int r = 0; r < 8; r++)
				in(r);
			if (val % 16 == 0)
				serial_receive(F->uart, (const uint8_t *)"xyz", 3);
		}
	}
	for (unsigned int i = 0; i < 100000; i++) {
		static const unsigned int lens[] = { 1, 2, 4, 8 };
		unsigned int len = lens[rand() % 4];
		unsigned int off = rand() % 8;
		uint64_t val = (uint64_t)rand() << 32 | rand();

		if (rand() % 2)
			io_bus_write(&F->bus, IO_SPACE_PIO, BASE + off, len, val);
		else
			io_bus_read(&F->bus, IO_SPACE_PIO, BASE + off, len, &v);
		if (i % 64 == 0)
			serial_receive(F->uart, (const uint8_t *)"0123456789", 10);
	}
	/* still a sane UART afterwards */
	serial_reset(F->uart);
	assert_string_equal(linux_autoconfig(), "16550A");
}

/* The callbacks run with no lock held: they may call straight back in. */
struct reenter {
	struct serial *uart;
	unsigned int outs, readies;
};

static void reenter_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct reenter *r = opaque;

	r->outs++;
	serial_rx_space(r->uart);
	serial_receive(r->uart, buf, len);	/* an echo */
}

static void reenter_ready(void *opaque)
{
	struct reenter *r = opaque;

	r->readies++;
	serial_receive(r->uart, (const uint8_t *)"R", 1);
}

static void test_callbacks_reenter(void **state)
{
	struct reenter r = { 0 };
	struct io_bus bus;
	uint64_t v;

	io_bus_init(&bus);
	r.uart = serial_create(BASE, NULL, reenter_out, &r);
	assert_non_null(r.uart);
	serial_set_rx_ready(r.uart, reenter_ready, &r);
	assert_int_equal(serial_register(r.uart, &bus), 0);
	assert_int_equal(serial_register(r.uart, &bus), -EEXIST);

	assert_true(io_bus_write(&bus, IO_SPACE_PIO, BASE + TX, 1, 'e'));
	assert_int_equal(r.outs, 1);
	assert_true(io_bus_read(&bus, IO_SPACE_PIO, BASE + RX, 1, &v));
	assert_int_equal(v, 'e');

	/* non-FIFO: one byte fits; the second is refused, then offered again */
	assert_int_equal(serial_receive(r.uart, (const uint8_t *)"ab", 2), 1);
	assert_true(io_bus_read(&bus, IO_SPACE_PIO, BASE + RX, 1, &v));
	assert_int_equal(v, 'a');
	assert_int_equal(r.readies, 1);
	assert_true(io_bus_read(&bus, IO_SPACE_PIO, BASE + RX, 1, &v));
	assert_int_equal(v, 'R');

	assert_int_equal(serial_unregister(r.uart, &bus), 0);
	assert_false(io_bus_read(&bus, IO_SPACE_PIO, BASE + RX, 1, &v));
	serial_destroy(r.uart);
	io_bus_free(&bus);
}

struct race {
	struct io_bus bus;
	struct serial *uart;
	struct irq_rec irq;
	pthread_mutex_t irq_lock;
};

static void race_irq(void *opaque, unsigned int gsi, int level)
{
	struct race *r = opaque;

	pthread_mutex_lock(&r->irq_lock);
	irq_rec_set(&r->irq, gsi, level);
	pthread_mutex_unlock(&r->irq_lock);
}

static void *vcpu_thread(void *arg)
{
	struct race *r = arg;
	uint64_t v;

	for (unsigned int i = 0; i < 20000; i++) {
		io_bus_write(&r->bus, IO_SPACE_PIO, BASE + TX, 1, 'a' + i % 26);
		io_bus_read(&r->bus, IO_SPACE_PIO, BASE + IIR, 1, &v);
		io_bus_read(&r->bus, IO_SPACE_PIO, BASE + RX, 1, &v);
		io_bus_read(&r->bus, IO_SPACE_PIO, BASE + LSR, 1, &v);
	}
	return NULL;
}

/* Two vCPUs and an event loop at once (run under helgrind/tsan to see). */
static void test_threads(void **state)
{
	struct race r = { 0 };
	struct irq_line line = { .set = race_irq, .opaque = &r, .gsi = 4 };
	pthread_t t[2];
	uint64_t v;

	pthread_mutex_init(&r.irq_lock, NULL);
	io_bus_init(&r.bus);
	r.uart = serial_create(BASE, &line, NULL, NULL);
	assert_non_null(r.uart);
	assert_int_equal(serial_register(r.uart, &r.bus), 0);
	io_bus_write(&r.bus, IO_SPACE_PIO, BASE + FCR, 1, FCR_ENABLE);
	io_bus_write(&r.bus, IO_SPACE_PIO, BASE + IER, 1, IER_RDI | IER_THRI);
	for (unsigned int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vcpu_thread, &r), 0);
	for (unsigned int i = 0; i < 20000; i++)
		serial_receive(r.uart, (const uint8_t *)"in", 2);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* quiesce: the line must agree with the registers */
	io_bus_write(&r.bus, IO_SPACE_PIO, BASE + IER, 1, 0);
	while (io_bus_read(&r.bus, IO_SPACE_PIO, BASE + LSR, 1, &v) && (v & LSR_DR))
		io_bus_read(&r.bus, IO_SPACE_PIO, BASE + RX, 1, &v);
	assert_int_equal(r.irq.level, 0);
	serial_destroy(r.uart);
	io_bus_free(&r.bus);
	pthread_mutex_destroy(&r.irq_lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_autoconfig_16550a, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_trigger_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modem_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test(test_callbacks_reenter),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
