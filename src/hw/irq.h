/*
 * An interrupt line as a device model sees it: raise, lower, pulse. Behind
 * it is KVM's in-kernel irqchip (KVM_IRQ_LINE on a GSI) or a test's recorder.
 */
#ifndef VMM_HW_IRQ_H
#define VMM_HW_IRQ_H

struct irq_line {
	void (*set)(void *opaque, unsigned int gsi, int level);
	void *opaque;
	unsigned int gsi;
};

static inline void irq_set(const struct irq_line *irq, int level)
{
	if (irq && irq->set)
		irq->set(irq->opaque, irq->gsi, level);
}

static inline void irq_raise(const struct irq_line *irq)
{
	irq_set(irq, 1);
}

static inline void irq_lower(const struct irq_line *irq)
{
	irq_set(irq, 0);
}

/* An edge: raise then lower. */
static inline void irq_pulse(const struct irq_line *irq)
{
	irq_set(irq, 1);
	irq_set(irq, 0);
}

#endif
