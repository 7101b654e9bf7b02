/*
 * Realising a plan: the VM, its RAM, the devices and vCPUs, the guest
 * kernel loaded; then running it until something stops it. A reset is a new
 * machine from the same plan.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <stddef.h>

#include "vmm/boot_files.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "util/event_loop.h"
#include "vmm/irq_lines.h"
#include "vmm/plan.h"
#include "vmm/vm.h"

struct serial;
struct i8042;
struct rtc;
struct acpi_pm;
struct pci_root;
struct machine_virtio;
struct machine_vfio;

struct machine {
	struct vm vm;
	const struct vm_plan *plan;
	const struct boot_files *files;
	struct event_loop *el;
	/*
	 * [cfg->nr_serials + number of virtio consoles]: the UARTs' parallel to
	 * cfg->serials, then the virtio consoles in device order.
	 */
	struct console *consoles;
	struct irq_lines irqs;
	struct serial *uarts[CFG_MAX_SERIALS];
	struct i8042 *kbc;
	struct rtc *rtc;
	struct acpi_pm *pm;
	struct pci_root *pci;
	struct machine_virtio *virtio;	/* [cfg->nr_devices], used for virtio ones */
	struct machine_vfio *vfio;	/* the passed-through functions; NULL: none */
	bool stop_watched;
};

/*
 * Whether the devices of the plan can be realised, before KVM is touched: a
 * host function that cannot be passed through (not bound to vfio-pci, no
 * /dev/vfio node, a group not viable...) with its fix. 0 or -ENODEV.
 */
int machine_check_devices(const struct vm_plan *plan, char *err, size_t errlen);

/*
 * Build the machine; the consoles stay the caller's (they outlive resets).
 * 0 or a negative errno with a message in err; nothing is left behind.
 */
int machine_create(struct machine *m, const struct vm_plan *plan,
		   const struct boot_files *files, struct event_loop *el,
		   struct console *consoles, char *err, size_t errlen);
/* Run the vCPUs and the event loop until a stop request; returns why. */
enum vm_stop_reason machine_run(struct machine *m);
/* Ask a running machine to stop (a signal arrived). */
void machine_stop_on_signal(struct machine *m, int signo);
void machine_destroy(struct machine *m);

/* Parts of machine_create, in their own files. */
int machine_devices_create(struct machine *m, char *err, size_t errlen);
void machine_devices_destroy(struct machine *m);
int machine_pci_create(struct machine *m, char *err, size_t errlen);
void machine_pci_destroy(struct machine *m);
int machine_virtio_create(struct machine *m, char *err, size_t errlen);
void machine_virtio_stats(struct machine *m);
void machine_virtio_destroy(struct machine *m);
/* cfg->devices[i] (type = vfio) from its host facts: 0 or -ENODEV, the fix in err. */
int machine_vfio_check(const struct vm_plan *plan, unsigned int i, char *err, size_t errlen);
int machine_vfio_create(struct machine *m, char *err, size_t errlen);
void machine_vfio_stats(struct machine *m);
void machine_vfio_destroy(struct machine *m);
int machine_boot_prepare(struct machine *m, char *err, size_t errlen);

#endif
