/*
 * The MC146818 model: time registers encoded from a clock (BCD or binary,
 * 12 or 24 hours), the guest setting the time as an offset, CMOS storage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "legacy/rtc.h"

#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d

#define A_UIP		0x80
#define A_RESET		0x26	/* 32.768 kHz time base, 1024 Hz rate */

#define B_SET		0x80	/* updates stopped: the guest sets the time */
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_DM_BINARY	0x04
#define B_24H		0x02
#define B_RESET		B_24H	/* 24 hours, BCD */

#define C_IRQF		0x80
#define C_UF		0x10

#define D_VRT		0x80	/* valid RAM and time: the battery is fine */

#define HOUR_PM		0x80

struct rtc {
	pthread_mutex_t lock;
	rtc_clock_fn clock;
	void *clock_opaque;

	uint8_t cmos[RTC_CMOS_SIZE];	/* time bytes hold the latch while SET */
	uint8_t index;
	bool nmi_masked;
	int64_t offset;			/* guest time minus clock time */
	int64_t last_c;			/* guest time when C was last read */
};

static int64_t rtc_host_clock(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static int64_t rtc_now(struct rtc *r)
{
	return r->clock(r->clock_opaque) + r->offset;
}

static bool rtc_is_time_reg(unsigned int idx)
{
	switch (idx) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MON:
	case REG_YEAR:
	case RTC_REG_CENTURY:
		return true;
	}
	return false;
}

static uint8_t rtc_to_bcd(unsigned int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned int rtc_from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Encode one value in the data mode register B selects. */
static uint8_t rtc_enc(const struct rtc *r, unsigned int v)
{
	return r->cmos[REG_B] & B_DM_BINARY ? (uint8_t)v : rtc_to_bcd(v);
}

static unsigned int rtc_dec(const struct rtc *r, uint8_t v)
{
	return r->cmos[REG_B] & B_DM_BINARY ? v : rtc_from_bcd(v);
}

/* The time register idx at guest time t, in the current format. */
static uint8_t rtc_time_reg(const struct rtc *r, unsigned int idx, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	unsigned int h;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));

	switch (idx) {
	case REG_SEC:
		return rtc_enc(r, tm.tm_sec);
	case REG_MIN:
		return rtc_enc(r, tm.tm_min);
	case REG_HOUR:
		if (r->cmos[REG_B] & B_24H)
			return rtc_enc(r, tm.tm_hour);
		h = tm.tm_hour % 12;
		return rtc_enc(r, h ? h : 12) | (tm.tm_hour >= 12 ? HOUR_PM : 0);
	case REG_WDAY:
		return rtc_enc(r, tm.tm_wday + 1);	/* Sunday is 1 */
	case REG_MDAY:
		return rtc_enc(r, tm.tm_mday);
	case REG_MON:
		return rtc_enc(r, tm.tm_mon + 1);
	case REG_YEAR:
		return rtc_enc(r, (unsigned int)(tm.tm_year + 1900) % 100);
	case RTC_REG_CENTURY:
		return rtc_enc(r, (unsigned int)(tm.tm_year + 1900) / 100);
	}
	return 0;
}

/* Freeze the running time into the time bytes (SET, or a lone write). */
static void rtc_latch(struct rtc *r)
{
	static const uint8_t regs[] = {
		REG_SEC, REG_MIN, REG_HOUR, REG_WDAY, REG_MDAY, REG_MON,
		REG_YEAR, RTC_REG_CENTURY,
	};
	int64_t t = rtc_now(r);

	for (unsigned int i = 0; i < sizeof(regs); i++)
		r->cmos[regs[i]] = rtc_time_reg(r, regs[i], t);
}

/* Start the clock again from the time bytes: a new offset. */
static void rtc_commit(struct rtc *r)
{
	struct tm tm = { 0 };
	uint8_t hv = r->cmos[REG_HOUR];
	unsigned int hour;
	time_t t;

	tm.tm_sec = rtc_dec(r, r->cmos[REG_SEC]);
	tm.tm_min = rtc_dec(r, r->cmos[REG_MIN]);
	if (r->cmos[REG_B] & B_24H) {
		hour = rtc_dec(r, hv);
	} else {
		hour = rtc_dec(r, hv & ~HOUR_PM) % 12;
		if (hv & HOUR_PM)
			hour += 12;
	}
	tm.tm_hour = hour;
	tm.tm_mday = rtc_dec(r, r->cmos[REG_MDAY]);
	tm.tm_mon = (int)rtc_dec(r, r->cmos[REG_MON]) - 1;
	tm.tm_year = (int)(rtc_dec(r, r->cmos[RTC_REG_CENTURY]) * 100 +
			   rtc_dec(r, r->cmos[REG_YEAR])) - 1900;
	/* Garbage the guest wrote is normalised by timegm, never trusted. */
	t = timegm(&tm);
	r->offset = (int64_t)t - r->clock(r->clock_opaque);
	r->last_c = rtc_now(r);
}

static uint8_t rtc_read_reg(struct rtc *r, unsigned int idx, bool side_effects)
{
	int64_t now;
	uint8_t v;

	if (rtc_is_time_reg(idx)) {
		if (r->cmos[REG_B] & B_SET)
			return r->cmos[idx];
		return rtc_time_reg(r, idx, rtc_now(r));
	}
	switch (idx) {
	case REG_A:
		return r->cmos[REG_A] & ~A_UIP;
	case REG_B:
		return r->cmos[REG_B];
	case REG_C:
		now = rtc_now(r);
		v = 0;
		if (now != r->last_c && !(r->cmos[REG_B] & B_SET))
			v |= C_UF;
		if ((v & C_UF) && (r->cmos[REG_B] & B_UIE))
			v |= C_IRQF;
		if (side_effects)
			r->last_c = now;
		return v;
	case REG_D:
		return D_VRT;
	}
	return r->cmos[idx];
}

static void rtc_write_reg(struct rtc *r, unsigned int idx, uint8_t v)
{
	uint8_t b = r->cmos[REG_B];

	if (rtc_is_time_reg(idx)) {
		if (b & B_SET) {
			r->cmos[idx] = v;
			return;
		}
		/* Written while running: the clock goes on from the new value. */
		rtc_latch(r);
		r->cmos[idx] = v;
		rtc_commit(r);
		return;
	}
	switch (idx) {
	case REG_A:
		r->cmos[REG_A] = v & ~A_UIP;
		return;
	case REG_B:
		if ((v & B_SET) && !(b & B_SET)) {
			rtc_latch(r);
			v &= ~B_UIE;	/* setting SET clears UIE */
		}
		r->cmos[REG_B] = v;
		if (!(v & B_SET) && (b & B_SET))
			rtc_commit(r);
		return;
	case REG_C:
	case REG_D:
		return;		/* read-only */
	}
	r->cmos[idx] = v;
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned int len)
{
	struct rtc *r = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < len && i < 8; i++) {
		uint64_t b = 0xff;	/* the index port and past 0x71 */

		if (offset + i == 1)
			b = rtc_read_reg(r, r->index, true);
		v |= b << (8 * i);
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_io_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned int len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < len && i < 8; i++) {
		uint8_t b = value >> (8 * i);

		if (offset + i == 0) {
			r->index = b & 0x7f;
			r->nmi_masked = b & 0x80;
		} else if (offset + i == 1) {
			rtc_write_reg(r, r->index, b);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct io_ops rtc_io_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

struct rtc *rtc_create(rtc_clock_fn clock, void *opaque)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		return NULL;
	}
	r->clock = clock ? clock : rtc_host_clock;
	r->clock_opaque = opaque;
	r->cmos[REG_A] = A_RESET;
	r->cmos[REG_B] = B_RESET;
	r->last_c = rtc_now(r);
	return r;
}

void rtc_destroy(struct rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

int rtc_register(struct rtc *rtc, struct io_bus *bus)
{
	return io_bus_register(bus, IO_SPACE_PIO, RTC_INDEX_PORT, 2,
			       &rtc_io_ops, rtc, "rtc");
}

int rtc_unregister(struct rtc *rtc, struct io_bus *bus)
{
	return io_bus_unregister(bus, IO_SPACE_PIO, RTC_INDEX_PORT);
}

void rtc_cmos_set(struct rtc *rtc, uint8_t index, uint8_t value)
{
	index &= 0x7f;
	if (index <= REG_D || index == RTC_REG_CENTURY)
		return;
	pthread_mutex_lock(&rtc->lock);
	rtc->cmos[index] = value;
	pthread_mutex_unlock(&rtc->lock);
}

uint8_t rtc_cmos_get(struct rtc *rtc, uint8_t index)
{
	uint8_t v;

	pthread_mutex_lock(&rtc->lock);
	v = rtc_read_reg(rtc, index & 0x7f, false);
	pthread_mutex_unlock(&rtc->lock);
	return v;
}

bool rtc_nmi_masked(struct rtc *rtc)
{
	bool m;

	pthread_mutex_lock(&rtc->lock);
	m = rtc->nmi_masked;
	pthread_mutex_unlock(&rtc->lock);
	return m;
}
