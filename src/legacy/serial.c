/*
 * The 8250/16550A UART model: register semantics, RX FIFO, interrupt
 * identification and the IRQ line (gated by MCR.OUT2 as on PCs).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "legacy/serial.h"

/* Register offsets. */
#define UART_RX		0	/* in: receive buffer (DLAB=0) */
#define UART_TX		0	/* out: transmit holding (DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_IIR	2	/* in */
#define UART_FCR	2	/* out */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01	/* received data available */
#define UART_IER_THRI	0x02	/* transmit holding register empty */
#define UART_IER_RLSI	0x04	/* receiver line status */
#define UART_IER_MSI	0x08	/* modem status */
#define UART_IER_MASK	0x0f	/* a 16550A has no more bits */

#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO	0xc0	/* both bits: a working 16550A FIFO */

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA	0x08
#define UART_FCR_TRIG	0xc0

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_MCR_MASK	0x1f

#define UART_LSR_DR	0x01
#define UART_LSR_OE	0x02
#define UART_LSR_PE	0x04
#define UART_LSR_FE	0x08
#define UART_LSR_BI	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_LSR_ERRORS	(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_DELTAS	0x0f
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

/* Power-on state, as a PC BIOS leaves a COM port: 115200 8N1, DTR RTS OUT2. */
#define SERIAL_RESET_DIVISOR	1
#define SERIAL_RESET_LCR	0x03
#define SERIAL_RESET_MCR	(UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2)

static const uint8_t serial_rx_trigger[4] = { 1, 4, 8, 14 };

struct serial {
	pthread_mutex_t lock;
	uint16_t base;
	struct irq_line irq;
	serial_output_fn output;
	void *output_opaque;
	void (*rx_ready)(void *opaque);
	void *rx_ready_opaque;

	uint16_t divisor;
	uint8_t ier;
	uint8_t fcr;		/* ENABLE, DMA and trigger bits as written */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_err;	/* OE/PE/FE/BI until LSR is read */
	uint8_t msr;		/* line states (high nibble) and deltas */
	uint8_t scr;
	uint8_t rbr;		/* the last byte read, RBR of an empty FIFO */

	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;

	bool thri_pending;	/* THRE interrupt armed */
	bool rx_starved;	/* serial_receive() refused bytes: notify */
	int irq_level;		/* what the line was last set to */
};

/* What a register access leaves for the caller to do with no lock held. */
struct serial_after {
	uint8_t out[8];
	unsigned int nr_out;
	bool rx_ready;
};

static unsigned int serial_rx_cap(const struct serial *s)
{
	return s->fcr & UART_FCR_ENABLE ? SERIAL_FIFO_SIZE : 1;
}

static bool serial_loop(const struct serial *s)
{
	return s->mcr & UART_MCR_LOOP;
}

/* The modem input lines: fixed "connected" ones, or MCR looped back. */
static uint8_t serial_lines(const struct serial *s)
{
	uint8_t m = s->mcr, v = 0;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (m & UART_MCR_RTS)
		v |= UART_MSR_CTS;
	if (m & UART_MCR_DTR)
		v |= UART_MSR_DSR;
	if (m & UART_MCR_OUT1)
		v |= UART_MSR_RI;
	if (m & UART_MCR_OUT2)
		v |= UART_MSR_DCD;
	return v;
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = s->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RLSI) && (s->lsr_err & UART_LSR_ERRORS))
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count) {
		if (fifo && s->rx_count < serial_rx_trigger[s->fcr >> 6])
			return fifo | UART_IIR_TIMEOUT;
		return fifo | UART_IIR_RDI;
	}
	if ((s->ier & UART_IER_THRI) && s->thri_pending)
		return fifo | UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTAS))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

/* Called with the lock held (see serial.h). */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & UART_IIR_NO_INT) &&
		    (s->mcr & UART_MCR_OUT2) && !serial_loop(s);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_set(&s->irq, level);
	}
}

static void serial_rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* One byte into the RX FIFO; a full FIFO loses it and flags an overrun. */
static void serial_rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count >= serial_rx_cap(s)) {
		s->lsr_err |= UART_LSR_OE;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
	s->rx_count++;
}

static size_t serial_rx_room(const struct serial *s)
{
	if (serial_loop(s))
		return 0;
	return serial_rx_cap(s) - s->rx_count;
}

static void serial_set_mcr(struct serial *s, uint8_t val)
{
	uint8_t old = serial_lines(s), now, d = 0;

	s->mcr = val & UART_MCR_MASK;
	now = serial_lines(s);
	if ((old ^ now) & UART_MSR_CTS)
		d |= UART_MSR_DCTS;
	if ((old ^ now) & UART_MSR_DSR)
		d |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		d |= UART_MSR_TERI;
	if ((old ^ now) & UART_MSR_DCD)
		d |= UART_MSR_DDCD;
	s->msr = now | ((s->msr | d) & UART_MSR_DELTAS);
}

static void serial_set_fcr(struct serial *s, uint8_t val)
{
	/* Toggling the enable bit empties both FIFOs. */
	if ((val ^ s->fcr) & UART_FCR_ENABLE)
		serial_rx_clear(s);
	/* The other bits are only taken while the FIFO is being enabled. */
	if (!(val & UART_FCR_ENABLE)) {
		s->fcr = 0;
		return;
	}
	if (val & UART_FCR_CLEAR_RCVR)
		serial_rx_clear(s);
	/* The TX side is always empty: transmission is immediate. */
	s->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIG);
}

static void serial_write_thr(struct serial *s, uint8_t val,
			     struct serial_after *after)
{
	/* Writing THR clears the THRE interrupt: let the line drop... */
	s->thri_pending = false;
	serial_update_irq(s);

	if (serial_loop(s))
		serial_rx_push(s, val);
	else if (after->nr_out < sizeof(after->out))
		after->out[after->nr_out++] = val;

	/* ...and the byte is gone at once, so THR is empty again: an edge. */
	s->thri_pending = true;
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t val,
			     struct serial_after *after)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t old;

	switch (reg) {
	case UART_TX:
		if (dlab)
			s->divisor = (s->divisor & 0xff00) | val;
		else
			serial_write_thr(s, val, after);
		break;
	case UART_IER:
		if (dlab) {
			s->divisor = (s->divisor & 0x00ff) | (uint16_t)val << 8;
			break;
		}
		old = s->ier;
		s->ier = val & UART_IER_MASK;
		/* Enabling THRI while THR is empty (always) raises THRE. */
		if ((s->ier & UART_IER_THRI) && !(old & UART_IER_THRI))
			s->thri_pending = true;
		else if (!(s->ier & UART_IER_THRI))
			s->thri_pending = false;
		break;
	case UART_FCR:
		serial_set_fcr(s, val);
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		serial_set_mcr(s, val);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only (factory test on some parts): ignored. */
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (reg) {
	case UART_RX:
		if (dlab)
			return s->divisor & 0xff;
		if (s->rx_count) {
			s->rbr = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
			s->rx_count--;
		}
		return s->rbr;
	case UART_IER:
		return dlab ? s->divisor >> 8 : s->ier;
	case UART_IIR:
		v = serial_iir(s);
		/* Reading IIR while it names THRE clears that interrupt. */
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thri_pending = false;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | s->lsr_err;
		if (s->rx_count)
			v |= UART_LSR_DR;
		s->lsr_err = 0;
		return v;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~UART_MSR_DELTAS;
		return v;
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

/* After any access: room appeared for input that was refused earlier? */
static void serial_check_rx_ready(struct serial *s, struct serial_after *after)
{
	if (s->rx_starved && serial_rx_room(s)) {
		s->rx_starved = false;
		after->rx_ready = true;
	}
}

static void serial_finish(struct serial *s, struct serial_after *after)
{
	void (*rx_ready)(void *) = NULL;
	void *rx_ready_opaque = NULL;
	serial_output_fn output = s->output;
	void *output_opaque = s->output_opaque;

	serial_check_rx_ready(s, after);
	serial_update_irq(s);
	if (after->rx_ready) {
		rx_ready = s->rx_ready;
		rx_ready_opaque = s->rx_ready_opaque;
	}
	pthread_mutex_unlock(&s->lock);

	if (after->nr_out && output)
		output(output_opaque, after->out, after->nr_out);
	if (rx_ready)
		rx_ready(rx_ready_opaque);
}

/*
 * An access of len bytes at offset is what an ISA bus makes of it: one byte
 * access per lane, to consecutive registers; lanes past the UART float high.
 */
static uint64_t serial_io_read(void *opaque, uint64_t offset, unsigned int len)
{
	struct serial *s = opaque;
	struct serial_after after = { .nr_out = 0 };
	uint64_t v = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < len && i < 8; i++) {
		uint64_t b = 0xff;

		if (offset < SERIAL_NR_REGS && i < SERIAL_NR_REGS - offset)
			b = serial_read_reg(s, offset + i);
		v |= b << (8 * i);
	}
	serial_finish(s, &after);
	return v;
}

static void serial_io_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned int len)
{
	struct serial *s = opaque;
	struct serial_after after = { .nr_out = 0 };

	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < len && i < 8; i++) {
		if (offset < SERIAL_NR_REGS && i < SERIAL_NR_REGS - offset)
			serial_write_reg(s, offset + i, value >> (8 * i), &after);
	}
	serial_finish(s, &after);
}

static const struct io_ops serial_io_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

static void serial_reset_locked(struct serial *s)
{
	s->divisor = SERIAL_RESET_DIVISOR;
	s->ier = 0;
	s->fcr = 0;
	s->lcr = SERIAL_RESET_LCR;
	s->mcr = SERIAL_RESET_MCR;
	s->lsr_err = 0;
	s->msr = serial_lines(s);
	s->scr = 0;
	s->rbr = 0;
	serial_rx_clear(s);
	s->thri_pending = false;
}

struct serial *serial_create(uint16_t base, const struct irq_line *irq,
			     serial_output_fn output, void *opaque)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	s->base = base;
	if (irq)
		s->irq = *irq;
	s->output = output;
	s->output_opaque = opaque;
	serial_reset_locked(s);
	return s;
}

void serial_destroy(struct serial *uart)
{
	if (!uart)
		return;
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}

int serial_register(struct serial *uart, struct io_bus *bus)
{
	return io_bus_register(bus, IO_SPACE_PIO, uart->base, SERIAL_NR_REGS,
			       &serial_io_ops, uart, "serial");
}

int serial_unregister(struct serial *uart, struct io_bus *bus)
{
	return io_bus_unregister(bus, IO_SPACE_PIO, uart->base);
}

void serial_reset(struct serial *uart)
{
	struct serial_after after = { .nr_out = 0 };

	pthread_mutex_lock(&uart->lock);
	serial_reset_locked(uart);
	serial_finish(uart, &after);
}

size_t serial_receive(struct serial *uart, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&uart->lock);
	n = serial_rx_room(uart);
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		serial_rx_push(uart, buf[i]);
	if (n < len)
		uart->rx_starved = true;
	serial_update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

size_t serial_rx_space(struct serial *uart)
{
	size_t n;

	pthread_mutex_lock(&uart->lock);
	n = serial_rx_room(uart);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

void serial_set_rx_ready(struct serial *uart, void (*fn)(void *opaque),
			 void *opaque)
{
	pthread_mutex_lock(&uart->lock);
	uart->rx_ready = fn;
	uart->rx_ready_opaque = opaque;
	pthread_mutex_unlock(&uart->lock);
}

uint16_t serial_base(const struct serial *uart)
{
	return uart->base;
}
