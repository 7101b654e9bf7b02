/* What both programs share on the command line: exit statuses, -v/-q, --version. */
#include <stdio.h>

#include "autoconfig.h"
#include "util/log.h"
#include "vmm/cli.h"

void cli_print_version(const char *prog)
{
	printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
}

int cli_load_config(const char *path, struct vm_config *cfg)
{
	char err[1024];

	if (config_load(path, cfg, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		return EXIT_SETUP;
	}
	return 0;
}
