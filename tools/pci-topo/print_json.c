/*
 * pci-topo --json: the plan as one JSON object with a stable key order
 * (the schema is documented in pci-topo(1); bump "version" on changes).
 */
#include <errno.h>
#include <stdlib.h>

#include "json.h"
#include "print.h"
#include "print_priv.h"

#define TOPO_JSON_VERSION	1

static void json_window(struct json *j, const char *key, uint64_t base, uint64_t size)
{
	if (!size) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	json_hex(j, "base", base);
	json_u64(j, "size", size);
	json_object_end(j);
}

const char *topo_problem_key(enum host_problem_kind kind)
{
	switch (kind) {
	case HOST_PROBLEM_NOT_VFIO:
		return "not_vfio";
	case HOST_PROBLEM_NO_IOMMU:
		return "no_iommu";
	case HOST_PROBLEM_GROUP_NOT_VIABLE:
		return "group_not_viable";
	case HOST_PROBLEM_NO_RESET:
		return "no_reset";
	case HOST_PROBLEM_MSIX_UNALIGNED:
		return "msix_unaligned";
	case HOST_PROBLEM_NO_VFIO_NODE:
		return "no_vfio_node";
	case HOST_PROBLEM_BAR_TOO_LARGE:
		return "bar_too_large";
	}
	return "unknown";
}

static void json_machine(struct json *j, const struct vm_plan *plan)
{
	const struct machine_config *m = plan->cfg ? &plan->cfg->machine : NULL;

	json_object_begin(j, "machine");
	json_string(j, "name", m && m->name ? m->name : "");
	json_u64(j, "cpus", m ? m->cpus : 0);
	json_u64(j, "memory", plan->layout.memory ? plan->layout.memory : (m ? m->memory : 0));
	json_u64(j, "phys_bits", plan->layout.phys_bits ? plan->layout.phys_bits :
		 (m ? m->phys_bits : 0));
	json_object_end(j);
}

static void json_e820(struct json *j, const struct vm_plan *plan)
{
	unsigned int i;

	json_array_begin(j, "e820");
	for (i = 0; i < plan->layout.nr_e820 && i < X86_MAX_E820; i++) {
		json_object_begin(j, NULL);
		json_hex(j, "addr", plan->layout.e820[i].addr);
		json_u64(j, "size", plan->layout.e820[i].size);
		json_string(j, "type", topo_e820_key(plan->layout.e820[i].type));
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_windows(struct json *j, const struct vm_plan *plan)
{
	struct pci_window w;

	json_object_begin(j, "windows");
	w = topo_win_mem32(plan);
	json_window(j, "mmio32", w.base, w.size);
	w = topo_win_mem64(plan);
	json_window(j, "mmio64", w.base, w.size);
	json_window(j, "ecam", plan->layout.ecam.base, plan->layout.ecam.size);
	w = topo_win_io(plan);
	json_window(j, "io", w.base, w.size);
	json_object_end(j);
}

static void json_passthrough(struct json *j, const struct vm_plan *plan, unsigned int i)
{
	const struct host_device *h = topo_func_host(plan, i);
	const struct plan_func *pf = &plan->funcs[i];
	const struct pci_func *fn = &plan->pci.funcs[i];
	struct host_problem probs[HOST_MAX_PROBLEMS];
	struct topo_trap traps[TOPO_TRAP_MAX];
	char hbdf[PCI_BDF_STRLEN];
	unsigned int b, k, np;

	json_object_begin(j, "passthrough");
	json_string(j, "host", pci_bdf_format(&h->bdf, hbdf, sizeof(hbdf)));
	json_int(j, "iommu_group", h->iommu_group);
	json_string(j, "driver", h->driver);
	json_array_begin(j, "bars");
	for (b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &fn->bars[b];
		unsigned int nt;

		if (bar->type == PCI_BAR_UNUSED || !bar->size)
			continue;
		nt = topo_bar_traps(plan, i, b, traps);
		json_object_begin(j, NULL);
		json_u64(j, "index", b);
		json_hex(j, "host_addr", pf->pt_bars[b].host_addr);
		json_u64(j, "host_size", pf->pt_bars[b].host_size ?: bar->size);
		json_array_begin(j, "trapped");
		for (k = 0; k < nt; k++) {
			json_object_begin(j, NULL);
			json_hex(j, "offset", traps[k].offset);
			json_u64(j, "size", traps[k].size);
			json_string(j, "what", traps[k].what);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "host_rom_size", h->rom_size);
	np = host_device_check(h, probs);
	json_bool(j, "ready", np == 0);
	json_array_begin(j, "readiness");
	for (k = 0; k < np && k < HOST_MAX_PROBLEMS; k++) {
		json_object_begin(j, NULL);
		json_string(j, "kind", topo_problem_key(probs[k].kind));
		json_string(j, "problem", probs[k].what);
		json_string(j, "fix", probs[k].fix);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void json_function(struct json *j, const struct vm_plan *plan, unsigned int i)
{
	const struct pci_func *fn = &plan->pci.funcs[i];
	char bdf[PCI_BDF_STRLEN], buf[TOPO_DESC_MAX];
	unsigned int b;

	json_object_begin(j, NULL);
	json_string(j, "bdf", topo_bdf(fn, bdf, sizeof(bdf)));
	json_string(j, "name", topo_func_name(plan, i));
	json_string(j, "kind", topo_kind_name(fn->kind));
	json_string(j, "type", topo_func_type(plan, i));
	json_hexw(j, "vendor", fn->vendor, 4);
	json_hexw(j, "device", fn->device, 4);
	json_hexw(j, "subsystem_vendor", fn->subsys_vendor, 4);
	json_hexw(j, "subsystem_device", fn->subsys_device, 4);
	json_hexw(j, "class", fn->class_code & 0xffffff, 6);
	json_hexw(j, "revision", fn->revision, 2);
	json_string(j, "description", topo_func_desc(plan, i, buf, sizeof(buf)));
	json_string(j, "class_name", topo_class_name(plan, i, buf, sizeof(buf)));
	json_bool(j, "multifunction", fn->multifunction);
	if (fn->intx_pin) {
		json_object_begin(j, "intx");
		json_u64(j, "pin", fn->intx_pin);
		json_u64(j, "root_slot", fn->root_slot);
		json_u64(j, "root_pin", fn->root_pin);
		json_u64(j, "gsi", fn->gsi);
		json_object_end(j);
	} else {
		json_null(j, "intx");
	}
	json_u64(j, "msi", fn->msi_vectors);
	json_u64(j, "msix", fn->msix_vectors);
	json_array_begin(j, "bars");
	for (b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &fn->bars[b];

		if (bar->type == PCI_BAR_UNUSED || !bar->size)
			continue;
		json_object_begin(j, NULL);
		json_u64(j, "index", b);
		json_string(j, "type", pci_bar_type_name(bar->type));
		json_bool(j, "prefetchable", bar->prefetchable);
		json_hex(j, "addr", bar->addr);
		json_u64(j, "size", bar->size);
		json_object_end(j);
	}
	json_array_end(j);
	if (fn->rom.type != PCI_BAR_UNUSED && fn->rom.size) {
		json_object_begin(j, "rom");
		json_hex(j, "addr", fn->rom.addr);
		json_u64(j, "size", fn->rom.size);
		json_object_end(j);
	} else {
		json_null(j, "rom");
	}
	if (topo_is_bridge(fn)) {
		json_object_begin(j, "bridge");
		json_u64(j, "primary", fn->bus);
		json_u64(j, "secondary", fn->secondary);
		json_u64(j, "subordinate", fn->subordinate);
		json_window(j, "io", fn->io.base, fn->io.size);
		json_window(j, "mem", fn->mem.base, fn->mem.size);
		json_window(j, "pref", fn->pref.base, fn->pref.size);
		json_object_end(j);
	} else {
		json_null(j, "bridge");
	}
	if (topo_func_host(plan, i))
		json_passthrough(j, plan, i);
	else
		json_null(j, "passthrough");
	json_object_end(j);
}

static void json_res(struct json *j, const struct res_map *m, int idx, unsigned int depth)
{
	for (; idx >= 0; idx = m->nodes[idx].next) {
		const struct res_node *n = &m->nodes[idx];

		json_object_begin(j, NULL);
		json_hex(j, "start", n->start);
		json_hex(j, "end", n->end);
		json_string(j, "name", n->name);
		json_array_begin(j, "children");
		if (depth < 32)
			json_res(j, m, n->first_child, depth + 1);
		json_array_end(j);
		json_object_end(j);
	}
}

static void json_legacy(struct json *j, const struct vm_plan *plan)
{
	unsigned int i;

	json_array_begin(j, "legacy");
	for (i = 0; i < plan->nr_legacy && i < PLAN_MAX_LEGACY; i++) {
		const struct plan_legacy *lg = &plan->legacy[i];

		json_object_begin(j, NULL);
		json_string(j, "name", lg->name ? lg->name : "");
		json_hex(j, "port", lg->port);
		json_u64(j, "len", lg->len);
		if (lg->irq >= 0)
			json_int(j, "irq", lg->irq);
		else
			json_null(j, "irq");
		if (lg->serial >= 0 && plan->cfg &&
		    (unsigned int)lg->serial < plan->cfg->nr_serials) {
			char com[16];

			snprintf(com, sizeof(com), "com%u",
				 plan->cfg->serials[lg->serial].index + 1);
			json_string(j, "serial", com);
		} else {
			json_null(j, "serial");
		}
		json_object_end(j);
	}
	json_array_end(j);
}

int print_json(FILE *f, const struct vm_plan *plan)
{
	unsigned int *order = topo_sorted_funcs(plan);
	struct res_map iomem, ioports;
	struct json j;
	unsigned int k;
	int ret;

	if (!order)
		return -ENOMEM;
	ret = res_map_iomem(plan, &iomem);
	if (ret)
		goto out_order;
	ret = res_map_ioports(plan, &ioports);
	if (ret)
		goto out_iomem;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_u64(&j, "version", TOPO_JSON_VERSION);
	json_machine(&j, plan);
	json_e820(&j, plan);
	json_windows(&j, plan);
	json_array_begin(&j, "functions");
	for (k = 0; k < plan->pci.nr_funcs; k++)
		json_function(&j, plan, order[k]);
	json_array_end(&j);
	json_array_begin(&j, "iomem");
	json_res(&j, &iomem, iomem.first, 0);
	json_array_end(&j);
	json_array_begin(&j, "ioports");
	json_res(&j, &ioports, ioports.first, 0);
	json_array_end(&j);
	json_legacy(&j, plan);
	json_object_end(&j);
	ret = json_finish(&j);

	res_map_free(&ioports);
out_iomem:
	res_map_free(&iomem);
out_order:
	free(order);
	return ret;
}
