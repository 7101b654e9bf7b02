/*
 * libFuzzer target: the input is a machine file. config_load_stream() reads
 * and validates it; a file it accepts goes through plan_build() with the
 * fixture host inventory (tests/fixtures/host) for its vfio devices.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/plan.h"
#include "fuzz_check.h"

#define FIXTURE_SYS	SRCDIR "/tests/fixtures/host/sys"
#define FIXTURE_DEV	SRCDIR "/tests/fixtures/host/dev"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct host_inventory *inv;
static char err[1024], err2[1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	struct vm_plan plan, again;
	FILE *f;
	int ret, ret2;

	if (!inv) {
		inv = host_inventory_open(FIXTURE_SYS, FIXTURE_DEV);
		if (!inv) {
			fprintf(stderr, "fuzz_config: no fixture host tree at %s\n", FIXTURE_SYS);
			abort();
		}
	}
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	ret = config_load_stream(f, "fuzz.ini", &cfg, err, sizeof(err));
	fclose(f);
	if (ret) {
		/* Refused: with a message, and nothing to free. */
		CHECK(ret < 0);
		CHECK(err[0] != '\0');
		CHECK(memchr(err, '\0', sizeof(err)));
		return 0;
	}
	CHECK(cfg.machine.cpus >= 1 && cfg.machine.cpus <= CFG_MAX_CPUS);
	CHECK(cfg.nr_serials <= CFG_MAX_SERIALS);

	/* plan_build is a pure function of the config and the inventory. */
	memset(&plan, 0, sizeof(plan));
	memset(&again, 0, sizeof(again));
	err[0] = err2[0] = '\0';
	ret = plan_build(&cfg, inv, &plan, err, sizeof(err));
	ret2 = plan_build(&cfg, inv, &again, err2, sizeof(err2));
	CHECK(ret <= 0 && ret == ret2);
	if (ret) {
		CHECK(err[0] != '\0');
		CHECK(!strcmp(err, err2));
	} else {
		CHECK(plan.pci.nr_funcs == again.pci.nr_funcs);
		CHECK(plan.nr_legacy == again.nr_legacy && plan.nr_legacy <= PLAN_MAX_LEGACY);
		for (unsigned int i = 0; i < cfg.nr_devices; i++) {
			const struct pci_func *a = plan_device_func(&plan, (int)i);
			const struct pci_func *b = plan_device_func(&again, (int)i);

			CHECK(a && b);
			CHECK(a->bus == b->bus && a->dev == b->dev && a->fn == b->fn);
			for (unsigned int j = 0; j < PCI_NR_BARS; j++)
				CHECK(a->bars[j].addr == b->bars[j].addr &&
				      a->bars[j].size == b->bars[j].size);
		}
		plan_free(&plan);
		plan_free(&again);
	}
	config_free(&cfg);
	return 0;
}
