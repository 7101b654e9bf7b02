/*
 * The outer loop of vmm: consoles and signal handling that outlive guest
 * resets, one machine per boot, and the exit status from why it stopped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/cli.h"
#include "vmm/machine.h"
#include "vmm/run.h"

#define EXIT_SIGNAL_BASE	128	/* stopped by signal N: 128 + N, as a shell reports it */

struct run_ctx {
	struct machine *m;		/* the machine running now, or NULL */
	int sfd;
	struct event_loop *el;
	struct boot_files *files;
	int store_fd;			/* watched until the kernel cache has its entry */
};

static void run_signal(void *opaque, uint32_t events)
{
	struct run_ctx *rc = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(rc->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("signal %u: stopping the guest", si.ssi_signo);
	if (rc->m)
		machine_stop_on_signal(rc->m, (int)si.ssi_signo);
}

/*
 * A boot has loaded the kernel: vmm's own copy of it can go (see
 * boot_files_loaded()), or as soon as the kernel cache has written it, which
 * its eventfd tells the loop. The loop runs only while no boot is loading,
 * so nothing reads the copy meanwhile.
 */
static void run_kernel_stored(void *opaque, uint32_t events);

static void run_files_loaded(struct run_ctx *rc)
{
	if (rc->store_fd >= 0)
		event_loop_del(rc->el, rc->store_fd);
	boot_files_loaded(rc->files);
	rc->store_fd = boot_files_store_fd(rc->files);
	if (rc->store_fd >= 0 &&
	    event_loop_add(rc->el, rc->store_fd, EPOLLIN, run_kernel_stored, rc) < 0)
		rc->store_fd = -1;	/* then at the next boot */
}

static void run_kernel_stored(void *opaque, uint32_t events)
{
	(void)events;
	run_files_loaded(opaque);
}

/* The consoles: the UARTs', then the virtio consoles' in device order. */
static unsigned int run_nr_consoles(const struct vm_config *cfg)
{
	unsigned int n = cfg->nr_serials;

	for (unsigned int i = 0; i < cfg->nr_devices; i++)
		n += cfg->devices[i].kind == DEV_VIRTIO_CONSOLE;
	return n;
}

static int run_open_consoles(const struct vm_config *cfg, struct console *cons,
			     char names[][8])
{
	unsigned int n = 0;
	char err[512];

	for (unsigned int i = 0; i < cfg->nr_serials; i++, n++) {
		snprintf(names[i], 8, "com%u", cfg->serials[i].index + 1);
		if (console_open(&cons[n], &cfg->serials[i].console, names[i], err,
				 sizeof(err)) < 0) {
			pr_err("%s:%d: [serial \"%s\"] console: %s", cfg->file,
			       cfg->serials[i].console.line, names[i], err);
			goto fail;
		}
	}
	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		const struct device_config *d = &cfg->devices[i];

		if (d->kind != DEV_VIRTIO_CONSOLE)
			continue;
		if (console_open(&cons[n], &d->console, d->name, err, sizeof(err)) < 0) {
			pr_err("%s:%d: [device \"%s\"] console: %s", cfg->file,
			       d->console.line ? d->console.line : d->line, d->name, err);
			goto fail;
		}
		n++;
	}
	return 0;
fail:
	while (n--)
		console_close(&cons[n]);
	return -1;
}

static int run_exit_status(const struct vm_config *cfg, enum vm_stop_reason why,
			   int signo, bool *again)
{
	*again = false;
	switch (why) {
	case VM_STOP_POWEROFF:
		return EXIT_GUEST_POWEROFF;
	case VM_STOP_RESET:
		if (cfg->machine.on_reboot == REBOOT_RESET) {
			*again = true;
			return 0;
		}
		return EXIT_GUEST_RESET;
	case VM_STOP_SIGNAL:
		return EXIT_SIGNAL_BASE + (signo ? signo : SIGINT);
	default:
		return EXIT_INTERNAL;
	}
}

int vmm_run(const struct vm_plan *plan, const struct vmm_options *opts)
{
	const struct vm_config *cfg = plan->cfg;
	unsigned int nr_cons = run_nr_consoles(cfg);
	char names[CFG_MAX_SERIALS][8];
	struct run_ctx rc = { .m = NULL, .sfd = -1, .store_fd = -1 };
	struct console *cons = NULL;
	struct kernel_cache cache;
	struct boot_files files;
	struct event_loop el;
	struct machine m;
	sigset_t set;
	char err[1024];
	bool again = true;
	int status = EXIT_INTERNAL;
	unsigned int boots = 0;

	/* Refusals that need no KVM come first: devices, then the kernel. */
	if (machine_check_devices(plan, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		return EXIT_SETUP;
	}
	if (kernel_cache_init(&cache, opts->kernel_cache) < 0) {
		pr_err("out of memory");
		return EXIT_INTERNAL;
	}
	if (boot_files_load(&cfg->machine, &cache, &files, err, sizeof(err)) < 0) {
		pr_err("%s:%d: [machine] %s", cfg->file,
		       strncmp(err, "initrd:", 7) ? cfg->machine.kernel_line
						  : cfg->machine.initrd_line, err);
		kernel_cache_free(&cache);
		return EXIT_SETUP;
	}
	kernel_cache_free(&cache);

	/* Stop signals arrive through the loop; no thread takes them directly. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (vcpu_signal_init() < 0 || event_loop_init(&el) < 0) {
		pr_err("setting up signals and the event loop: %m");
		boot_files_free(&files);
		return EXIT_INTERNAL;
	}
	rc.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (rc.sfd < 0 || event_loop_add(&el, rc.sfd, EPOLLIN, run_signal, &rc) < 0) {
		pr_err("signalfd: %m");
		goto out_loop;
	}
	rc.el = &el;
	rc.files = &files;
	cons = calloc(nr_cons ? nr_cons : 1, sizeof(*cons));
	if (!cons) {
		pr_err("out of memory");
		goto out_loop;
	}
	if (run_open_consoles(cfg, cons, names) < 0) {
		status = EXIT_SETUP;
		goto out_loop;
	}

	while (again) {
		enum vm_stop_reason why;

		if (machine_create(&m, plan, &files, &el, cons, err, sizeof(err)) < 0) {
			pr_err("%s", err);
			status = boots ? EXIT_INTERNAL : EXIT_SETUP;
			break;
		}
		boots++;
		run_files_loaded(&rc);
		rc.m = &m;
		why = machine_run(&m);
		rc.m = NULL;
		status = run_exit_status(cfg, why, m.vm.stop_signal, &again);
		pr_info("guest %s%s", vm_stop_reason_name(why),
			again ? "; booting it again" : "");
		machine_destroy(&m);
	}

	for (unsigned int i = 0; i < nr_cons; i++)
		console_close(&cons[i]);
out_loop:
	free(cons);
	if (rc.sfd >= 0)
		close(rc.sfd);
	event_loop_free(&el);
	boot_files_free(&files);
	return status;
}
