/*
 * pci-topo: the command line. Reads a machine file, plans the guest exactly
 * as vmm would, and prints the plan (text, JSON, DTS, DTB) or the host's devices.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/cli.h"
#include "vmm/config.h"
#include "vmm/plan.h"
#include "print.h"

enum format { FMT_TEXT, FMT_JSON, FMT_DTS, FMT_DTB };

static const char *const format_opt[] = {
	[FMT_TEXT] = "text", [FMT_JSON] = "--json", [FMT_DTS] = "--dts", [FMT_DTB] = "--dtb",
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: pci-topo -c FILE [--json | --dts | --dtb] [-o OUT] [options]\n"
		"       pci-topo --check -c FILE\n"
		"       pci-topo --host [--json] [options]\n"
		"Print the guest layout that vmm plans for the machine file FILE, without\n"
		"starting anything: the PCI tree, every BAR, the memory and I/O port maps,\n"
		"interrupt routing and passthrough readiness.\n"
		"\n"
		"  -c, --config FILE     the machine file (see vmm.ini(5))\n"
		"      --check           validate the machine file only, then exit\n"
		"      --host            list the host's PCI devices and their readiness\n"
		"      --json            print the plan (or host list) as JSON\n"
		"      --dts             print the guest platform as device tree source\n"
		"      --dtb             write the guest platform as a device tree blob\n"
		"  -o, --output OUT      write to OUT instead of standard output\n"
		"      --sysfs-root DIR  read host PCI facts below DIR instead of /sys\n"
		"      --dev-root DIR    look for vfio nodes below DIR instead of /dev\n"
		"  -v, --verbose         say more (repeat for debug output)\n"
		"  -q, --quiet           errors only\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 printed, 2 configuration or setup error, 3 internal error.\n");
}

/* Print-time errors: out of memory and broken plans are ours, I/O is not. */
static int print_status(int err, const char *out)
{
	if (!err)
		return 0;
	if (err == -EIO) {
		pr_err("cannot write %s: %s", out ? out : "standard output",
		       errno ? strerror(errno) : "write error");
		return EXIT_SETUP;
	}
	if (err == -ENOMEM) {
		pr_err("out of memory");
		return EXIT_INTERNAL;
	}
	pr_err("internal error while printing: %s", strerror(-err));
	return EXIT_INTERNAL;
}

static FILE *open_output(const char *out, enum format fmt)
{
	FILE *f;

	if (!out) {
		if (fmt == FMT_DTB && isatty(STDOUT_FILENO)) {
			pr_err("refusing to write a binary device tree to a terminal: "
			       "use -o FILE or redirect standard output");
			return NULL;
		}
		return stdout;
	}
	f = fopen(out, fmt == FMT_DTB ? "wb" : "w");
	if (!f)
		pr_err("cannot open %s for writing: %s", out, strerror(errno));
	return f;
}

static int close_output(FILE *f, const char *out, int ret)
{
	if (f == stdout) {
		if (!ret && fflush(stdout))
			ret = print_status(-EIO, NULL);
		return ret;
	}
	if (fclose(f) && !ret)
		ret = print_status(-EIO, out);
	if (ret)
		unlink(out);
	return ret;
}

static int run_host(const char *sysfs_root, const char *dev_root, enum format fmt,
		    const char *out)
{
	struct host_inventory *inv;
	FILE *f;
	int ret, err;

	errno = 0;
	inv = host_inventory_open(sysfs_root, dev_root);
	if (!inv) {
		pr_err("cannot read host PCI devices under %s: %s",
		       sysfs_root ? sysfs_root : "/sys",
		       errno ? strerror(errno) : "unknown error");
		return EXIT_SETUP;
	}
	f = open_output(out, fmt);
	if (!f) {
		host_inventory_close(inv);
		return EXIT_SETUP;
	}
	errno = 0;
	err = fmt == FMT_JSON ? print_host_json(f, inv) : print_host_text(f, inv);
	if (err && err != -EIO && err != -ENOMEM) {
		pr_err("cannot list host PCI devices under %s: %s",
		       sysfs_root ? sysfs_root : "/sys", strerror(-err));
		ret = EXIT_SETUP;
	} else {
		ret = print_status(err, out);
	}
	ret = close_output(f, out, ret);
	host_inventory_close(inv);
	return ret;
}

static int print_plan(FILE *f, const struct vm_plan *plan, enum format fmt)
{
	switch (fmt) {
	case FMT_JSON:
		return print_json(f, plan);
	case FMT_DTS:
		return print_dts(f, plan);
	case FMT_DTB:
		return print_dtb(f, plan);
	case FMT_TEXT:
		break;
	}
	return print_text(f, plan);
}

static int run_plan(const char *file, const char *sysfs_root, const char *dev_root,
		    enum format fmt, const char *out)
{
	struct host_inventory *inv = NULL;
	struct vm_config cfg;
	struct vm_plan plan;
	char err[1024];
	FILE *f;
	int ret;

	ret = cli_load_config(file, &cfg);
	if (ret)
		return ret;
	ret = cli_open_inventory(&cfg, sysfs_root, dev_root, &inv);
	if (ret)
		goto out_cfg;
	err[0] = '\0';
	if (plan_build(&cfg, inv, &plan, err, sizeof(err)) < 0) {
		pr_err("%s", err[0] ? err : "cannot plan the guest layout");
		ret = EXIT_SETUP;
		goto out_inv;
	}
	pr_info("%s: planned %u PCI functions", file, plan.pci.nr_funcs);
	f = open_output(out, fmt);
	if (!f) {
		ret = EXIT_SETUP;
		goto out_plan;
	}
	errno = 0;
	ret = print_status(print_plan(f, &plan, fmt), out);
	ret = close_output(f, out, ret);
out_plan:
	plan_free(&plan);
out_inv:
	host_inventory_close(inv);
out_cfg:
	config_free(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_HOST, OPT_JSON, OPT_DTS, OPT_DTB, OPT_SYSFS, OPT_DEV };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "host", no_argument, NULL, OPT_HOST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dts", no_argument, NULL, OPT_DTS },
		{ "dtb", no_argument, NULL, OPT_DTB },
		{ "output", required_argument, NULL, 'o' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "dev-root", required_argument, NULL, OPT_DEV },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *sysfs_root = NULL, *dev_root = NULL, *out = NULL;
	enum format fmt = FMT_TEXT;
	int check = 0, host = 0, nfmt = 0, level = LOG_WARN, c;

	log_init("pci-topo", LOG_WARN);
	while ((c = getopt_long(argc, argv, "c:o:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_HOST:
			host = 1;
			break;
		case OPT_JSON:
		case OPT_DTS:
		case OPT_DTB:
			fmt = c == OPT_JSON ? FMT_JSON : c == OPT_DTS ? FMT_DTS : FMT_DTB;
			nfmt++;
			break;
		case OPT_SYSFS:
			sysfs_root = optarg;
			break;
		case OPT_DEV:
			dev_root = optarg;
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
			cli_print_version("pci-topo");
			return 0;
		default:
			usage(stderr);
			return EXIT_SETUP;
		}
	}
	log_set_level(level);
	if (optind < argc) {
		pr_err("unexpected argument '%s' (the machine file goes after -c)", argv[optind]);
		return EXIT_SETUP;
	}
	if (nfmt > 1) {
		pr_err("--json, --dts and --dtb exclude each other: choose one");
		return EXIT_SETUP;
	}
	if (host && check) {
		pr_err("--host and --check exclude each other");
		return EXIT_SETUP;
	}
	if (host) {
		if (file) {
			pr_err("--host lists the host's devices and takes no machine file");
			return EXIT_SETUP;
		}
		if (fmt == FMT_DTS || fmt == FMT_DTB) {
			pr_err("%s describes a guest: it needs -c FILE, not --host",
			       format_opt[fmt]);
			return EXIT_SETUP;
		}
		return run_host(sysfs_root, dev_root, fmt, out);
	}
	if (!file) {
		pr_err("no machine file: run pci-topo -c FILE (see pci-topo --help)");
		return EXIT_SETUP;
	}
	if (check) {
		if (nfmt || out) {
			pr_err("--check prints nothing: it takes no %s",
			       nfmt ? format_opt[fmt] : "-o");
			return EXIT_SETUP;
		}
		return cli_check_config(file);
	}
	return run_plan(file, sysfs_root, dev_root, fmt, out);
}
