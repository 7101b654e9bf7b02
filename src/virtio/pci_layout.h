/*
 * The one BAR of a virtio-pci (modern) function: where each structure sits.
 * The planner sizes the BAR from this; the transport serves it.
 */
#ifndef VMM_VIRTIO_PCI_LAYOUT_H
#define VMM_VIRTIO_PCI_LAYOUT_H

#include <stdint.h>

#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040	/* + virtio device id */
#define VIRTIO_PCI_SUBSYS_DEVICE	0x1100
#define VIRTIO_PCI_REVISION		1	/* modern only */

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

/* BAR 0, 64-bit, non-prefetchable (the ISR is read-to-clear). */
#define VIRTIO_PCI_BAR			0
#define VIRTIO_PCI_COMMON_OFF		0x0000	/* struct virtio_pci_common_cfg */
#define VIRTIO_PCI_COMMON_LEN		0x0100
#define VIRTIO_PCI_ISR_OFF		0x0100
#define VIRTIO_PCI_ISR_LEN		0x0004
#define VIRTIO_PCI_DEVICE_OFF		0x0200	/* device-specific config */
#define VIRTIO_PCI_DEVICE_LEN		0x0e00
#define VIRTIO_PCI_NOTIFY_OFF		0x1000	/* one 4-byte doorbell per queue */
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_MAX_QUEUES		1024
#define VIRTIO_PCI_MSIX_TABLE_OFF	0x2000	/* 16 bytes a vector */
#define VIRTIO_PCI_MSIX_PBA_OFF		0x3000
#define VIRTIO_PCI_MAX_VECTORS		256
#define VIRTIO_PCI_BAR_SIZE		0x4000	/* 16 KiB */

#endif
