/*
 * A small AML (ACPI Machine Language) builder: a growable byte buffer with
 * open/close frames whose PkgLength is computed when they close.
 */
#ifndef VMM_X86_AML_H
#define VMM_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH		16

/* Opcodes used by callers composing expressions with aml_op(). */
enum {
	AML_ZERO_OP		= 0x00,
	AML_ONE_OP		= 0x01,
	AML_NAME_OP		= 0x08,
	AML_BYTE_PREFIX		= 0x0a,
	AML_WORD_PREFIX		= 0x0b,
	AML_DWORD_PREFIX	= 0x0c,
	AML_STRING_PREFIX	= 0x0d,
	AML_QWORD_PREFIX	= 0x0e,
	AML_SCOPE_OP		= 0x10,
	AML_BUFFER_OP		= 0x11,
	AML_PACKAGE_OP		= 0x12,
	AML_METHOD_OP		= 0x14,
	AML_DUAL_NAME_PREFIX	= 0x2e,
	AML_MULTI_NAME_PREFIX	= 0x2f,
	AML_EXT_OP_PREFIX	= 0x5b,
	AML_LOCAL0		= 0x60,
	AML_ARG0		= 0x68,
	AML_STORE_OP		= 0x70,
	AML_AND_OP		= 0x7b,
	AML_OR_OP		= 0x7d,
	AML_CREATE_DWORD_FIELD_OP = 0x8a,
	AML_LNOT_OP		= 0x92,
	AML_LEQUAL_OP		= 0x93,
	AML_IF_OP		= 0xa0,
	AML_ELSE_OP		= 0xa1,
	AML_RETURN_OP		= 0xa4,
	AML_ONES_OP		= 0xff,
	AML_EXT_DEVICE_OP	= 0x82,	/* after AML_EXT_OP_PREFIX */
};

/* Address space descriptor caching (_MEM) for aml_res_{d,q}word_memory(). */
enum aml_mem_cache {
	AML_MEM_NONCACHEABLE	= 0,
	AML_MEM_CACHEABLE	= 1,
	AML_MEM_WRITECOMBINING	= 2,
	AML_MEM_PREFETCHABLE	= 3,
};

/* Extended Interrupt descriptor flags, aml_res_interrupt(). */
#define AML_IRQ_CONSUMER	0x01
#define AML_IRQ_EDGE		0x02
#define AML_IRQ_ACTIVE_LOW	0x04
#define AML_IRQ_SHARED		0x08

enum aml_frame_kind {
	AML_FRAME_PLAIN,		/* Scope, Device, Method, If, Else */
	AML_FRAME_PACKAGE,		/* NumElements byte counted on close */
	AML_FRAME_BUFFER,		/* BufferSize integer inserted on close */
	AML_FRAME_RESTEMPLATE,		/* a Buffer that gets an EndTag */
};

struct aml_frame {
	size_t start;			/* where the PkgLength goes */
	enum aml_frame_kind kind;
	unsigned int count;		/* package elements so far */
};

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;			/* first error (negative errno), sticky */
	struct aml_frame frames[AML_MAX_DEPTH];
	unsigned int depth;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/*
 * 0 if every frame was closed and nothing failed, else the first error:
 * -ENOMEM (allocation), -EINVAL (bad name, unbalanced frames, bad
 * argument), -E2BIG (package of more than 255 elements, PkgLength overflow).
 */
int aml_finish(const struct aml *a);

/* Raw bytes (opcodes, descriptor bodies); never counted as a package element. */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_op(struct aml *a, uint8_t op);

/*
 * PkgLength of a body of 'body' bytes: the encoding includes its own 1-4
 * bytes. Returns the number of bytes written to out (up to 4), 0 if the
 * body is too long (> 2^28 - 5 bytes).
 */
unsigned int aml_pkglen_encode(uint8_t out[4], size_t body);

/* Data terms; each counts as one element inside a package. */
void aml_int(struct aml *a, uint64_t v);	/* smallest encoding */
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0A08" as a DWordConst */
void aml_namepath(struct aml *a, const char *path);	/* a reference, e.g. "\\_SB.PCI0" */
void aml_buffer(struct aml *a, const void *p, size_t n);
void aml_uuid(struct aml *a, const char *uuid);	/* ToUUID ("xxxxxxxx-...") */
void aml_arg(struct aml *a, unsigned int n);	/* Arg0..Arg6 */
void aml_local(struct aml *a, unsigned int n);	/* Local0..Local7 */

/* 32-bit compressed EISA ID of "PNP0A08"; 0 and *ok=false if malformed. */
uint32_t aml_eisaid_value(const char *id, bool *ok);

/* Name (NAME, value): emit this, then one data term. */
void aml_name(struct aml *a, const char *name);

/* Frames: each *_begin is closed by aml_end(). */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned int nargs,
		      bool serialized);
void aml_if_begin(struct aml *a);		/* then the predicate, the body */
void aml_else_begin(struct aml *a);
void aml_package_begin(struct aml *a);
void aml_buffer_begin(struct aml *a);
void aml_restemplate_begin(struct aml *a);	/* Buffer closed with an EndTag */
void aml_end(struct aml *a);

/* Return (term): emit this, then the term. */
void aml_return(struct aml *a);

/* Resource descriptors, inside aml_restemplate_begin() .. aml_end(). */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, enum aml_mem_cache cache, bool rw,
			  uint32_t min, uint32_t max);
void aml_res_qword_memory(struct aml *a, enum aml_mem_cache cache, bool rw,
			  uint64_t min, uint64_t max);
void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len);
/* IO (Decode16, min, max, align, len) */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
void aml_res_irq_noflags(struct aml *a, uint16_t mask);
void aml_res_interrupt(struct aml *a, uint8_t flags, uint32_t gsi);

#endif
