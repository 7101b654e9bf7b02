# vfio-nvme: L1's NVMe controller (QEMU's nvme, whose MSI-X table and PBA
# sit in BAR0 beside the doorbells) passed through behind a root port to the
# guest's own nvme driver: it finds the controller where pci-topo planned
# it, reads the first MiB as the host wrote it, writes 8 MiB and reads them
# back with O_DIRECT (the controller's DMA), its completions by MSI-X, one
# vector a queue; the doorbells go to the device without exits (vmm traps
# only the MSI-X pages: its count of trapped accesses elsewhere stays 0).
# A second machine file has the guest reboot with on-reboot = reset: vmm
# resets the controller for the new machine, and the guest drives it again.
# timeout: 420
. "$LAB_DIR/scenarios/lib.sh"

set -- $(pci_devs 0x1b36 0x0010)
nvme=${1:-}
if [ -z "$nvme" ]; then
	ok "an NVMe controller to pass through # SKIP none on this host (tests/lab/run gives L1 one)"
	exit 0
fi
note "NVMe in L1: $nvme, IOMMU group $(basename "$(readlink "/sys/bus/pci/devices/$nvme/iommu_group")")"
sed -e "s|@NVME@|$nvme|" "$LAB_VIEW/machines/vfio-nvme.ini" >"$SCRATCH/vfio-nvme.ini"
cp "$SCRATCH/vfio-nvme.ini" "$OUT/"
m=$SCRATCH_HOST/vfio-nvme.ini

vfio_bind "$nvme"
drv=$(pci_driver "$nvme")
check "tools/vfio-bind binds the NVMe controller to vfio-pci (driver: ${drv:-none})" [ "$drv" = vfio-pci ]
[ "$drv" = vfio-pci ] || { sed 's/^/#   /' "$OUT/vfio-bind.log"; exit 0; }

$PCI_TOPO --json -c "$m" >"$OUT/vfio-nvme.json" 2>"$OUT/pci-topo.err"
plan=$(plan_bar0 "$OUT/vfio-nvme.json" nvme)
check "pci-topo plans the controller (${plan:-nothing})" [ -n "$plan" ]

VM_TIMEOUT=200 vm_run nvme "$m"
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
gbar=$(val NVME BAR0)
r=1
[ "$(val NVME BDF)" = "${plan% *}" ] && [ -n "$gbar" ] && [ $((gbar)) = $((${plan#* })) ] && r=0
check "the guest's nvme driver has it at the planned BDF and BAR0 ($(val NVME BDF) $gbar; plan $plan)" [ $r = 0 ]
check "its serial is the controller's (got $(val NVME SERIAL))" [ "$(val NVME SERIAL)" = vmmlab-nvme ]
want=$(cat "$LAB_VIEW/nvme.md5" 2>/dev/null)
r=1
[ -n "$want" ] && [ "$(val NVME IN)" = "$want" ] && r=0
check "the first MiB reads as the host wrote it (MD5 $(val NVME IN), host ${want:-?})" [ $r = 0 ]
set -- $(val NVME WRITE) '' '' ''
note "8 MiB written with O_DIRECT in $(span "$2" "$3") s (guest clock)"
check "8 MiB written with O_DIRECT and fsync ($1)" [ "$1" = ok ]
r=1
[ -n "$(val NVME WANT)" ] && [ "$(val NVME WANT)" = "$(val NVME GOT)" ] && r=0
check "and read back intact with O_DIRECT (MD5 $(val NVME GOT), written $(val NVME WANT))" [ $r = 0 ]
mode=$(val NVME MODE) irqs=$(val NVME IRQS)
note "interrupts: $irqs; vectors: $mode"
r=1
set -- $mode '' ''
[ "$2" = msix ] && [ "$1" -ge 2 ] 2>/dev/null && r=0
check "its vectors are MSI-X, one per queue, at least admin and one I/O queue ($mode)" [ $r = 0 ]
r=1
for q in $irqs; do
	case $q in nvme0q[1-9]*=*) [ "${q#*=}" -gt 0 ] && r=0 ;; esac
done
check "the I/O queues' completions arrived as interrupts ($irqs)" [ $r = 0 ]
reqs=$(val NVME REQS)
set -- $(sed -n 's/.*nvme: \([0-9]*\) BAR accesses trapped: \([0-9]*\) to the MSI-X table and PBA, \([0-9]*\) to I\/O BARs and the ROM, \([0-9]*\) to pages meant to be mapped.*/\1 \2 \3 \4/p' \
	"$OUT/nvme.err") '' '' '' ''
note "$reqs requests completed; vmm trapped ${1:-?} BAR accesses: ${2:-?} MSI-X table and PBA, ${3:-?} I/O BARs and ROM, ${4:-?} elsewhere"
r=1
[ -n "$4" ] && [ "$4" = 0 ] && [ "${reqs:-0}" -gt 0 ] && r=0
check "the doorbells went to the device: no trapped access outside the MSI-X pages, I/O BARs and ROM (${4:-no count})" [ $r = 0 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail 25
cp "$OUT/report.txt" "$OUT/report-1.txt"

# A guest reset: vmm builds the machine again, resets the controller and
# sets it up again; the guest's second boot drives it as the first did.
sed -e 's/l2test=nvme$/l2test=nvmereboot/' -e 's/^on-reboot = poweroff/on-reboot = reset/' \
	"$SCRATCH/vfio-nvme.ini" >"$SCRATCH/vfio-nvme-reset.ini"
cp "$SCRATCH/vfio-nvme-reset.ini" "$OUT/"
VM_TIMEOUT=220 vm_run nvme-reset "$SCRATCH_HOST/vfio-nvme-reset.ini"
vm_report
r=1
[ "$VM_RC" = 0 ] && [ "$(vm_count 'VMMTEST INIT')" = 2 ] && grep -q '^VMMTEST NVME REBOOTING$' "$OUT/report.txt" &&
	grep -q '^VMMTEST NVME SECONDBOOT$' "$OUT/report.txt" && r=0
check "the guest reboots with on-reboot = reset, finds its mark on the disk and powers off (exit $VM_RC, init $(vm_count 'VMMTEST INIT') times)" [ $r = 0 ]
n=$(grep -c 'nvme: host .* at ' "$OUT/nvme-reset.err")
resets=$(grep -c 'nvme: device reset$' "$OUT/nvme-reset.err")
check "each machine set the controller up and reset it ($n set-ups, $resets resets)" [ "$n $resets" = "2 2" ]
r=1
[ "$(val NVME IN)" = "$want" ] && [ -n "$(val NVME WANT)" ] && [ "$(val NVME WANT)" = "$(val NVME GOT)" ] && r=0
check "after the reset the guest's nvme driver reads and writes it intact again" [ $r = 0 ]
[ $r = 0 ] && [ "$VM_RC" = 0 ] || vm_tail 25
exit 0
