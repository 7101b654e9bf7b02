/*
 * MSI-X for an endpoint: the capability, the vector table and the pending
 * bit array, with per-vector and function masking. What each vector sends,
 * and whether it is masked, goes to the platform (hw/msi.h) as it changes;
 * pending bits come back from it. Serves virtio and passthrough alike.
 */
#ifndef VMM_PCI_MSIX_H
#define VMM_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/msi.h"
#include "pci/endpoint.h"

#define MSIX_ENTRY_SIZE		16
#define MSIX_MAX_VECTORS	2048
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct msix {
	struct pci_endpoint *ep;
	unsigned int cap;		/* capability offset in config space */
	unsigned int nr;		/* vectors */
	struct msix_entry *table;
	bool *masked;			/* the state the platform was last told */
	bool enabled, maskall;
	struct msi_port port;
	pthread_mutex_t lock;
};

/*
 * Add the capability to ep: nr vectors, the table at table_off in BAR
 * table_bar and the PBA at pba_off in BAR pba_bar. Every vector starts
 * masked, MSI-X disabled. 0 or a negative errno.
 */
int msix_init(struct msix *x, struct pci_endpoint *ep, unsigned int nr,
	      unsigned int table_bar, uint32_t table_off,
	      unsigned int pba_bar, uint32_t pba_off, const struct msi_port *port);
void msix_free(struct msix *x);

/* Back to the power-on state (device reset), telling the platform. */
void msix_reset(struct msix *x);

/*
 * The guest wrote config [reg, reg + len): if it touched the message
 * control word, apply enable and function mask. Call with ep's lock held
 * (from its cfg_written hook).
 */
void msix_cfg_written(struct msix *x, unsigned int reg, unsigned int len);

/* Accesses to the table and the PBA, offsets from their start. */
uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int len);
void msix_table_write(struct msix *x, uint64_t off, uint64_t value, unsigned int len);
uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int len);

/* Sizes of the table and the PBA in bytes. */
static inline uint64_t msix_table_size(const struct msix *x)
{
	return (uint64_t)x->nr * MSIX_ENTRY_SIZE;
}

static inline uint64_t msix_pba_size(const struct msix *x)
{
	return ((x->nr + 63) / 64) * 8;
}

/* Whether MSI-X is on (the function then signals no INTx). */
bool msix_enabled(struct msix *x);

#endif
