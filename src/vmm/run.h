/* Running a planned machine: consoles, signals, resets; the exit status. */
#ifndef VMM_RUN_H
#define VMM_RUN_H

#include "vmm/plan.h"

/* How vmm runs, beyond the machine file: its command-line options. */
struct vmm_options {
	const char *kernel_cache;	/* a directory, "off", or NULL: the default */
};

/* Boot and run the plan's guest until it stops; returns vmm's exit status. */
int vmm_run(const struct vm_plan *plan, const struct vmm_options *opts);

#endif
