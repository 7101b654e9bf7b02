/*
 * Decompressing a whole buffer whose uncompressed size is known, in the
 * formats Linux compresses its kernel with: the format told by its magic,
 * the work done by the standard library for it (liblzma, zlib, libzstd).
 */
#ifndef VMM_UTIL_UNPACK_H
#define VMM_UTIL_UNPACK_H

#include <stdbool.h>
#include <stddef.h>

enum unpack_format {
	UNPACK_UNKNOWN,
	UNPACK_GZIP,
	UNPACK_XZ,
	UNPACK_LZMA,		/* the legacy .lzma ("LZMA alone") format */
	UNPACK_ZSTD,
	UNPACK_BZIP2,
	UNPACK_LZO,		/* lzop's format */
	UNPACK_LZ4,		/* lz4's legacy frame */
};

/* The format of 'len' bytes by their first bytes; UNPACK_UNKNOWN if none. */
enum unpack_format unpack_detect(const void *data, size_t len);

/* "gzip", "xz", "lzma", "zstd", "bzip2", "lzo", "lz4", "unknown". */
const char *unpack_format_name(enum unpack_format f);

/* Whether unpack() decodes this format (gzip, xz, lzma and zstd). */
bool unpack_supported(enum unpack_format f);

/*
 * Decompress 'in' (one stream of format 'f', possibly followed by bytes
 * that are not part of it) into exactly 'out_len' bytes at 'out'. Fails
 * when the stream is corrupt, fails its own check (CRC), ends before
 * 'out_len' bytes or would give more (-EINVAL). A stream this code cannot
 * decode (a format it does not do; options or a dictionary or window larger
 * than its output warrants) gives -ENOTSUP, no memory -ENOMEM; each with a
 * message in err.
 */
int unpack(enum unpack_format f, const void *in, size_t in_len, void *out,
	   size_t out_len, char *err, size_t errlen);

#endif
