/*
 * Reading a kernel command line as Linux's boot code does: whole words,
 * memparse() sizes, and memmap=/mem=, whose regions and limit a kernel
 * placed by KASLR must stay clear of.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "x86/cmdline.h"

bool x86_cmdline_has(const char *cmdline, const char *option)
{
	size_t n = strlen(option);
	const char *p = cmdline;

	if (!cmdline || !n)
		return false;
	while ((p = strstr(p, option))) {
		bool start = p == cmdline || isspace((unsigned char)p[-1]);
		bool end = !p[n] || isspace((unsigned char)p[n]);

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

uint64_t x86_memparse(const char *s, const char **end)
{
	char *e;
	uint64_t v;
	unsigned int shift = 0;

	/* Digits first: no sign, no blanks (strtoull() would take both). */
	if (!isdigit((unsigned char)*s)) {
		*end = s;
		return 0;
	}
	v = strtoull(s, &e, 0);

	switch (*e) {
	case 'E': case 'e':
		shift += 10;
		/* fallthrough */
	case 'P': case 'p':
		shift += 10;
		/* fallthrough */
	case 'T': case 't':
		shift += 10;
		/* fallthrough */
	case 'G': case 'g':
		shift += 10;
		/* fallthrough */
	case 'M': case 'm':
		shift += 10;
		/* fallthrough */
	case 'K': case 'k':
		shift += 10;
		e++;
		break;
	default:
		break;
	}
	*end = e;
	if (shift && v > (UINT64_MAX >> shift))
		return UINT64_MAX;
	return v << shift;
}

static void limit_to(struct x86_mem_avoid *a, uint64_t size)
{
	if (size && size < a->limit)
		a->limit = size;
}

/* One memmap= entry: nn[KMG] (a limit), nn$ss / nn#ss / nn!ss (a region), nn@ss (usable). */
static void memmap_entry(const char *p, const char *stop, struct x86_mem_avoid *a)
{
	const char *q;
	uint64_t size, start;

	if (stop - p >= 8 && !strncmp(p, "exactmap", 8))
		return;
	size = x86_memparse(p, &q);
	if (q == p || q > stop)
		return;
	switch (q < stop ? *q : '\0') {
	case '$':
	case '#':
	case '!':
		start = x86_memparse(q + 1, &p);
		if (!size || p == q + 1 || p > stop)
			return;
		if (a->nr == X86_CMDLINE_MAX_MEMMAP) {
			a->too_many = true;
			return;
		}
		a->regions[a->nr].base = start;
		a->regions[a->nr].size = start + size < start ? UINT64_MAX - start : size;
		a->nr++;
		return;
	case '@':
		return;
	default:
		limit_to(a, size);
		return;
	}
}

void x86_cmdline_mem(const char *cmdline, struct x86_mem_avoid *a)
{
	const char *p = cmdline;

	memset(a, 0, sizeof(*a));
	a->limit = UINT64_MAX;
	while (p && *p) {
		const char *w, *e;

		while (isspace((unsigned char)*p))
			p++;
		w = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (!strncmp(w, "memmap=", 7) && w + 7 < p) {
			for (const char *v = w + 7; v < p; v = e + 1) {
				e = memchr(v, ',', (size_t)(p - v));
				if (!e)
					e = p;
				memmap_entry(v, e, a);
			}
		} else if (!strncmp(w, "mem=", 4) && w + 4 < p && isdigit((unsigned char)w[4])) {
			limit_to(a, x86_memparse(w + 4, &e));
		}
	}
}

bool x86_mem_avoid_hits(const struct x86_mem_avoid *a, uint64_t base, uint64_t size)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		const struct addr_range *r = &a->regions[i];

		if (base < r->base + r->size && r->base < base + size)
			return true;
	}
	return false;
}
