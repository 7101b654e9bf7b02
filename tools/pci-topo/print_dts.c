/*
 * pci-topo --dts: device tree source from a blob, by walking it with libfdt
 * (the output is what dtc -I dts accepts and compiles back to the same tree).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libfdt.h>

#include "print.h"
#include "pci/topology.h"
#include "print_priv.h"

/* Properties that hold cells even when their bytes happen to look like text. */
static bool is_cell_prop(const char *name)
{
	static const char *const cells[] = {
		"reg", "ranges", "bus-range", "assigned-addresses", "interrupts",
		"interrupt-map", "interrupt-map-mask", "interrupt-parent", "phandle",
		"vendor-id", "device-id", "revision-id", "class-code",
		"subsystem-vendor-id", "subsystem-id", "clock-frequency",
		"linux,pci-domain",
	};
	size_t i;

	if (name[0] == '#')
		return true;
	for (i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		if (!strcmp(name, cells[i]))
			return true;
	return false;
}

/* NUL-terminated printable strings, none empty, as dtc's heuristic has it. */
static bool is_string_list(const char *v, int len)
{
	int i, start = 0;

	if (len <= 0 || v[len - 1] != '\0')
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] == '\0') {
			if (i == start)
				return false;
			start = i + 1;
		} else if (!isprint((unsigned char)v[i])) {
			return false;
		}
	}
	return true;
}

static void put_strings(FILE *f, const char *v, int len)
{
	int i;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		if (!in_str) {
			fputs(i ? ", \"" : "\"", f);
			in_str = true;
		}
		if (v[i] == '\0') {
			fputc('"', f);
			in_str = false;
		} else if (v[i] == '"' || v[i] == '\\') {
			fputc('\\', f);
			fputc(v[i], f);
		} else {
			fputc(v[i], f);
		}
	}
}

static void put_value(FILE *f, const char *name, const void *val, int len)
{
	const unsigned char *b = val;
	int i;

	if (len == 0)
		return;
	fputs(" = ", f);
	if (!is_cell_prop(name) && is_string_list(val, len)) {
		put_strings(f, val, len);
	} else if (len % 4 == 0) {
		fputc('<', f);
		for (i = 0; i < len; i += 4) {
			fdt32_t c;

			memcpy(&c, b + i, sizeof(c));
			fprintf(f, "%s0x%x", i ? " " : "", fdt32_to_cpu(c));
		}
		fputc('>', f);
	} else {
		fputc('[', f);
		for (i = 0; i < len; i++)
			fprintf(f, "%s%02x", i ? " " : "", b[i]);
		fputc(']', f);
	}
}

static void indent(FILE *f, unsigned int depth)
{
	while (depth--)
		fputc('\t', f);
}

static int put_node(FILE *f, const void *fdt, int node, unsigned int depth)
{
	const char *name;
	int prop, child, len;

	name = fdt_get_name(fdt, node, &len);
	if (!name)
		return len;
	indent(f, depth);
	fprintf(f, "%s {\n", depth ? name : "/");
	fdt_for_each_property_offset(prop, fdt, node) {
		const char *pname;
		const void *val = fdt_getprop_by_offset(fdt, prop, &pname, &len);

		if (!val)
			return len;
		indent(f, depth + 1);
		fputs(pname, f);
		put_value(f, pname, val, len);
		fputs(";\n", f);
	}
	if (prop != -FDT_ERR_NOTFOUND)
		return prop;
	fdt_for_each_subnode(child, fdt, node) {
		int r;

		fputc('\n', f);
		/* Bridges nest at most PCI_MAX_BUSES deep below /pci. */
		if (depth >= PCI_MAX_BUSES + 8)
			return -FDT_ERR_BADSTRUCTURE;
		r = put_node(f, fdt, child, depth + 1);
		if (r < 0)
			return r;
	}
	if (child != -FDT_ERR_NOTFOUND)
		return child;
	indent(f, depth);
	fputs("};\n", f);
	return 0;
}

int print_fdt_source(FILE *f, const void *blob)
{
	int i, n, ret;

	if (fdt_check_header(blob))
		return -EINVAL;
	fputs("/dts-v1/;\n\n", f);
	n = fdt_num_mem_rsv(blob);
	for (i = 0; i < n; i++) {
		uint64_t addr, size;

		if (!fdt_get_mem_rsv(blob, i, &addr, &size))
			fprintf(f, "/memreserve/ 0x%llx 0x%llx;\n",
				(unsigned long long)addr, (unsigned long long)size);
	}
	if (n > 0)
		fputc('\n', f);
	ret = put_node(f, blob, 0, 0);
	if (ret < 0)
		return -EINVAL;
	return topo_stream_status(f);
}
