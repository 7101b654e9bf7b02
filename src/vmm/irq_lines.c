/* Shared level-OR interrupt inputs on top of KVM_IRQ_LINE. */
#include <errno.h>
#include <string.h>

#include "util/log.h"
#include "vmm/irq_lines.h"
#include "vmm/kvm.h"

static void irq_lines_set(void *opaque, unsigned int gsi, int level)
{
	struct irq_source *src = opaque;
	struct irq_lines *il = src->lines;
	uint64_t before, after;

	(void)gsi;
	pthread_mutex_lock(&il->lock);
	before = il->level[src->gsi];
	if (level)
		il->level[src->gsi] |= src->bit;
	else
		il->level[src->gsi] &= ~src->bit;
	after = il->level[src->gsi];
	/* Under the lock, so the irqchip sees the changes in order. */
	if (!before != !after && kvm_irq_line(il->kvm, src->gsi, after != 0) < 0)
		pr_warn("KVM_IRQ_LINE %u: %m", src->gsi);
	pthread_mutex_unlock(&il->lock);
}

void irq_lines_init(struct irq_lines *il, struct kvm *kvm)
{
	memset(il, 0, sizeof(*il));
	il->kvm = kvm;
	pthread_mutex_init(&il->lock, NULL);
}

void irq_lines_free(struct irq_lines *il)
{
	pthread_mutex_destroy(&il->lock);
}

int irq_lines_get(struct irq_lines *il, unsigned int gsi, struct irq_line *line)
{
	struct irq_source *src;
	unsigned int on_gsi = 0;

	if (gsi >= IRQ_LINES_GSIS)
		return -EINVAL;
	if (il->nr_sources >= IRQ_LINES_SOURCES)
		return -ENOSPC;
	for (unsigned int i = 0; i < il->nr_sources; i++)
		on_gsi += il->sources[i].gsi == gsi;
	src = &il->sources[il->nr_sources++];
	src->lines = il;
	src->gsi = gsi;
	src->bit = 1ULL << on_gsi;
	line->set = irq_lines_set;
	line->opaque = src;
	line->gsi = gsi;
	return 0;
}
