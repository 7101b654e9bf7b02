/*
 * The PS/2 controller (i8042) at ports 0x60/0x64 with an AT keyboard behind
 * it and no mouse, enough for Linux's i8042 and atkbd drivers to probe it;
 * and port 0x92 (fast A20 and fast reset). Both reset paths (command 0xfe,
 * port 0x92 bit 0) call one reset callback. Port 0x61 is not claimed: it is
 * the PIT's speaker port (KVM's in-kernel PIT).
 *
 * Locking rule: one internal mutex per controller. The irq_lines' set()
 * callbacks run WITH it held (and must not call back into the i8042); the
 * reset callback runs with NO lock held, on the vCPU thread that asked for
 * the reset, and typically marks the VM for reset and kicks the vCPUs.
 */
#ifndef VMM_LEGACY_I8042_H
#define VMM_LEGACY_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/io.h"
#include "hw/irq.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64	/* status on read */
#define I8042_PORT_92		0x92
#define I8042_KBD_IRQ		1
#define I8042_AUX_IRQ		12

struct i8042;

typedef void (*i8042_reset_fn)(void *opaque);

/*
 * kbd_irq / aux_irq are copied (NULL for none); reset may be NULL. NULL on
 * allocation failure.
 */
struct i8042 *i8042_create(const struct irq_line *kbd_irq,
			   const struct irq_line *aux_irq,
			   i8042_reset_fn reset, void *opaque);
void i8042_destroy(struct i8042 *kbc);

/* Claim 0x60, 0x64 and 0x92: 0 or a negative errno (nothing left claimed). */
int i8042_register(struct i8042 *kbc, struct io_bus *bus);
void i8042_unregister(struct i8042 *kbc, struct io_bus *bus);

/* Back to the power-on state (the callbacks stay). */
void i8042_reset(struct i8042 *kbc);

/* The A20 gate as the guest last set it (output port bit 1 or port 0x92). */
bool i8042_a20(struct i8042 *kbc);

#endif
