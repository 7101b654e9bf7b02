/* PM1a event and control registers; S5 with SLP_EN powers the machine off. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "legacy/acpi_pm.h"
#include "x86/acpi.h"

#define PM1_STS		0	/* offsets in the event block */
#define PM1_EN		2

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	acpi_pm_poweroff_fn poweroff;
	void *opaque;
};

static uint64_t pm_evt_read(void *opaque, uint64_t off, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint32_t v;

	pthread_mutex_lock(&pm->lock);
	v = pm->sts | (uint32_t)pm->en << 16;
	pthread_mutex_unlock(&pm->lock);
	if (off >= ACPI_PM1_EVT_LEN)
		return ~0ULL;
	v >>= off * 8;
	return len >= 4 ? v : v & ((1U << (len * 8)) - 1);
}

static void pm_evt_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint32_t mask = len >= 4 ? ~0U : (1U << (len * 8)) - 1;
	uint32_t cur, wr;

	if (off >= ACPI_PM1_EVT_LEN)
		return;
	pthread_mutex_lock(&pm->lock);
	cur = pm->sts | (uint32_t)pm->en << 16;
	wr = ((uint32_t)val & mask) << (off * 8);
	mask <<= off * 8;
	pm->sts &= ~(uint16_t)(wr & mask);		/* status bits: write 1 to clear */
	pm->en = (uint16_t)(((cur & ~mask) | (wr & mask)) >> 16);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t pm_cnt_read(void *opaque, uint64_t off, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint16_t v;

	if (off >= ACPI_PM1_CNT_LEN)
		return ~0ULL;
	pthread_mutex_lock(&pm->lock);
	v = pm->cnt | ACPI_PM1_CNT_SCI_EN;
	pthread_mutex_unlock(&pm->lock);
	v >>= off * 8;
	return len >= 2 ? v : v & 0xff;
}

static void pm_cnt_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint16_t mask = len >= 2 ? 0xffff : 0xff;
	uint16_t v;
	bool off_now;

	if (off >= ACPI_PM1_CNT_LEN)
		return;
	mask <<= off * 8;
	pthread_mutex_lock(&pm->lock);
	v = (uint16_t)((pm->cnt & ~mask) | (((uint16_t)val << (off * 8)) & mask));
	off_now = (v & ACPI_PM1_CNT_SLP_EN) &&
		  ((v & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT) ==
			  ACPI_S5_SLP_TYP;
	pm->cnt = v & ~ACPI_PM1_CNT_SLP_EN;	/* SLP_EN reads as 0 */
	pthread_mutex_unlock(&pm->lock);
	if (off_now && pm->poweroff)
		pm->poweroff(pm->opaque);
}

static const struct io_ops pm_evt_ops = { .read = pm_evt_read, .write = pm_evt_write };
static const struct io_ops pm_cnt_ops = { .read = pm_cnt_read, .write = pm_cnt_write };

struct acpi_pm *acpi_pm_create(acpi_pm_poweroff_fn poweroff, void *opaque)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->poweroff = poweroff;
	pm->opaque = opaque;
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

int acpi_pm_register(struct acpi_pm *pm, struct io_bus *bus)
{
	int ret = io_bus_register(bus, IO_SPACE_PIO, ACPI_PM1A_EVT_BLK,
				  ACPI_PM1_EVT_LEN, &pm_evt_ops, pm, "ACPI PM1a_EVT_BLK");

	if (ret)
		return ret;
	ret = io_bus_register(bus, IO_SPACE_PIO, ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN,
			      &pm_cnt_ops, pm, "ACPI PM1a_CNT_BLK");
	if (ret)
		io_bus_unregister(bus, IO_SPACE_PIO, ACPI_PM1A_EVT_BLK);
	return ret;
}

void acpi_pm_unregister(struct acpi_pm *pm, struct io_bus *bus)
{
	(void)pm;
	io_bus_unregister(bus, IO_SPACE_PIO, ACPI_PM1A_EVT_BLK);
	io_bus_unregister(bus, IO_SPACE_PIO, ACPI_PM1A_CNT_BLK);
}
