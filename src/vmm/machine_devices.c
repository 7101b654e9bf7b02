/*
 * The platform devices of a machine, from its plan: the UARTs on their
 * consoles, the i8042, the RTC, the ACPI PM registers, the PCI host bridge
 * and its bridges; then the virtio and passed-through functions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "legacy/acpi_pm.h"
#include "legacy/i8042.h"
#include "legacy/rtc.h"
#include "legacy/serial.h"
#include "util/log.h"
#include "vmm/machine.h"

static void uart_output(void *opaque, const uint8_t *buf, size_t len)
{
	console_write(opaque, buf, len);
}

static void uart_rx_ready(void *opaque)
{
	console_wake(opaque);
}

static size_t uart_deliver(void *opaque, const uint8_t *buf, size_t len)
{
	return serial_receive(opaque, buf, len);
}

static void console_quit(void *opaque)
{
	struct machine *m = opaque;

	machine_stop_on_signal(m, 0);
}

static void kbc_reset(void *opaque)
{
	struct machine *m = opaque;

	vm_request_stop(&m->vm, VM_STOP_RESET);
}

static void pm_poweroff(void *opaque)
{
	struct machine *m = opaque;

	vm_request_stop(&m->vm, VM_STOP_POWEROFF);
}

static int machine_uarts_create(struct machine *m, char *err, size_t errlen)
{
	const struct vm_config *cfg = m->plan->cfg;
	const struct vm_plan *plan = m->plan;

	for (unsigned int i = 0; i < plan->nr_legacy; i++) {
		const struct plan_legacy *lg = &plan->legacy[i];
		struct console *con;
		struct serial *uart;
		struct irq_line irq;
		int ret;

		if (lg->serial < 0)
			continue;
		con = &m->consoles[lg->serial];
		ret = irq_lines_get(&m->irqs, (unsigned int)lg->irq, &irq);
		if (ret) {
			snprintf(err, errlen, "com%u: no interrupt line %d",
				 cfg->serials[lg->serial].index + 1, lg->irq);
			return ret;
		}
		uart = serial_create(lg->port, &irq, uart_output, con);
		if (!uart) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		m->uarts[lg->serial] = uart;
		serial_set_rx_ready(uart, uart_rx_ready, con);
		ret = serial_register(uart, &m->vm.bus);
		if (!ret)
			ret = console_attach(con, m->el, uart_deliver, uart, console_quit, m);
		if (ret) {
			snprintf(err, errlen, "com%u: %s", cfg->serials[lg->serial].index + 1,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int machine_devices_create(struct machine *m, char *err, size_t errlen)
{
	struct irq_line kbd_irq;
	int ret;

	ret = machine_uarts_create(m, err, errlen);
	if (ret)
		return ret;

	ret = irq_lines_get(&m->irqs, I8042_KBD_IRQ, &kbd_irq);
	if (ret)
		goto fail;
	m->kbc = i8042_create(&kbd_irq, NULL, kbc_reset, m);
	m->rtc = rtc_create(NULL, NULL);
	m->pm = acpi_pm_create(pm_poweroff, m);
	if (!m->kbc || !m->rtc || !m->pm) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = i8042_register(m->kbc, &m->vm.bus);
	if (!ret)
		ret = rtc_register(m->rtc, &m->vm.bus);
	if (!ret)
		ret = acpi_pm_register(m->pm, &m->vm.bus);
	if (ret)
		goto fail;
	ret = machine_pci_create(m, err, errlen);
	if (ret)
		return ret;
	ret = machine_virtio_create(m, err, errlen);
	if (ret)
		return ret;
	return machine_vfio_create(m, err, errlen);
fail:
	snprintf(err, errlen, "platform devices: %s", strerror(-ret));
	return ret;
}

void machine_devices_destroy(struct machine *m)
{
	const struct vm_config *cfg = m->plan->cfg;

	machine_vfio_destroy(m);
	machine_virtio_destroy(m);
	machine_pci_destroy(m);
	for (unsigned int i = 0; i < cfg->nr_serials; i++) {
		console_detach(&m->consoles[i]);
		serial_destroy(m->uarts[i]);
		m->uarts[i] = NULL;
	}
	/* The bus is freed whole by the caller; the devices go here. */
	i8042_destroy(m->kbc);
	rtc_destroy(m->rtc);
	acpi_pm_destroy(m->pm);
	m->kbc = NULL;
	m->rtc = NULL;
	m->pm = NULL;
}
