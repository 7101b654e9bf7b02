/* What both programs share on the command line: exit statuses, -v/-q, --version. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

int cli_check_config(const char *path)
{
	struct vm_config cfg;
	int ret = cli_load_config(path, &cfg);

	if (ret)
		return ret;
	pr_info("%s: ok", path);
	config_free(&cfg);
	return 0;
}

int cli_open_inventory(const struct vm_config *cfg, const char *sysfs_root,
		       const char *dev_root, struct host_inventory **inv)
{
	unsigned int i;

	*inv = NULL;
	for (i = 0; i < cfg->nr_devices; i++)
		if (cfg->devices[i].kind == DEV_VFIO)
			break;
	if (i == cfg->nr_devices)
		return 0;
	*inv = host_inventory_open(sysfs_root, dev_root);
	if (!*inv) {
		pr_err("cannot read host PCI devices under %s: %s",
		       sysfs_root ? sysfs_root : "/sys", strerror(errno));
		return EXIT_SETUP;
	}
	return 0;
}
