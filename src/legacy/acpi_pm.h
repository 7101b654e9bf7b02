/*
 * The ACPI fixed-hardware PM1 registers that the FADT points at (event block
 * at 0x600, control block at 0x604): enough for the guest to power off
 * through S5. No sleep states, no PM timer, the SCI is never raised.
 */
#ifndef VMM_LEGACY_ACPI_PM_H
#define VMM_LEGACY_ACPI_PM_H

#include <stdint.h>

#include "hw/io.h"

struct acpi_pm;

typedef void (*acpi_pm_poweroff_fn)(void *opaque);

/* NULL on allocation failure; poweroff runs on the vCPU thread that asked. */
struct acpi_pm *acpi_pm_create(acpi_pm_poweroff_fn poweroff, void *opaque);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Claim the PM1 ports: 0 or a negative errno. */
int acpi_pm_register(struct acpi_pm *pm, struct io_bus *bus);
void acpi_pm_unregister(struct acpi_pm *pm, struct io_bus *bus);

#endif
