# vfio-group: two functions of one IOMMU group pass through together. L1's
# multifunction edu (00:12.0 and 00:12.1, no ACS between them) is one group.
# While one function is bound to a host driver (uio_pci_generic), vmm refuses
# the other, naming the function, its driver and the fix; once both are on
# vfio-pci, both go to one guest slot as functions 0 and 1, where pci-topo
# plans them, and both answer (the first runs the whole edu test: BAR
# registers, DMA, INTx and MSI).
# timeout: 300
. "$LAB_DIR/scenarios/lib.sh"

# The first IOMMU group holding two edus and nothing else.
ga='' gb='' grp=''
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor") $(cat "$d/device")" = "0x1234 0x11e8" ] || continue
	g=$(basename "$(readlink "$d/iommu_group")")
	set -- /sys/kernel/iommu_groups/"$g"/devices/*
	[ $# = 2 ] || continue
	a=${1##*/} b=${2##*/}
	[ "$(cat "$1/device") $(cat "$2/device")" = "0x11e8 0x11e8" ] || continue
	ga=$a gb=$b grp=$g
	break
done
if [ -z "$grp" ]; then
	ok "two edus in one IOMMU group # SKIP none on this host (tests/lab/run gives L1 a multifunction edu)"
	exit 0
fi
note "IOMMU group $grp: $ga and $gb"

machine() {
	sed -e "s|@GA@|$ga|" -e "s|@GB@|$gb|" "$LAB_VIEW/machines/vfio-group.ini" >"$SCRATCH/$1.ini"
	[ "$1" = vfio-group ] || sed -i '/^\[device "gb"\]/,$d' "$SCRATCH/$1.ini"
	cp "$SCRATCH/$1.ini" "$OUT/"
	echo "$SCRATCH_HOST/$1.ini"
}
both=$(machine vfio-group)
alone=$(machine vfio-group-alone)
drv() { pci_driver "$1"; }

vfio_bind "$ga"
modprobe uio_pci_generic 2>/dev/null
# gb to a host driver, as a function that a host driver still has would be.
echo uio_pci_generic >"/sys/bus/pci/devices/$gb/driver_override"
[ -z "$(drv "$gb")" ] || echo "$gb" >"/sys/bus/pci/devices/$gb/driver/unbind"
echo "$gb" >/sys/bus/pci/drivers_probe
check "$ga is on vfio-pci and $gb on uio_pci_generic ($(drv "$ga"), $(drv "$gb"))" \
	[ "$(drv "$ga") $(drv "$gb")" = "vfio-pci uio_pci_generic" ]

vm_run refused "$alone"
check "vmm refuses $ga while $gb of its group has a host driver: exit 2 (got $VM_RC)" [ "$VM_RC" = 2 ]
check "the message names the group, the other function, its driver and vfio-bind" \
	grep -q "host = $ga: IOMMU group $grp also holds $gb (bound to uio_pci_generic); fix: .*vfio-bind $gb" \
	"$OUT/refused.err"
sed 's/^/#   /' "$OUT/refused.err" | head -3

vfio_bind "$gb"
check "tools/vfio-bind moves $gb to vfio-pci ($(drv "$gb"))" [ "$(drv "$gb")" = vfio-pci ]

# Where the plan puts them: BDF and BAR0 of each.
$PCI_TOPO --json -c "$both" >"$OUT/vfio-group.json" 2>"$OUT/pci-topo.err"
plan=$(plan_bar0 "$OUT/vfio-group.json" ga gb | tr '\n' ' ')
note "plan: $plan"

VM_TIMEOUT=180 vm_run group "$both"
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
# /dev/vfio/GROUP opens once: both on it means one group, one container.
check "vmm set up both functions of the group, at 00:06.0 and 00:06.1" \
	[ "$(grep -c 'g[ab]: host .* at 00:06\.[01]' "$OUT/group.err")" = 2 ]
seen=$(sed -n 's/^VMMTEST EDU ALL //p' "$OUT/report.txt" | tr '\n' ' ')
note "guest: $seen"
r=1
set -- $plan '' '' '' ''
p1="$1 $2" p2="$3 $4"
set -- $seen '' '' '' '' '' ''
[ -n "$6" ] && [ -n "${p2% *}" ] && [ "$1 $(($2))" = "${p1% *} $((${p1#* }))" ] &&
	[ "$3" = 0x010000ed ] && [ "$4 $(($5))" = "${p2% *} $((${p2#* }))" ] &&
	[ "$6" = 0x010000ed ] && r=0
check "the guest finds both functions in one slot where planned, and both answer" [ $r = 0 ]
check "function 0 computes a factorial (got $(val EDU FACT))" [ "$(val EDU FACT)" = 120 ]
dma=$(val EDU DMA)
r=1
[ -n "$dma" ] && [ "${dma%% =>*}" = "${dma#*=> }" ] && r=0
check "function 0's DMA round trip through the group's IOMMU domain" [ $r = 0 ]
check "function 0's MSI reaches the guest ($(sed -n 's/^VMMTEST EDU MSI RAISE //p' "$OUT/report.txt"))" \
	grep -q '^VMMTEST EDU MSI RAISE ok status 0x5a$' "$OUT/report.txt"
[ "$VM_RC" = 0 ] && grep -q '^VMMTEST DONE$' "$OUT/report.txt" || vm_tail
exit 0
