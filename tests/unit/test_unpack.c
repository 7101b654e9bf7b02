/*
 * util/unpack: each format Linux compresses kernels with, made here by its
 * library's encoder, decoded back exactly; and every way a stream can be
 * wrong for the size it claims.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_getFrameHeader() */
#include <zstd.h>

#include "kernel_image.h"
#include "util/unpack.h"

#define DATA_LEN	(3u << 20)	/* more than one of zlib's or zstd's blocks */

static char err[512];

/* Compressible, not trivially: text-like runs with a pseudo-random walk. */
static uint8_t *sample(size_t len)
{
	uint8_t *p = malloc(len);
	uint32_t x = 12345;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		p[i] = (uint8_t)((x >> 16) % 29 + 'a');
		if (i % 64 < 8)
			p[i] = (uint8_t)(i >> 6);
	}
	return p;
}

typedef uint8_t *(*compressor)(const uint8_t *in, size_t len, size_t *out_len);

static const struct {
	enum unpack_format f;
	const char *name;
	compressor make;
	size_t trailer;		/* bytes after the stream: the size word */
} formats[] = {
	{ UNPACK_XZ, "xz", payload_xz, 4 },
	{ UNPACK_LZMA, "lzma", payload_lzma, 4 },
	{ UNPACK_GZIP, "gzip", payload_gzip, 0 },
	{ UNPACK_ZSTD, "zstd", payload_zstd, 4 },
};

static void test_round_trip(void **state)
{
	uint8_t *data = sample(DATA_LEN), *out = malloc(DATA_LEN + 1);

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t clen;
		uint8_t *c = formats[i].make(data, DATA_LEN, &clen);

		assert_int_equal(unpack_detect(c, clen), formats[i].f);
		assert_string_equal(unpack_format_name(formats[i].f), formats[i].name);
		assert_true(unpack_supported(formats[i].f));
		memset(out, 0xee, DATA_LEN + 1);
		if (unpack(formats[i].f, c, clen, out, DATA_LEN, err, sizeof(err)))
			fail_msg("%s: %s", formats[i].name, err);
		assert_memory_equal(out, data, DATA_LEN);
		assert_int_equal(out[DATA_LEN], 0xee);	/* not a byte more */
		free(c);
	}
	free(data);
	free(out);
}

static void expect_fail(enum unpack_format f, const uint8_t *c, size_t clen, uint8_t *out,
			size_t want, const char *needle)
{
	int ret = unpack(f, c, clen, out, want, err, sizeof(err));

	if (ret != -EINVAL || !strstr(err, needle))
		fail_msg("%s: expected -EINVAL with \"%s\", got %d: %s", unpack_format_name(f),
			 needle, ret, err);
}

static void test_sizes_and_truncation(void **state)
{
	uint8_t *data = sample(DATA_LEN), *out = malloc(DATA_LEN + 16);

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		enum unpack_format f = formats[i].f;
		size_t clen, slen;
		uint8_t *c = formats[i].make(data, DATA_LEN, &clen);

		slen = clen - formats[i].trailer;
		/* Said to be smaller than it is: the stream goes on. */
		expect_fail(f, c, clen, out, DATA_LEN - 1, "more than the");
		/* Said to be larger: the stream ends first. */
		expect_fail(f, c, clen, out, DATA_LEN + 1, "ends after");
		/* Cut in the middle of its data. */
		expect_fail(f, c, slen / 2, out, DATA_LEN, "");
		/* Cut just before its end (the checksum, the end marker). */
		expect_fail(f, c, slen - 1, out, DATA_LEN, "");
		free(c);
	}
	free(data);
	free(out);
}

static void test_corrupt(void **state)
{
	uint8_t *data = sample(DATA_LEN), *out = malloc(DATA_LEN);

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t clen;
		uint8_t *c = formats[i].make(data, DATA_LEN, &clen);
		int ret;

		/* A flipped byte in the middle: a check or the decoder must see it. */
		c[(clen - formats[i].trailer) / 2] ^= 0x55;
		ret = unpack(formats[i].f, c, clen, out, DATA_LEN, err, sizeof(err));
		if (ret != -EINVAL)
			fail_msg("%s: a corrupt stream gave %d: %s", formats[i].name, ret, err);
		assert_non_null(strstr(err, formats[i].name));
		free(c);
	}
	free(data);
	free(out);
}

static void test_detect(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		enum unpack_format f;
	} magic[] = {
		{ "\x1f\x8b\x08", 3, UNPACK_GZIP },
		{ "\xfd" "7zXZ\0\0", 7, UNPACK_XZ },
		{ "\x5d\0\0\x80\0", 5, UNPACK_LZMA },
		{ "\x28\xb5\x2f\xfd\x04", 5, UNPACK_ZSTD },
		{ "BZh91AY", 7, UNPACK_BZIP2 },
		{ "\x89LZO\0", 5, UNPACK_LZO },
		{ "\x02\x21\x4c\x18\0", 5, UNPACK_LZ4 },
		{ "\x7f" "ELF", 4, UNPACK_UNKNOWN },
		{ "\xfd" "7zX", 4, UNPACK_UNKNOWN },	/* too short for xz's magic */
		{ "", 0, UNPACK_UNKNOWN },
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		assert_int_equal(unpack_detect(magic[i].bytes, magic[i].len), magic[i].f);
	assert_false(unpack_supported(UNPACK_BZIP2));
	assert_false(unpack_supported(UNPACK_LZO));
	assert_false(unpack_supported(UNPACK_LZ4));
	assert_false(unpack_supported(UNPACK_UNKNOWN));
	assert_string_equal(unpack_format_name(UNPACK_LZ4), "lz4");
	assert_string_equal(unpack_format_name(UNPACK_UNKNOWN), "unknown");
	assert_int_equal(unpack(UNPACK_LZ4, magic[6].bytes, magic[6].len, out, sizeof(out),
				err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "lz4: not a format vmm decompresses"));
	/* The magic, then garbage: refused, never trusted. */
	for (size_t i = 0; i < 4; i++) {
		uint8_t junk[64];
		int ret;

		memset(junk, 0xa5, sizeof(junk));
		memcpy(junk, magic[i].bytes, magic[i].len);
		ret = unpack(magic[i].f, junk, sizeof(junk), out, sizeof(out), err, sizeof(err));
		if (ret != -EINVAL && ret != -ENOTSUP)
			fail_msg("%s: garbage gave %d: %s", unpack_format_name(magic[i].f), ret, err);
	}
}

/*
 * What Linux's build makes with "zstd -22 --ultra" from a pipe: a frame that
 * does not say its size and asks for a 128 MiB window, whatever the kernel's
 * size. Decoded. A frame asking for more than that and than its output is
 * left to someone else (-ENOTSUP), as is an lzma header asking for a 1 GiB
 * dictionary to make 64 KiB.
 */
static void test_windows(void **state)
{
	size_t len = 1u << 20, cap = ZSTD_compressBound(1u << 20), n;
	uint8_t *data = sample(len), *c = malloc(cap), *out = malloc(len);
	ZSTD_CCtx *z = ZSTD_createCCtx();
	ZSTD_outBuffer ob = { c, cap, 0 };
	ZSTD_inBuffer ib = { data, len, 0 };
	uint8_t hdr[32];

	(void)state;
	assert_non_null(c);
	assert_non_null(out);
	assert_non_null(z);
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3)));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, 27)));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 0)));
	/* Fed as a pipe would: the encoder never learns the size. */
	while (ib.pos < ib.size)
		assert_false(ZSTD_isError(ZSTD_compressStream2(z, &ob, &ib, ZSTD_e_continue)));
	assert_int_equal(ZSTD_compressStream2(z, &ob, &ib, ZSTD_e_end), 0);
	n = ob.pos;
	assert_int_equal(ZSTD_getFrameContentSize(c, n), ZSTD_CONTENTSIZE_UNKNOWN);
	{
		ZSTD_frameHeader fh;

		assert_int_equal(ZSTD_getFrameHeader(&fh, c, n), 0);
		assert_int_equal(fh.windowSize, 1u << 27);
	}
	if (unpack(UNPACK_ZSTD, c, n, out, len, err, sizeof(err)))
		fail_msg("a 128 MiB window for 1 MiB: %s", err);
	assert_memory_equal(out, data, len);

	ZSTD_freeCCtx(z);

	/*
	 * A frame asking for a 2 GiB window (what --long=31 gives): magic, a
	 * header without a size, window descriptor exponent 21 (2^31), then an
	 * empty last raw block.
	 */
	{
		static const uint8_t big[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00 };

		assert_int_equal(unpack(UNPACK_ZSTD, big, sizeof(big), out, len, err, sizeof(err)),
				 -ENOTSUP);
		assert_non_null(strstr(err, "zstd: "));
	}

	/* lzma: properties, a 1 GiB dictionary, an unknown size, then nothing. */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 0x5d;
	hdr[4] = 0x40;			/* dictionary size 0x40000000, little-endian */
	memset(hdr + 5, 0xff, 8);	/* uncompressed size: unknown */
	assert_int_equal(unpack(UNPACK_LZMA, hdr, sizeof(hdr), out, 65536, err, sizeof(err)),
			 -ENOTSUP);
	assert_non_null(strstr(err, "more decoder memory than its size warrants"));
	free(data);
	free(c);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sizes_and_truncation),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
