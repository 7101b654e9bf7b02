# vfio-edu: L1's QEMU edu device (1234:11e8) passed through to L2. vmm refuses
# it while it is not bound to vfio-pci; bound (tools/vfio-bind), the guest
# finds it where pci-topo planned it, reads and writes its BAR0 registers with
# devmem (identification, liveness, factorial) without exits, moves data
# through its DMA engine, and gets its INTx under uio_pci_generic, twice (the
# second only if KVM released the line at the first EOI and the host unmasked
# it), then MSI under edu_msi, a test driver: a raised interrupt and a DMA
# round trip by the DMA API. A second vmm on the same device while the first runs is refused as
# busy. Two boots, with and without 200 extra BAR reads (the second with L1's
# other edu passed through too), show what those reads cost in MMIO exits.
# Last, a guest that reboots with on-reboot = reset gets the device again in
# its second machine.
# timeout: 420
. "$LAB_DIR/scenarios/lib.sh"
LOOP=200

set -- $(pci_devs 0x1234 0x11e8)
edu=${1:-} edu2=${2:-}
if [ -z "$edu" ]; then
	ok "an edu device to pass through # SKIP none on this host (tests/lab/run gives L1 one)"
	exit 0
fi
note "edu in L1: $edu, IOMMU group $(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")"

# edu_machine LOOP: the machine file for this edu, as vmm sees it.
edu_machine() {
	sed -e "s|@EDU@|$edu|" -e "s|@LOOP@|$1|" "$LAB_VIEW/machines/vfio-edu.ini" \
		>"$SCRATCH/vfio-edu-$1.ini"
	cp "$SCRATCH/vfio-edu-$1.ini" "$OUT/"
	echo "$SCRATCH_HOST/vfio-edu-$1.ini"
}
m0=$(edu_machine 0)
mloop=$(edu_machine $LOOP)
# With a second edu, the loop boot passes both through: two groups, one container.
if [ -n "$edu2" ]; then
	printf '\n[device "edu2"]\ntype = vfio\nhost = %s\n' "$edu2" >>"$SCRATCH/vfio-edu-$LOOP.ini"
	cp "$SCRATCH/vfio-edu-$LOOP.ini" "$OUT/"
fi

# Not bound yet (no driver, or whatever L1 gave it): refused before KVM.
drv=$(pci_driver "$edu")
if [ "$drv" != vfio-pci ]; then
	vm_run unbound "$m0"
	check "vmm refuses edu while it is not bound to vfio-pci: exit 2 (got $VM_RC)" [ "$VM_RC" = 2 ]
	check "the message names the device, its line and vfio-bind" \
		grep -q "host = $edu: not bound to vfio-pci.*vfio-bind $edu" "$OUT/unbound.err"
	sed 's/^/#   /' "$OUT/unbound.err" | head -3
fi

vfio_bind "$edu" $edu2
drv=$(pci_driver "$edu")
check "tools/vfio-bind binds edu to vfio-pci (driver: ${drv:-none})" [ "$drv" = vfio-pci ]
[ "$drv" = vfio-pci ] || { sed 's/^/#   /' "$OUT/vfio-bind.log"; exit 0; }

# Where the plan puts it: pci-topo --json of the same machine file.
$PCI_TOPO --json -c "$m0" >"$OUT/vfio-edu.json" 2>"$OUT/pci-topo.err"
plan=$(plan_bar0 "$OUT/vfio-edu.json" edu)
plan_bdf=${plan% *} plan_bar=${plan#* }
check "pci-topo plans edu (${plan:-nothing})" [ -n "$plan" ]

VM_TIMEOUT=150 vm_start edu "$m0"
e_pid=$VM_PID e_log=$VM_LOG e_err=$VM_ERR e_t0=$VM_T0
if vm_wait "VMMTEST INIT" 1 120; then
	# The first vmm has the group: a second one is refused, and says why.
	vm_cmd busy "" $VMM -c "$m0"
	wait "$VM_PID"
	busy_rc=$?
	cp "$VM_ERR" "$OUT/busy.err"
	check "a second vmm on the same edu exits 2 (got $busy_rc)" [ "$busy_rc" = 2 ]
	check "it says the device is busy, and how to find who has it" \
		grep -q "$edu: the device is busy.*fuser" "$OUT/busy.err"
	sed 's/^/#   /' "$OUT/busy.err" | head -3
fi
# vm_cmd above replaced VM_*: back to the first vmm.
VM_NAME=edu VM_PID=$e_pid VM_LOG=$e_log VM_ERR=$e_err VM_T0=$e_t0
# L1's count of edu's interrupts, while vmm still has them.
vm_wait "VMMTEST EDU IRQ 2" 1 120 && grep -i vfio /proc/interrupts | sed 's/^/# L1 during: /'
vm_wait_exit 140
vm_report
grep 'EDU CMDSTAT' "$OUT/report.txt" | sed 's/^/# /'
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
cp "$OUT/report.txt" "$OUT/report-0.txt"
gbdf=$(val EDU BDF) gbar=$(val EDU BAR0)
check "the guest finds edu at the planned address ($gbdf, plan $plan_bdf)" [ "$gbdf" = "$plan_bdf" ]
r=1
[ -n "$gbar" ] && [ -n "$plan_bar" ] && [ $((gbar)) = $((plan_bar)) ] && r=0
check "its BAR0 is where the plan put it ($gbar, plan $plan_bar)" [ $r = 0 ]
check "identification register reads 0x010000ed (got $(val EDU ID))" [ "$(val EDU ID)" = 0x010000ed ]
check "liveness: 0x12345678 written reads back inverted (got $(val EDU LIVE))" \
	[ "$(val EDU LIVE)" = 0xedcba987 ]
check "factorial of 5 computed by the device: 120 (got $(val EDU FACT))" [ "$(val EDU FACT)" = 120 ]
dma=$(val EDU DMA)
want=${dma%% =>*} got=${dma#*=> }
note "DMA: $dma"
r=1
[ -n "$want" ] && [ "$want" = "$got" ] && r=0
check "DMA: RAM to edu's buffer and back gives the same 16 bytes" [ $r = 0 ]
irq1=$(sed -n 's/^VMMTEST EDU IRQ 1 //p' "$OUT/report.txt")
irq2=$(sed -n 's/^VMMTEST EDU IRQ 2 //p' "$OUT/report.txt")
note "INTx (before, after, uio read): 1: $irq1; 2: $irq2; line $(val EDU IRQLINE)"
set -- $irq1 '' '' ''
r=1
[ -n "$2" ] && [ "$2" -gt "$1" ] && [ "${3#uio=}" -ge 1 ] 2>/dev/null && r=0
check "INTx: the first interrupt reaches uio_pci_generic (count $1 -> $2, read ${3#uio=})" [ $r = 0 ]
set -- $irq2 '' '' ''
r=1
[ -n "$2" ] && [ "$2" -gt $(($1 + 1)) ] && [ "${3#uio=}" -ge 2 ] 2>/dev/null && r=0
check "INTx: a second one after ack and unmask: the line was released at EOI (count $1 -> $2, read ${3#uio=})" [ $r = 0 ]
# MSI, under the guest's edu_msi driver (tests/lab/edu_msi): an interrupt
# edu raises, then one at the end of each DMA of a round trip.
msi() { sed -n "s/^VMMTEST EDU MSI $1 //p" "$OUT/report.txt" | head -1; }
note "MSI: vector $(msi VECTOR); $(val EDU MSIIRQ); mode $(val EDU MSIMODE)"
check "edu_msi enables MSI on edu in the guest (vector: $(msi VECTOR))" \
	eval 'msi VECTOR | grep -q "^irq [0-9]"'
check "an MSI that edu raises reaches the guest's handler ($(msi RAISE))" [ "$(msi RAISE)" = "ok status 0x5a" ]
check "a DMA round trip by the DMA API, each transfer ending in an MSI ($(msi DMA))" \
	eval 'msi DMA | grep -q "^ok 256 bytes at .*, completion status 0x100 0x100$"'
r=1
set -- $(val EDU MSIIRQ) '' '' ''
[ "$2" = 3 ] && [ "$3" = PCI-MSI ] && [ "$(val EDU MSIMODE)" = "msi" ] && r=0
check "they are 3 MSIs on one vector in /proc/interrupts, its mode msi (${2:-?} ${3:-?}, $(val EDU MSIMODE))" [ $r = 0 ]
traps0=$(sed -n 's/.*edu: \([0-9]*\) BAR accesses trapped.*/\1/p' "$OUT/edu.err")
mmio0=$(sed -n 's/.*vCPU 0: [0-9]* port I\/O exits, \([0-9]*\) MMIO exits.*/\1/p' "$OUT/edu.err")
check "vmm trapped no access to edu's BAR (got ${traps0:-no count})" [ "${traps0:-x}" = 0 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail

# The same with $LOOP more BAR reads: they must not show up as MMIO exits.
VM_TIMEOUT=150 vm_run edu-loop "$mloop"
vm_report
cp "$OUT/report.txt" "$OUT/report-loop.txt"
if [ -n "$edu2" ]; then
	$PCI_TOPO --json -c "$mloop" >"$OUT/vfio-edu-$LOOP.json" 2>>"$OUT/pci-topo.err"
	plan2=$(plan_bar0 "$OUT/vfio-edu-$LOOP.json" edu edu2 | tr '\n' ' ')
	seen=$(sed -n 's/^VMMTEST EDU ALL //p' "$OUT/report.txt" | tr '\n' ' ')
	note "two edus: plan $plan2; guest $seen"
	r=1
	set -- $plan2 '' '' '' ''
	p1="$1 $2" p2="$3 $4"
	set -- $seen '' '' '' '' '' ''
	[ -n "$6" ] && [ "$1 $(($2))" = "${p1% *} $((${p1#* }))" ] && [ "$3" = 0x010000ed ] &&
		[ "$4 $(($5))" = "${p2% *} $((${p2#* }))" ] && [ "$6" = 0x010000ed ] && r=0
	check "with $edu2 passed through too, the guest finds both edus where planned, both answer" [ $r = 0 ]
fi
set -- $(val EDU LOOP) '' ''
r=1
[ "$1" = $LOOP ] && [ "$2" = 0 ] && r=0
check "the second boot read edu's BAR $LOOP more times, all right (${1:-?} reads, ${2:-?} wrong)" [ $r = 0 ]
mmio1=$(sed -n 's/.*vCPU 0: [0-9]* port I\/O exits, \([0-9]*\) MMIO exits.*/\1/p' "$OUT/edu-loop.err")
note "MMIO exits: $mmio0 without the loop, $mmio1 with $LOOP more reads"
r=1
[ -n "$mmio0" ] && [ -n "$mmio1" ] && [ $((mmio1 - mmio0)) -lt $((LOOP / 4)) ] && r=0
check "those $LOOP reads made fewer than $((LOOP / 4)) MMIO exits ($mmio0 -> $mmio1)" [ $r = 0 ]
traps1=$(sed -n 's/.*edu: \([0-9]*\) BAR accesses trapped.*/\1/p' "$OUT/edu-loop.err")
check "and vmm trapped none of them (got ${traps1:-no count})" [ "${traps1:-x}" = 0 ]
[ "$VM_RC" = 0 ] || vm_tail

# A guest reset is a new machine: the container, the device and its DMA
# mapping again. The guest reboots; its second boot reaches init too.
sed -e 's/l2test=edu/l2test=reboot/' -e 's/^on-reboot = poweroff/on-reboot = reset/' \
	"$SCRATCH/vfio-edu-0.ini" >"$SCRATCH/vfio-edu-reset.ini"
VM_TIMEOUT=150 vm_start edu-reset "$SCRATCH_HOST/vfio-edu-reset.ini"
vm_wait "VMMTEST INIT" 2 140
r=$?
vm_stop 15
check "a guest reset gets a second machine with edu, and it boots (init seen $(vm_count 'VMMTEST INIT') times)" [ $r = 0 ]
n=$(grep -c 'edu: host .* at ' "$OUT/edu-reset.err")
r=1
[ "$n" = 2 ] && ! grep -v 'warning:' "$OUT/edu-reset.err" | grep -qi 'error\|cannot\|failed' && r=0
check "the device was set up once per machine ($n times), with no error" [ $r = 0 ]
[ $r = 0 ] || vm_tail 30
exit 0
