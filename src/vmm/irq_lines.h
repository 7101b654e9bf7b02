/*
 * Interrupt lines into KVM's in-kernel PIC and IOAPIC. Several devices may
 * share one input (COM1 and COM3 on IRQ 4): each gets its own source, and
 * the input's level is the OR of its sources, as on an ISA bus.
 */
#ifndef VMM_IRQ_LINES_H
#define VMM_IRQ_LINES_H

#include <pthread.h>
#include <stdint.h>

#include "hw/irq.h"

#define IRQ_LINES_GSIS		24	/* the IOAPIC's inputs */
#define IRQ_LINES_SOURCES	64

struct kvm;
struct irq_lines;

struct irq_source {
	struct irq_lines *lines;
	unsigned int gsi;
	uint64_t bit;
};

struct irq_lines {
	struct kvm *kvm;
	pthread_mutex_t lock;
	uint64_t level[IRQ_LINES_GSIS];	/* one bit per source */
	struct irq_source sources[IRQ_LINES_SOURCES];
	unsigned int nr_sources;
};

void irq_lines_init(struct irq_lines *il, struct kvm *kvm);
void irq_lines_free(struct irq_lines *il);
/* A new source on gsi, described in *line; 0 or -ENOSPC / -EINVAL. */
int irq_lines_get(struct irq_lines *il, unsigned int gsi, struct irq_line *line);

#endif
