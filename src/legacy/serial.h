/*
 * An 8250/16550A UART (COM1-COM4) as Linux's 8250 driver probes and drives
 * it: registers, divisor latch, 16-byte RX FIFO, THRE/RX/line/modem
 * interrupts, loopback. Bytes the guest sends go to an output callback;
 * bytes for the guest come in through serial_receive().
 *
 * Locking rule. Each UART has one internal mutex; every entry point below
 * takes it, so register accesses (vCPU threads) and serial_receive() (the
 * event loop) may run concurrently.
 *  - The irq_line's set() callback is called WITH that mutex held (so the
 *    line's level changes reach the irqchip in the order they happened). It
 *    must not call back into this UART; KVM_IRQ_LINE or a recorder is fine.
 *  - The output callback and the rx-ready callback are called with NO lock
 *    held; they may block or call serial_receive()/serial_rx_space().
 *
 * The model has no clock: a byte written to THR is transmitted at once (THRE
 * and TEMT read as set, and the THRE interrupt is re-armed right after the
 * write), and the RX character timeout fires at once: data below the FIFO
 * trigger level shows as IIR "character timeout" (0xc), at or above it as
 * "data available" (0x4), as Linux treats both alike.
 */
#ifndef VMM_LEGACY_SERIAL_H
#define VMM_LEGACY_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "hw/io.h"
#include "hw/irq.h"

#define SERIAL_NR_REGS		8
#define SERIAL_FIFO_SIZE	16

/* The ISA COM ports and their IRQs. */
#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM2_BASE	0x2f8
#define SERIAL_COM3_BASE	0x3e8
#define SERIAL_COM4_BASE	0x2e8
#define SERIAL_COM1_IRQ		4
#define SERIAL_COM2_IRQ		3
#define SERIAL_COM3_IRQ		4
#define SERIAL_COM4_IRQ		3

struct serial;

/* Bytes the guest transmitted, in order. Called with no UART lock held. */
typedef void (*serial_output_fn)(void *opaque, const uint8_t *buf, size_t len);

/*
 * A UART at port base raising irq (copied; NULL for none), sending its
 * output to output (NULL drops it). NULL on allocation failure.
 */
struct serial *serial_create(uint16_t base, const struct irq_line *irq,
			     serial_output_fn output, void *opaque);
/* Free it; it must be unregistered or its bus no longer dispatched. */
void serial_destroy(struct serial *uart);

/* Claim the 8 ports at base on bus: 0 or a negative errno. */
int serial_register(struct serial *uart, struct io_bus *bus);
int serial_unregister(struct serial *uart, struct io_bus *bus);

/* Back to the power-on state (registers, FIFO; the callbacks stay). */
void serial_reset(struct serial *uart);

/*
 * Input for the guest: queue up to len bytes in the RX FIFO and return how
 * many were taken (0 when full, or while the UART is in loopback, where the
 * receiver is disconnected from the line). Hold on to the rest and offer it
 * again when the rx-ready callback fires.
 */
size_t serial_receive(struct serial *uart, const uint8_t *buf, size_t len);
/* How many bytes serial_receive() would take right now. */
size_t serial_rx_space(struct serial *uart);

/*
 * Called (no lock held, from the vCPU thread that read RBR, or reset the
 * FIFO or left loopback) once room appears after a serial_receive() that
 * took less than it was offered. Typically writes an eventfd so the event
 * loop polls its input again.
 */
void serial_set_rx_ready(struct serial *uart, void (*fn)(void *opaque),
			 void *opaque);

uint16_t serial_base(const struct serial *uart);

#endif
