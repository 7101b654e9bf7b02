/*
 * The MC146818 CMOS RTC at ports 0x70 (index, bit 7 masks NMI) and 0x71
 * (data): the time and date from a clock (the host's by default), registers
 * A-D, the century byte at 0x32 and 128 bytes of CMOS storage.
 *
 * No interrupts: IRQ 8 is never raised, register A never shows an update in
 * progress, and register C only ever reports UF (an update has happened
 * since C was last read); periodic and alarm flags stay clear. The guest may
 * set the clock (SET bit in B, as Linux's hwclock does): the RTC then runs
 * at an offset from its clock source; the host clock is never touched, and
 * the day of the week is derived from the date, not kept as written.
 *
 * Locking: one internal mutex per RTC; the clock callback runs with it held
 * and must not call back into the RTC.
 */
#ifndef VMM_LEGACY_RTC_H
#define VMM_LEGACY_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/io.h"

#define RTC_INDEX_PORT		0x70
#define RTC_DATA_PORT		0x71
#define RTC_CMOS_SIZE		128
#define RTC_REG_CENTURY		0x32	/* what the FADT's century field names */

struct rtc;

/* Seconds since the Unix epoch, UTC. */
typedef int64_t (*rtc_clock_fn)(void *opaque);

/* clock NULL: the host's CLOCK_REALTIME. NULL on allocation failure. */
struct rtc *rtc_create(rtc_clock_fn clock, void *opaque);
void rtc_destroy(struct rtc *rtc);

/* Claim ports 0x70-0x71: 0 or a negative errno. */
int rtc_register(struct rtc *rtc, struct io_bus *bus);
int rtc_unregister(struct rtc *rtc, struct io_bus *bus);

/*
 * Preset or inspect a CMOS storage byte (index & 0x7f), e.g. the memory
 * size bytes firmware would write. The clock and status registers
 * (0x00-0x0d, 0x32) are computed, not stored: setting them has no effect
 * and reading gives what the guest would read, without side effects.
 */
void rtc_cmos_set(struct rtc *rtc, uint8_t index, uint8_t value);
uint8_t rtc_cmos_get(struct rtc *rtc, uint8_t index);

/* Bit 7 of the last index write: the guest's NMI mask. */
bool rtc_nmi_masked(struct rtc *rtc);

#endif
