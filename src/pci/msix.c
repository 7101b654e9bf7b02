/* MSI-X table, PBA and masking; the platform hears of every change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci/msix.h"

int msix_init(struct msix *x, struct pci_endpoint *ep, unsigned int nr,
	      unsigned int table_bar, uint32_t table_off,
	      unsigned int pba_bar, uint32_t pba_off, const struct msi_port *port)
{
	int cap;

	memset(x, 0, sizeof(*x));
	if (!nr || nr > MSIX_MAX_VECTORS || table_bar >= PCI_NR_BARS || pba_bar >= PCI_NR_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	x->table = calloc(nr, sizeof(*x->table));
	x->masked = calloc(nr, sizeof(*x->masked));
	if (!x->table || !x->masked) {
		msix_free(x);
		return -ENOMEM;
	}
	cap = pci_endpoint_add_cap(ep, PCI_CAP_ID_MSIX, 12);
	if (cap < 0) {
		msix_free(x);
		return cap;
	}
	pthread_mutex_init(&x->lock, NULL);
	x->ep = ep;
	x->cap = (unsigned int)cap;
	x->nr = nr;
	x->port = *port;
	pci_put16(ep->cfg.data, x->cap + 2, (uint16_t)(nr - 1));
	pci_put16(ep->cfg.wmask, x->cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	pci_put32(ep->cfg.data, x->cap + 4, table_off | table_bar);
	pci_put32(ep->cfg.data, x->cap + 8, pba_off | pba_bar);
	for (unsigned int i = 0; i < nr; i++) {
		x->table[i].ctrl = 1;
		x->masked[i] = true;
	}
	return 0;
}

void msix_free(struct msix *x)
{
	if (x->ep)
		pthread_mutex_destroy(&x->lock);
	free(x->table);
	free(x->masked);
	x->table = NULL;
	x->masked = NULL;
	x->ep = NULL;
}

static bool vector_masked(const struct msix *x, unsigned int v)
{
	return !x->enabled || x->maskall || (x->table[v].ctrl & 1);
}

/* Tell the platform about vector v if its state changed (or force). */
static void sync_vector(struct msix *x, unsigned int v, bool force)
{
	const struct msix_entry *e = &x->table[v];
	struct msi_msg msg = {
		.addr = (uint64_t)e->addr_hi << 32 | e->addr_lo,
		.data = e->data,
	};
	bool m = vector_masked(x, v);

	if (!force && m == x->masked[v])
		return;
	x->masked[v] = m;
	if (x->port.ops && x->port.ops->update)
		x->port.ops->update(x->port.opaque, v, &msg, m);
}

static void sync_all(struct msix *x)
{
	for (unsigned int v = 0; v < x->nr; v++)
		sync_vector(x, v, false);
}

void msix_reset(struct msix *x)
{
	pthread_mutex_lock(&x->lock);
	x->enabled = x->maskall = false;
	for (unsigned int v = 0; v < x->nr; v++)
		x->table[v] = (struct msix_entry){ .ctrl = 1 };
	sync_all(x);
	pthread_mutex_unlock(&x->lock);
	pci_put16(x->ep->cfg.data, x->cap + 2, (uint16_t)(x->nr - 1));
}

void msix_cfg_written(struct msix *x, unsigned int reg, unsigned int len)
{
	uint16_t ctrl;

	if (!(reg < x->cap + 4 && x->cap + 2 < reg + len))
		return;
	ctrl = pci_get16(x->ep->cfg.data, x->cap + 2);
	pthread_mutex_lock(&x->lock);
	x->enabled = ctrl & MSIX_CTRL_ENABLE;
	x->maskall = ctrl & MSIX_CTRL_MASKALL;
	sync_all(x);
	pthread_mutex_unlock(&x->lock);
}

bool msix_enabled(struct msix *x)
{
	bool on;

	pthread_mutex_lock(&x->lock);
	on = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return on;
}

static uint32_t *entry_word(struct msix *x, uint64_t off)
{
	struct msix_entry *e = &x->table[off / MSIX_ENTRY_SIZE];

	switch (off % MSIX_ENTRY_SIZE) {
	case 0:
		return &e->addr_lo;
	case 4:
		return &e->addr_hi;
	case 8:
		return &e->data;
	default:
		return &e->ctrl;
	}
}

/* Only aligned dword and qword accesses are defined; others read ones, write nothing. */
static bool access_ok(const struct msix *x, uint64_t off, unsigned int len, uint64_t size)
{
	return (len == 4 || len == 8) && !(off % len) && off < size && len <= size - off;
}

uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int len)
{
	uint64_t v;

	if (!access_ok(x, off, len, msix_table_size(x)))
		return ~0ull;
	pthread_mutex_lock(&x->lock);
	v = *entry_word(x, off);
	if (len == 8)
		v |= (uint64_t)*entry_word(x, off + 4) << 32;
	pthread_mutex_unlock(&x->lock);
	return v;
}

void msix_table_write(struct msix *x, uint64_t off, uint64_t value, unsigned int len)
{
	unsigned int v = (unsigned int)(off / MSIX_ENTRY_SIZE);
	bool was_masked;

	if (!access_ok(x, off, len, msix_table_size(x)))
		return;
	pthread_mutex_lock(&x->lock);
	was_masked = vector_masked(x, v);
	for (unsigned int i = 0; i < len; i += 4) {
		uint32_t *w = entry_word(x, off + i);
		uint32_t val = (uint32_t)(value >> (i * 8));

		*w = (off + i) % MSIX_ENTRY_SIZE == 12 ? val & 1 : val;
	}
	/* A new message for a vector that is live must reach the platform too. */
	sync_vector(x, v, !was_masked && !vector_masked(x, v));
	pthread_mutex_unlock(&x->lock);
}

uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	if (!access_ok(x, off, len, msix_pba_size(x)))
		return ~0ull;
	pthread_mutex_lock(&x->lock);
	for (unsigned int bit = 0; bit < len * 8; bit++) {
		unsigned int vec = (unsigned int)(off * 8) + bit;

		if (vec < x->nr && vector_masked(x, vec) && x->port.ops && x->port.ops->pending &&
		    x->port.ops->pending(x->port.opaque, vec))
			v |= 1ull << bit;
	}
	pthread_mutex_unlock(&x->lock);
	return v;
}
