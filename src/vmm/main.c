/* vmm: the command line; reads the machine file, plans the guest, runs it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "vmm/cli.h"
#include "vmm/config.h"
#include "vmm/plan.h"
#include "vmm/run.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmm -c FILE [options]\n"
		"Boot the Linux guest described by the machine file FILE on KVM.\n"
		"\n"
		"  -c, --config FILE    the machine file (see vmm.ini(5))\n"
		"      --check          validate the machine file only, then exit\n"
		"      --sysfs-root DIR read host PCI facts below DIR instead of /sys\n"
		"      --kernel-cache DIR|off\n"
		"                       where vmm keeps the kernels it unpacked (default\n"
		"                       $XDG_CACHE_HOME/vmm/kernels or ~/.cache/vmm/kernels)\n"
		"  -v, --verbose        say more (repeat for debug output)\n"
		"  -q, --quiet          errors only\n"
		"  -h, --help           this text\n"
		"  -V, --version        the version\n"
		"\n"
		"Exit status: 0 guest powered off, 1 guest reset or crashed (as\n"
		"configured), 2 configuration or setup error, 3 internal error.\n"
		"`pci-topo -c FILE` prints the guest's PCI layout without starting it.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "sysfs-root", required_argument, NULL, 'S' },
		{ "kernel-cache", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *sysfs_root = NULL;
	struct vmm_options vopts = { .kernel_cache = NULL };
	struct host_inventory *inv = NULL;
	struct vm_config cfg;
	struct vm_plan plan;
	int check = 0, level = LOG_WARN, c, ret;
	char err[1024];

	log_init("vmm", LOG_WARN);
	while ((c = getopt_long(argc, argv, "c:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'S':
			sysfs_root = optarg;
			break;
		case 'K':
			if (!*optarg) {
				pr_err("--kernel-cache: expected a directory or off");
				return EXIT_SETUP;
			}
			vopts.kernel_cache = optarg;
			break;
		case 'v':
			if (level < LOG_DEBUG)
				level++;
			break;
		case 'q':
			level = LOG_ERROR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_print_version("vmm");
			return 0;
		default:
			usage(stderr);
			return EXIT_SETUP;
		}
	}
	log_set_level(level);
	if (optind < argc) {
		pr_err("unexpected argument '%s' (the machine file goes after -c)",
		       argv[optind]);
		return EXIT_SETUP;
	}
	if (!file) {
		pr_err("no machine file: run vmm -c FILE (see vmm --help)");
		return EXIT_SETUP;
	}

	if (check)
		return cli_check_config(file);
	ret = cli_load_config(file, &cfg);
	if (ret)
		return ret;

	ret = cli_open_inventory(&cfg, sysfs_root, NULL, &inv);
	if (ret)
		goto out_cfg;
	if (plan_build(&cfg, inv, &plan, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		ret = EXIT_SETUP;
		goto out_inv;
	}
	pr_info("%s: planned %u PCI functions", file, plan.pci.nr_funcs);
	ret = vmm_run(&plan, &vopts);
	plan_free(&plan);
out_inv:
	host_inventory_close(inv);
out_cfg:
	config_free(&cfg);
	return ret;
}
