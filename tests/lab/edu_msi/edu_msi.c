// SPDX-License-Identifier: GPL-2.0
/*
 * edu_msi: a test driver for QEMU's edu device (1234:11e8) in the lab's L2
 * guest. It takes an MSI vector through the kernel's own PCI MSI code, makes
 * edu raise an interrupt, and moves a random buffer RAM -> edu -> RAM with
 * the DMA API, each DMA ending in a completion MSI. Results are kernel log
 * lines "edu_msi: BDF KEY VALUE..." that init-l2 passes on to the scenario.
 */
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/random.h>

#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_START	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_DMA_IRQ	0x4
#define EDU_DMA_IRQ_VAL	0x100		/* the status edu raises at DMA end */
#define EDU_BUF		0x40000		/* edu's buffer in its DMA space */
#define EDU_DMA_BITS	28
#define XFER		256

struct edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct completion done;
	u32 status;			/* what the last interrupt acked */
	atomic_t irqs;
};

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu *e = data;
	u32 st = ioread32(e->bar + EDU_IRQ_STATUS);

	if (!st)
		return IRQ_NONE;
	iowrite32(st, e->bar + EDU_IRQ_ACK);
	e->status = st;
	atomic_inc(&e->irqs);
	complete(&e->done);
	return IRQ_HANDLED;
}

/* Wait for the next interrupt; its status, or 0 after a second without one. */
static u32 edu_wait(struct edu *e)
{
	if (!wait_for_completion_timeout(&e->done, HZ))
		return 0;
	return e->status;
}

static u32 edu_dma(struct edu *e, u64 src, u64 dst, u32 cmd)
{
	reinit_completion(&e->done);
	iowrite32(lower_32_bits(src), e->bar + EDU_DMA_SRC);
	iowrite32(lower_32_bits(dst), e->bar + EDU_DMA_DST);
	iowrite32(XFER, e->bar + EDU_DMA_CNT);
	iowrite32(cmd | EDU_DMA_START | EDU_DMA_IRQ, e->bar + EDU_DMA_CMD);
	return edu_wait(e);
}

static void edu_test_dma(struct edu *e, const char *bdf)
{
	struct device *dev = &e->pdev->dev;
	dma_addr_t dma;
	u8 *buf;
	u32 st_to, st_from;

	if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS))) {
		pr_info("edu_msi: %s DMA nomask\n", bdf);
		return;
	}
	buf = dma_alloc_coherent(dev, 2 * XFER, &dma, GFP_KERNEL);
	if (!buf) {
		pr_info("edu_msi: %s DMA nomem\n", bdf);
		return;
	}
	get_random_bytes(buf, XFER);
	memset(buf + XFER, 0, XFER);
	st_to = edu_dma(e, dma, EDU_BUF, 0);
	st_from = edu_dma(e, EDU_BUF, dma + XFER, EDU_DMA_TO_RAM);
	pr_info("edu_msi: %s DMA %s %u bytes at %#llx, completion status %#x %#x\n", bdf,
		memcmp(buf, buf + XFER, XFER) ? "mismatch" : "ok", XFER,
		(unsigned long long)dma, st_to, st_from);
	dma_free_coherent(dev, 2 * XFER, buf, dma);
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const char *bdf = pci_name(pdev);
	struct edu *e;
	int ret, irq;
	u32 st;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	init_completion(&e->done);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, 1, "edu_msi");
	if (ret)
		return ret;
	e->bar = pcim_iomap_table(pdev)[0];
	pci_set_master(pdev);

	/* MSI only: no fallback to INTx, which would hide a broken MSI. */
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0) {
		pr_info("edu_msi: %s VECTOR none %d\n", bdf, ret);
		return ret;
	}
	irq = pci_irq_vector(pdev, 0);
	ret = request_irq(irq, edu_irq, 0, "edu_msi", e);
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	pr_info("edu_msi: %s VECTOR irq %d\n", bdf, irq);

	iowrite32(0x5a, e->bar + EDU_IRQ_RAISE);
	st = edu_wait(e);
	pr_info("edu_msi: %s RAISE %s status %#x\n", bdf, st ? "ok" : "none", st);
	edu_test_dma(e, bdf);
	pr_info("edu_msi: %s IRQS %d\n", bdf, atomic_read(&e->irqs));
	pci_set_drvdata(pdev, e);
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *e = pci_get_drvdata(pdev);

	free_irq(pci_irq_vector(pdev, 0), e);
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "edu_msi",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("MSI and DMA test driver for QEMU's edu device (vmm's lab)");
MODULE_LICENSE("GPL");
