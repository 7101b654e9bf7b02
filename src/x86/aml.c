/*
 * The AML builder: byte encodings of names, integers, PkgLength, frames
 * and resource descriptors (ACPI 6.3, sections 19 and 20).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "x86/aml.h"

#define RES_END_TAG		0x79
#define RES_IRQ_NOFLAGS		0x22	/* small IRQ descriptor, 2 bytes */
#define RES_IO			0x47	/* small I/O port descriptor, 7 bytes */
#define RES_MEMORY32_FIXED	0x86
#define RES_DWORD_ADDRESS	0x87
#define RES_WORD_ADDRESS	0x88
#define RES_EXT_INTERRUPT	0x89
#define RES_QWORD_ADDRESS	0x8a

#define ADDR_TYPE_MEMORY	0
#define ADDR_TYPE_IO		1
#define ADDR_TYPE_BUS		2
/* General flags: ResourceProducer (bit 0 clear), PosDecode, MinFixed, MaxFixed. */
#define ADDR_MIN_MAX_FIXED	0x0c
#define ADDR_IO_ENTIRE_RANGE	0x03

static void aml_set_err(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

int aml_finish(const struct aml *a)
{
	if (a->err)
		return a->err;
	return a->depth ? -EINVAL : 0;
}

/* Make room for n more bytes; false (and the error set) if that fails. */
static bool aml_reserve(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->err)
		return false;
	if (a->len + n <= a->cap)
		return true;
	cap = a->cap ? a->cap : 256;
	while (cap < a->len + n)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p) {
		aml_set_err(a, -ENOMEM);
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!aml_reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_op(struct aml *a, uint8_t op)
{
	aml_bytes(a, &op, 1);
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* A new term starts: the innermost package has one more element. */
static void aml_count(struct aml *a)
{
	if (a->depth && a->frames[a->depth - 1].kind == AML_FRAME_PACKAGE)
		a->frames[a->depth - 1].count++;
}

unsigned int aml_pkglen_encode(uint8_t out[4], size_t body)
{
	if (body >= 0x0fffffff)
		return 0;
	if (body + 1 <= 0x3f) {
		out[0] = body + 1;
		return 1;
	}
	for (unsigned int n = 2; n <= 4; n++) {
		size_t total = body + n;

		if (total >= (size_t)1 << (4 + 8 * (n - 1)))
			continue;
		/* Lead byte: bits 7-6 = following bytes, bits 3-0 = low nibble. */
		out[0] = (n - 1) << 6 | (total & 0xf);
		for (unsigned int i = 1; i < n; i++)
			out[i] = total >> (4 + 8 * (i - 1));
		return n;
	}
	return 0;
}

/* The smallest integer encoding of v; returns its length (1-9 bytes). */
static unsigned int int_encode(uint8_t out[9], uint64_t v)
{
	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = AML_ONES_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		put_le(out + 1, v, 1);
		return 2;
	}
	if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		put_le(out + 1, v, 2);
		return 3;
	}
	if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		put_le(out + 1, v, 4);
		return 5;
	}
	out[0] = AML_QWORD_PREFIX;
	put_le(out + 1, v, 8);
	return 9;
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	aml_count(a);
	aml_bytes(a, b, int_encode(b, v));
}

void aml_string(struct aml *a, const char *s)
{
	aml_count(a);
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_set_err(a, -EINVAL);
			return;
		}
	}
	aml_op(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

uint32_t aml_eisaid_value(const char *id, bool *ok)
{
	uint32_t v = 0;

	*ok = false;
	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v |= (uint32_t)(id[i] - 0x40) << (26 - 5 * i);
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		v |= d << (4 * (6 - i));
	}
	*ok = true;
	/* Stored big-endian: the letters come first in memory. */
	return __builtin_bswap32(v);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint8_t b[5] = { AML_DWORD_PREFIX };
	bool ok;
	uint32_t v = aml_eisaid_value(id, &ok);

	aml_count(a);
	if (!ok) {
		aml_set_err(a, -EINVAL);
		return;
	}
	/* Always a DWordConst, as iasl's EISAID() does. */
	put_le(b + 1, v, 4);
	aml_bytes(a, b, sizeof(b));
}

static bool seg_char_ok(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* NameString: [\ or ^...] then NullName, NameSeg, Dual- or MultiNamePath. */
static void aml_namestring(struct aml *a, const char *path)
{
	uint8_t segs[255][4];
	unsigned int nsegs = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_op(a, '\\');
		p++;
	} else {
		while (*p == '^') {
			aml_op(a, '^');
			p++;
		}
	}
	while (*p) {
		unsigned int n = 0;

		if (nsegs == 255)
			goto bad;
		memset(segs[nsegs], '_', 4);
		while (*p && *p != '.') {
			if (n == 4 || !seg_char_ok(*p, n == 0))
				goto bad;
			segs[nsegs][n++] = *p++;
		}
		if (!n)
			goto bad;
		nsegs++;
		if (*p == '.' && !*++p)
			goto bad;
	}
	if (nsegs == 0) {
		aml_op(a, 0x00);
		return;
	}
	if (nsegs == 2) {
		aml_op(a, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_op(a, AML_MULTI_NAME_PREFIX);
		aml_op(a, nsegs);
	}
	aml_bytes(a, segs, 4 * nsegs);
	return;
bad:
	aml_set_err(a, -EINVAL);
}

void aml_namepath(struct aml *a, const char *path)
{
	aml_count(a);
	aml_namestring(a, path);
}

void aml_arg(struct aml *a, unsigned int n)
{
	if (n > 6) {
		aml_set_err(a, -EINVAL);
		return;
	}
	aml_op(a, AML_ARG0 + n);
}

void aml_local(struct aml *a, unsigned int n)
{
	if (n > 7) {
		aml_set_err(a, -EINVAL);
		return;
	}
	aml_op(a, AML_LOCAL0 + n);
}

void aml_name(struct aml *a, const char *name)
{
	aml_op(a, AML_NAME_OP);
	aml_namestring(a, name);
}

static void aml_push(struct aml *a, enum aml_frame_kind kind)
{
	if (a->depth == AML_MAX_DEPTH) {
		aml_set_err(a, -EINVAL);
		return;
	}
	a->frames[a->depth++] = (struct aml_frame){
		.start = a->len,
		.kind = kind,
	};
}

void aml_end(struct aml *a)
{
	struct aml_frame f;
	uint8_t head[4 + 9];
	unsigned int n, nprefix = 0;
	uint8_t prefix[9];
	size_t body;

	if (!a->depth) {
		aml_set_err(a, -EINVAL);
		return;
	}
	f = a->frames[--a->depth];
	if (f.kind == AML_FRAME_RESTEMPLATE) {
		/* Checksum 0: "the checksum is treated as correct". */
		static const uint8_t end[2] = { RES_END_TAG, 0 };

		aml_bytes(a, end, sizeof(end));
	}
	if (a->err)
		return;
	body = a->len - f.start;
	if (f.kind == AML_FRAME_PACKAGE) {
		if (f.count > 255) {
			aml_set_err(a, -E2BIG);
			return;
		}
		a->buf[f.start] = f.count;
	} else if (f.kind != AML_FRAME_PLAIN) {
		nprefix = int_encode(prefix, body);	/* BufferSize */
	}
	n = aml_pkglen_encode(head, nprefix + body);
	if (!n) {
		aml_set_err(a, -E2BIG);
		return;
	}
	memcpy(head + n, prefix, nprefix);
	n += nprefix;
	if (!aml_reserve(a, n))
		return;
	memmove(a->buf + f.start + n, a->buf + f.start, body);
	memcpy(a->buf + f.start, head, n);
	a->len += n;
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_op(a, AML_SCOPE_OP);
	aml_push(a, AML_FRAME_PLAIN);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
	static const uint8_t op[2] = { AML_EXT_OP_PREFIX, AML_EXT_DEVICE_OP };

	aml_bytes(a, op, sizeof(op));
	aml_push(a, AML_FRAME_PLAIN);
	aml_namestring(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned int nargs,
		      bool serialized)
{
	if (nargs > 7) {
		aml_set_err(a, -EINVAL);
		return;
	}
	aml_op(a, AML_METHOD_OP);
	aml_push(a, AML_FRAME_PLAIN);
	aml_namestring(a, name);
	/* MethodFlags: bits 0-2 ArgCount, bit 3 Serialized, SyncLevel 0. */
	aml_op(a, nargs | (serialized ? 0x08 : 0));
}

void aml_if_begin(struct aml *a)
{
	aml_op(a, AML_IF_OP);
	aml_push(a, AML_FRAME_PLAIN);
}

void aml_else_begin(struct aml *a)
{
	aml_op(a, AML_ELSE_OP);
	aml_push(a, AML_FRAME_PLAIN);
}

void aml_package_begin(struct aml *a)
{
	aml_count(a);
	aml_op(a, AML_PACKAGE_OP);
	aml_push(a, AML_FRAME_PACKAGE);
	aml_op(a, 0);			/* NumElements, set by aml_end() */
}

void aml_buffer_begin(struct aml *a)
{
	aml_count(a);
	aml_op(a, AML_BUFFER_OP);
	aml_push(a, AML_FRAME_BUFFER);
}

void aml_restemplate_begin(struct aml *a)
{
	aml_count(a);
	aml_op(a, AML_BUFFER_OP);
	aml_push(a, AML_FRAME_RESTEMPLATE);
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	aml_buffer_begin(a);
	aml_bytes(a, p, n);
	aml_end(a);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_uuid(struct aml *a, const char *uuid)
{
	/* ToUUID: the first three fields little-endian, the rest as written. */
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15
	};
	uint8_t in[16], out[16];
	unsigned int n = 0;

	if (strlen(uuid) != 36)
		goto bad;
	for (unsigned int i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				goto bad;
			continue;
		}
		hi = hexval(uuid[i]);
		lo = hexval(uuid[++i]);
		if (hi < 0 || lo < 0)
			goto bad;
		in[n++] = hi << 4 | lo;
	}
	for (unsigned int i = 0; i < 16; i++)
		out[i] = in[order[i]];
	aml_buffer(a, out, sizeof(out));
	return;
bad:
	aml_count(a);
	aml_set_err(a, -EINVAL);
}

void aml_return(struct aml *a)
{
	aml_op(a, AML_RETURN_OP);
}

/* Resource descriptors belong inside a ResourceTemplate and nowhere else. */
static bool in_restemplate(struct aml *a)
{
	if (a->depth && a->frames[a->depth - 1].kind == AML_FRAME_RESTEMPLATE)
		return true;
	aml_set_err(a, -EINVAL);
	return false;
}

/*
 * Word/DWord/QWord Address Space Descriptor, a producer window with fixed
 * bounds: Granularity 0, Translation 0, Length max - min + 1.
 */
static void res_address(struct aml *a, uint8_t tag, unsigned int width,
			uint8_t type, uint8_t tflags, uint64_t min, uint64_t max)
{
	uint8_t d[3 + 3 + 5 * 8];
	unsigned int len = 3 + 5 * width;
	uint64_t limit = width == 8 ? UINT64_MAX : (1ULL << (8 * width)) - 1;

	if (!in_restemplate(a))
		return;
	/* The length field must hold max - min + 1 too. */
	if (min > max || max - min >= limit) {
		aml_set_err(a, -EINVAL);
		return;
	}
	d[0] = tag;
	put_le(d + 1, len, 2);
	d[3] = type;
	d[4] = ADDR_MIN_MAX_FIXED;
	d[5] = tflags;
	put_le(d + 6, 0, width);			/* _GRA */
	put_le(d + 6 + width, min, width);		/* _MIN */
	put_le(d + 6 + 2 * width, max, width);		/* _MAX */
	put_le(d + 6 + 3 * width, 0, width);		/* _TRA */
	put_le(d + 6 + 4 * width, max - min + 1, width);	/* _LEN */
	aml_bytes(a, d, 3 + len);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	res_address(a, RES_WORD_ADDRESS, 2, ADDR_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	res_address(a, RES_WORD_ADDRESS, 2, ADDR_TYPE_IO, ADDR_IO_ENTIRE_RANGE,
		    min, max);
}

/* Memory type-specific flags: bit 0 read-write, bits 2-1 caching (_MEM). */
static uint8_t mem_tflags(enum aml_mem_cache cache, bool rw)
{
	return (cache & 3) << 1 | (rw ? 1 : 0);
}

void aml_res_dword_memory(struct aml *a, enum aml_mem_cache cache, bool rw,
			  uint32_t min, uint32_t max)
{
	res_address(a, RES_DWORD_ADDRESS, 4, ADDR_TYPE_MEMORY,
		    mem_tflags(cache, rw), min, max);
}

void aml_res_qword_memory(struct aml *a, enum aml_mem_cache cache, bool rw,
			  uint64_t min, uint64_t max)
{
	res_address(a, RES_QWORD_ADDRESS, 8, ADDR_TYPE_MEMORY,
		    mem_tflags(cache, rw), min, max);
}

void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { RES_MEMORY32_FIXED, 9, 0, rw ? 1 : 0 };

	if (!in_restemplate(a))
		return;
	put_le(d + 4, base, 4);
	put_le(d + 8, len, 4);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	uint8_t d[8] = { RES_IO, 0x01 /* Decode16 */ };

	if (!in_restemplate(a))
		return;
	put_le(d + 2, min, 2);
	put_le(d + 4, max, 2);
	d[6] = align;
	d[7] = len;
	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq_noflags(struct aml *a, uint16_t mask)
{
	uint8_t d[3] = { RES_IRQ_NOFLAGS };

	if (!in_restemplate(a))
		return;
	put_le(d + 1, mask, 2);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_interrupt(struct aml *a, uint8_t flags, uint32_t gsi)
{
	uint8_t d[9] = { RES_EXT_INTERRUPT, 6, 0, flags, 1 };

	if (!in_restemplate(a))
		return;
	put_le(d + 5, gsi, 4);
	aml_bytes(a, d, sizeof(d));
}
