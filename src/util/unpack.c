/*
 * Whole-buffer decompression for kernel payloads: xz and lzma by liblzma,
 * gzip by zlib, zstd by libzstd. The formats Linux also knows but these
 * libraries do not (bzip2, lzo, lz4) are recognised, not decoded.
 */
#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "util/unpack.h"

/* zlib counts in uInt: feed it at most this much at a time. */
#define ZLIB_CHUNK	(1u << 30)
/*
 * What a decoder may allocate is bounded by the output it is to make: a
 * stream's header could otherwise ask for gigabytes of dictionary (xz,
 * lzma) or window (zstd). A window larger than the whole output is of no
 * use anyway.
 */
#define DECODER_MEM_SLACK	(64u << 20)
/*
 * zstd's default limit (128 MiB): what Linux's build gets from
 * "zstd -22 --ultra" reading a pipe, whatever the kernel's size.
 */
#define ZSTD_WINDOW_LOG_MIN	27
#define ZSTD_WINDOW_LOG_MAX	30

static unsigned int zstd_window_log(size_t out_len)
{
	unsigned int log = ZSTD_WINDOW_LOG_MIN;

	while (log < ZSTD_WINDOW_LOG_MAX && ((size_t)1 << log) < out_len)
		log++;
	return log;
}

static const struct {
	enum unpack_format f;
	const char *name;
	size_t len;
	const uint8_t magic[6];
} formats[] = {
	{ UNPACK_GZIP, "gzip", 2, { 0x1f, 0x8b } },
	{ UNPACK_XZ, "xz", 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
	{ UNPACK_LZMA, "lzma", 3, { 0x5d, 0x00, 0x00 } },
	{ UNPACK_ZSTD, "zstd", 4, { 0x28, 0xb5, 0x2f, 0xfd } },
	{ UNPACK_BZIP2, "bzip2", 3, { 'B', 'Z', 'h' } },
	{ UNPACK_LZO, "lzo", 4, { 0x89, 'L', 'Z', 'O' } },
	{ UNPACK_LZ4, "lz4", 4, { 0x02, 0x21, 0x4c, 0x18 } },
};

enum unpack_format unpack_detect(const void *data, size_t len)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (len >= formats[i].len && !memcmp(data, formats[i].magic, formats[i].len))
			return formats[i].f;
	}
	return UNPACK_UNKNOWN;
}

const char *unpack_format_name(enum unpack_format f)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].f == f)
			return formats[i].name;
	}
	return "unknown";
}

bool unpack_supported(enum unpack_format f)
{
	return f == UNPACK_GZIP || f == UNPACK_XZ || f == UNPACK_LZMA || f == UNPACK_ZSTD;
}

static int size_error(const char *fmt, size_t got, size_t want, char *err, size_t errlen)
{
	if (got < want)
		snprintf(err, errlen, "%s: the stream ends after %zu bytes, %zu expected", fmt, got, want);
	else if (got > want)
		snprintf(err, errlen, "%s: the stream holds more than the %zu bytes expected", fmt, want);
	else
		snprintf(err, errlen, "%s: truncated: the stream's end is missing", fmt);
	return -EINVAL;
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_MEMLIMIT_ERROR:
		return "asks for more decoder memory than its size warrants";
	case LZMA_FORMAT_ERROR:
		return "not in the format its magic says";
	case LZMA_OPTIONS_ERROR:
		return "uses options liblzma does not support";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_BUF_ERROR:
		return "truncated";
	case LZMA_UNSUPPORTED_CHECK:
		return "unsupported integrity check";
	default:
		return "decoder error";
	}
}

/*
 * Each decoder writes into 'out' until it is full, then into one spare
 * byte: a stream that reaches it is longer than expected, one that ends
 * before is shorter.
 */
static int unpack_lzma(enum unpack_format f, const void *in, size_t in_len, void *out,
		       size_t out_len, char *err, size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	const char *name = unpack_format_name(f);
	uint8_t spare;
	lzma_ret r;

	r = f == UNPACK_XZ ? lzma_stream_decoder(&s, (uint64_t)out_len + DECODER_MEM_SLACK, 0)
			   : lzma_alone_decoder(&s, (uint64_t)out_len + DECODER_MEM_SLACK);
	if (r != LZMA_OK) {
		snprintf(err, errlen, "%s: %s", name, lzma_why(r));
		return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = out_len;
	do {
		r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_OK && !s.avail_out) {
			if (s.total_out > out_len)
				break;
			s.next_out = &spare;
			s.avail_out = 1;
		}
	} while (r == LZMA_OK);
	if (r == LZMA_STREAM_END && s.total_out == out_len) {
		lzma_end(&s);
		return 0;
	}
	if (r == LZMA_OK || r == LZMA_STREAM_END ||
	    (r == LZMA_BUF_ERROR && !s.avail_in)) {
		size_t got = (size_t)s.total_out;

		lzma_end(&s);
		return size_error(name, got, out_len, err, errlen);
	}
	lzma_end(&s);
	snprintf(err, errlen, "%s: %s", name, lzma_why(r));
	if (r == LZMA_MEMLIMIT_ERROR || r == LZMA_OPTIONS_ERROR || r == LZMA_UNSUPPORTED_CHECK)
		return -ENOTSUP;
	return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
}

static int unpack_gzip(const void *in, size_t in_len, void *out, size_t out_len,
		       char *err, size_t errlen)
{
	const uint8_t *ip = in;
	uint8_t *op = out, spare;
	size_t in_done = 0, out_done = 0;
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	/* 16 + MAX_WBITS: a gzip wrapper, not zlib's. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "gzip: out of memory");
		return -ENOMEM;
	}
	do {
		size_t ci = in_len - in_done < ZLIB_CHUNK ? in_len - in_done : ZLIB_CHUNK;
		size_t co = out_len - out_done < ZLIB_CHUNK ? out_len - out_done : ZLIB_CHUNK;

		z.next_in = (Bytef *)(ip + in_done);
		z.avail_in = (uInt)ci;
		if (out_done < out_len) {
			z.next_out = op + out_done;
			z.avail_out = (uInt)co;
		} else {
			co = 1;
			z.next_out = &spare;
			z.avail_out = 1;
		}
		r = inflate(&z, Z_NO_FLUSH);
		in_done += ci - z.avail_in;
		out_done += co - z.avail_out;
	} while (r == Z_OK && out_done <= out_len);
	inflateEnd(&z);
	if (r == Z_STREAM_END && out_done == out_len)
		return 0;
	if (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR)
		return size_error("gzip", out_done, out_len, err, errlen);
	snprintf(err, errlen, "gzip: %s", r == Z_MEM_ERROR ? "out of memory" :
		 z.msg ? z.msg : "corrupt data");
	return r == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
}

static int unpack_zstd(const void *in, size_t in_len, void *out, size_t out_len,
		       char *err, size_t errlen)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	uint8_t spare;
	size_t r, got = 0;

	if (!d) {
		snprintf(err, errlen, "zstd: out of memory");
		return -ENOMEM;
	}
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, (int)zstd_window_log(out_len));
	for (;;) {
		size_t before_in = ib.pos, before_out = ob.pos;

		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r)) {
			bool unsupported = ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge ||
					   ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_unsupported;

			snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
			ZSTD_freeDCtx(d);
			return unsupported ? -ENOTSUP : -EINVAL;
		}
		got += ob.pos - before_out;
		if (!r || got > out_len)
			break;		/* the frame is complete, or too long */
		if (ob.pos == ob.size && ob.dst != &spare) {
			ob.dst = &spare;
			ob.size = 1;
			ob.pos = 0;
		} else if (ib.pos == before_in && ob.pos == before_out) {
			break;		/* no progress: the input ran out */
		}
	}
	ZSTD_freeDCtx(d);
	if (!r && got == out_len)
		return 0;
	return size_error("zstd", got, out_len, err, errlen);
}

int unpack(enum unpack_format f, const void *in, size_t in_len, void *out,
	   size_t out_len, char *err, size_t errlen)
{
	switch (f) {
	case UNPACK_XZ:
	case UNPACK_LZMA:
		return unpack_lzma(f, in, in_len, out, out_len, err, errlen);
	case UNPACK_GZIP:
		return unpack_gzip(in, in_len, out, out_len, err, errlen);
	case UNPACK_ZSTD:
		return unpack_zstd(in, in_len, out, out_len, err, errlen);
	default:
		snprintf(err, errlen, "%s: not a format vmm decompresses", unpack_format_name(f));
		return -ENOTSUP;
	}
}
