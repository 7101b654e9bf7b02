/* What both programs share on the command line: exit statuses, -v/-q, --version. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include "vfio/host.h"
#include "vmm/config.h"

enum vmm_exit {
	EXIT_GUEST_POWEROFF = 0,	/* also: success */
	EXIT_GUEST_RESET = 1,		/* guest reset or crashed, as configured */
	EXIT_SETUP = 2,			/* configuration or setup error */
	EXIT_INTERNAL = 3,
};

void cli_print_version(const char *prog);

/* Load a machine file; on error print the message and return EXIT_SETUP. */
int cli_load_config(const char *path, struct vm_config *cfg);

/* --check, the same for both programs: the machine file alone; 0 or EXIT_SETUP. */
int cli_check_config(const char *path);

/*
 * Open the host inventory if the config passes any device through (*inv
 * stays NULL otherwise). sysfs_root/dev_root NULL mean the live host.
 * On error print the message and return EXIT_SETUP.
 */
int cli_open_inventory(const struct vm_config *cfg, const char *sysfs_root,
		       const char *dev_root, struct host_inventory **inv);

#endif
