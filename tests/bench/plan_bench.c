/*
 * Planner benchmark: a generated machine of about 1000 functions (four PCI
 * bridges, each with 31 slots x 8 virtio functions), planned RUNS times;
 * prints the median. Target: under 50 ms. Usage: plan_bench [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/config.h"
#include "vmm/plan.h"

#define NR_BRIDGES	4
#define SLOTS		31
#define FUNCS		8
#define NR_DEVICES	(NR_BRIDGES * SLOTS * FUNCS)
#define TARGET_MS	50.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const enum device_kind kinds[] = {
		DEV_VIRTIO_BLK, DEV_VIRTIO_NET, DEV_VIRTIO_CONSOLE, DEV_VIRTIO_RNG,
	};
	static struct bridge_config bridges[NR_BRIDGES];
	static struct device_config devices[NR_DEVICES];
	static char names[NR_DEVICES][16], bnames[NR_BRIDGES][16];
	struct vm_config cfg;
	struct vm_plan plan;
	char err[1024];
	double *ms, t0;
	int runs = argc > 1 ? atoi(argv[1]) : 51;
	int i;

	if (runs < 1) {
		fprintf(stderr, "usage: %s [RUNS]\n", argv[0]);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.file = "bench.ini";
	cfg.machine.name = "bench";
	cfg.machine.cpus = 8;
	cfg.machine.memory = 16ULL << 30;
	cfg.machine.phys_bits = 40;
	cfg.nr_serials = 1;
	for (i = 0; i < NR_BRIDGES; i++) {
		snprintf(bnames[i], sizeof(bnames[i]), "pb%d", i);
		bridges[i].name = bnames[i];
		bridges[i].kind = BRIDGE_PCI;
		bridges[i].at = (struct placement){ .bus = -1, .slot = CFG_SLOT_AUTO };
	}
	/* Automatic slots for function 0, the others with their slot given. */
	for (i = 0; i < NR_DEVICES; i++) {
		int slot = i % (SLOTS * FUNCS) / FUNCS, fn = i % FUNCS;

		snprintf(names[i], sizeof(names[i]), "dev%d", i);
		devices[i].name = names[i];
		devices[i].kind = kinds[i % 4];
		devices[i].at = (struct placement){
			.bus = i / (SLOTS * FUNCS),
			.slot = fn ? slot : CFG_SLOT_AUTO,
			.function = fn,
		};
	}
	cfg.bridges = bridges;
	cfg.nr_bridges = NR_BRIDGES;
	cfg.devices = devices;
	cfg.nr_devices = NR_DEVICES;

	ms = calloc((size_t)runs, sizeof(*ms));
	if (!ms)
		return 3;
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		if (plan_build(&cfg, NULL, &plan, err, sizeof(err))) {
			fprintf(stderr, "plan_bench: %s\n", err);
			free(ms);
			return 1;
		}
		ms[i] = now_ms() - t0;
		if (i == runs - 1)
			printf("plan_bench: %u PCI functions on %u buses\n",
			       plan.pci.nr_funcs, plan.pci.nr_buses);
		plan_free(&plan);
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("plan_bench: median %.3f ms, min %.3f ms, max %.3f ms over %d runs (target < %.0f ms)\n",
	       ms[runs / 2], ms[0], ms[runs - 1], runs, TARGET_MS);
	i = ms[runs / 2] < TARGET_MS ? 0 : 1;
	free(ms);
	return i;
}
