/*
 * Host inventory internals shared by host.c and host_caps.c: BAR decoding
 * and the capability walk over a config space already read into a device.
 */
#ifndef VMM_VFIO_HOST_PRIV_H
#define VMM_VFIO_HOST_PRIV_H

#include <stdint.h>

#include "vfio/host.h"

/* One line of a sysfs resource file: start, end, flags. */
struct host_resource {
	uint64_t start, end, flags;
};

#define HOST_RES_LINES		7	/* BAR0-5 and the ROM; later lines are ignored */

/* struct resource flags as the kernel prints them in the resource file */
#define HOST_IORESOURCE_IO	0x00000100ULL
#define HOST_IORESOURCE_MEM	0x00000200ULL
#define HOST_IORESOURCE_PREFETCH 0x00002000ULL
#define HOST_IORESOURCE_MEM_64	0x00100000ULL

/*
 * Parse the text of a resource file (NUL-terminated). Fills res[0..7);
 * lines the file lacks are left empty. 0 or -EINVAL for a malformed line.
 */
int host_parse_resource(const char *text, struct host_resource *res);

/*
 * Fill dev->bars[] and dev->rom_size from res[] and the BAR registers in
 * dev->config (dev->config_len and dev->header_type must be set). The BAR
 * kind (I/O, 32- or 64-bit memory) and prefetchability come from the BAR
 * registers; the resource lines give address and size. Without the
 * registers (config shorter than the BAR), the resource flags decide.
 * 0, or -EINVAL when a size is not a power of two or end < start.
 */
int host_decode_bars(struct host_device *dev, const struct host_resource *res);

/*
 * Walk the standard and extended capability lists in dev->config[0..config_len)
 * and fill caps[], msi, msix and pcie. Never reads past config_len; stops at a
 * pointer into the header, out of range, or already visited (a loop). MSI-X
 * is left not present when its table or PBA does not lie inside a memory BAR
 * (call after host_decode_bars()).
 */
void host_parse_caps(struct host_device *dev);

#endif
