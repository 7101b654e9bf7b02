/* Running a planned machine: consoles, signals, resets; the exit status. */
#ifndef VMM_RUN_H
#define VMM_RUN_H

#include "vmm/plan.h"

/* Boot and run the plan's guest until it stops; returns vmm's exit status. */
int vmm_run(const struct vm_plan *plan);

#endif
