/*
 * The machine file, typed: config_load() reads it (config_read.c), types
 * every section (config_keys.c), checks them against each other
 * (config_check.c) and leaves one message on error.
 *
 * Errors come in two tiers, each reported at its earliest line (see
 * cfg_error): first what a line shows by itself (syntax, sections, keys,
 * values); only a file without those gets the checks that relate lines
 * (required keys, bus references, slots, host addresses, consoles), so
 * that no check reports a consequence of an earlier mistake.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config_ctx.h"

int cfg_nomem(struct cfg_ctx *c)
{
	c->e->set = false;
	cfg_error(c->e, 0, NULL, NULL, "out of memory");
	return -ENOMEM;
}

/* --- the whole file ----------------------------------------------------- */

static int serial_cmp(const void *a, const void *b)
{
	const struct serial_config *sa = a, *sb = b;

	return (int)sa->index - (int)sb->index;
}

static int finish(struct cfg_ctx *c)
{
	struct vm_config *cfg = c->cfg;
	struct machine_config *m = &cfg->machine;
	unsigned int i;
	bool virtio_stdio = false;

	if (!m->name) {
		m->name = cfg_default_name(cfg->file);
		if (m->name && !m->name[0]) {
			free(m->name);
			m->name = strdup("vm");
		}
	}
	if (!m->cmdline)
		m->cmdline = strdup("console=ttyS0");
	if (!m->name || !m->cmdline)
		return cfg_nomem(c);

	for (i = 0; i < cfg->nr_devices; i++)
		if (cfg->devices[i].kind == DEV_VIRTIO_CONSOLE &&
		    cfg->devices[i].console.kind == CONSOLE_STDIO)
			virtio_stdio = true;
	if (!cfg->nr_serials) {
		cfg->nr_serials = 1;
		cfg->serials[0].index = 0;
		cfg->serials[0].console.kind = virtio_stdio ? CONSOLE_NONE : CONSOLE_STDIO;
		cfg->serials[0].line = 0;
	}
	qsort(cfg->serials, cfg->nr_serials, sizeof(cfg->serials[0]), serial_cmp);
	return 0;
}

static int load(struct cfg_ctx *c, FILE *f)
{
	struct vm_config *cfg = c->cfg;
	unsigned int i, nr_pci = 0, nr_dev = 0;
	int ret;

	ret = cfg_read(f, c->e, &c->raw);
	if (ret)
		return ret;

	for (i = 0; i < c->raw.nr_sections; i++) {
		nr_pci += c->raw.sections[i].kind == SECT_PCI;
		nr_dev += c->raw.sections[i].kind == SECT_DEVICE;
	}
	cfg->bridges = calloc(nr_pci + 1, sizeof(*cfg->bridges));
	cfg->devices = calloc(nr_dev + 1, sizeof(*cfg->devices));
	c->br_x = calloc(nr_pci + 1, sizeof(*c->br_x));
	c->dev_x = calloc(nr_dev + 1, sizeof(*c->dev_x));
	if (!cfg->bridges || !cfg->devices || !c->br_x || !c->dev_x)
		return cfg_nomem(c);

	for (i = 0; i < c->raw.nr_sections; i++) {
		const struct cfg_section *sec = &c->raw.sections[i];

		ret = cfg_read_section(c, sec);
		if (ret)
			return ret;
	}
	if (c->e->set)
		return -EINVAL;

	ret = cfg_check(c);
	if (ret)
		return ret;
	if (c->e->set)
		return -EINVAL;
	return finish(c);
}

int config_load_stream(FILE *f, const char *name, struct vm_config *cfg,
		       char *errbuf, size_t errlen)
{
	struct cfg_errors e = { .file = name };
	struct cfg_ctx c = { .cfg = cfg, .e = &e };
	struct machine_config *m = &cfg->machine;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	m->cpus = 1;
	m->memory = MEMORY_DEFAULT;
	m->hugepages = HUGEPAGES_OFF;
	m->phys_bits = 40;
	m->on_reboot = REBOOT_RESET;
	m->decompress = DECOMPRESS_VMM;
	cfg->file = strdup(name);
	c.dir = cfg_dirname(name);
	if (!cfg->file || (strchr(name, '/') && !c.dir))
		ret = cfg_nomem(&c);
	else
		ret = load(&c, f);
	if (ret && !e.set)
		cfg_error(&e, 0, NULL, NULL, "%s", strerror(-ret));

	cfg_file_free(&c.raw);
	free(c.br_x);
	free(c.dev_x);
	free(c.dir);
	if (ret) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", e.msg);
		config_free(cfg);
		return ret;
	}
	if (errbuf && errlen)
		errbuf[0] = '\0';
	return 0;
}

int config_load(const char *path, struct vm_config *cfg, char *errbuf,
		size_t errlen)
{
	FILE *f;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: cannot open: %s", path,
				 strerror(errno));
		return ret;
	}
	ret = config_load_stream(f, path, cfg, errbuf, errlen);
	fclose(f);
	return ret;
}

static void console_free(struct console_config *con)
{
	free(con->path);
}

void config_free(struct vm_config *cfg)
{
	unsigned int i;

	if (!cfg)
		return;
	free(cfg->file);
	free(cfg->machine.name);
	free(cfg->machine.kernel);
	free(cfg->machine.initrd);
	free(cfg->machine.cmdline);
	for (i = 0; i < cfg->nr_serials && i < CFG_MAX_SERIALS; i++)
		console_free(&cfg->serials[i].console);
	for (i = 0; cfg->bridges && i < cfg->nr_bridges; i++)
		free(cfg->bridges[i].name);
	free(cfg->bridges);
	for (i = 0; cfg->devices && i < cfg->nr_devices; i++) {
		struct device_config *dev = &cfg->devices[i];

		free(dev->name);
		switch (dev->kind) {
		case DEV_VIRTIO_BLK:
			free(dev->blk.path);
			free(dev->blk.serial);
			break;
		case DEV_VIRTIO_NET:
			free(dev->net.tap);
			break;
		case DEV_VIRTIO_CONSOLE:
			console_free(&dev->console);
			break;
		case DEV_VFIO:
			free(dev->vfio.rom_file);
			break;
		case DEV_VIRTIO_RNG:
			break;
		}
	}
	free(cfg->devices);
	memset(cfg, 0, sizeof(*cfg));
}
