# bench-dma: figures, not verdicts. How long each VMM takes to map guest RAM
# for a passed-through device's DMA (VFIO_IOMMU_MAP_DMA pins every page and
# maps it in the IOMMU), per GiB: vmm and QEMU with the same edu and the same
# RAM (BENCH_DMA_MB, 1024 by default), BENCH_RUNS times each, alternating
# after one uncounted start, in the same L1. Both are measured the same way,
# by strace -T on the ioctls of their main thread (where both map); vmm's
# own -v line is shown beside it.
# Each VMM is stopped once it has mapped: the guest's boot is not measured.
# timeout: 420
. "$LAB_DIR/scenarios/lib.sh"
runs=${BENCH_RUNS:-3}
mb=${BENCH_DMA_MB:-1024}

set -- $(pci_devs 0x1234 0x11e8)
edu=${1:-}
if [ -z "$edu" ]; then
	ok "an edu device to map DMA for # SKIP none on this host (tests/lab/run gives L1 one)"
	exit 0
fi
vfio_bind "$edu"
drv=$(pci_driver "$edu")
check "edu ($edu) is bound to vfio-pci (driver: ${drv:-none})" [ "$drv" = vfio-pci ]
[ "$drv" = vfio-pci ] || exit 0
if ! $HOSTRUN strace -V >/dev/null 2>&1; then
	ok "strace to time the ioctls # SKIP strace is not installed (tests/lab/setup installs it)"
	exit 0
fi

sed -e "s|@EDU@|$edu|" -e "s|@LOOP@|0|" -e "s|^memory .*|memory = ${mb}M|" \
	-e 's|l2test=edu|l2test=poweroff|' "$LAB_VIEW/machines/vfio-edu.ini" >"$SCRATCH/bench-dma.ini"
cp "$SCRATCH/bench-dma.ini" "$OUT/"
echo quit >"$SCRATCH/quit"
vmm_bin=${VMM##* }
trace="$HOSTRUN strace -T -qq -e trace=ioctl -e signal=none"

# map_ms FILE: the milliseconds an strace log spent in VFIO_IOMMU_MAP_DMA, and how many.
map_ms() {
	awk '/VFIO_IOMMU_MAP_DMA|_IOC\(_IOC_NONE, 0x3b, 0x71, 0\)/ && /<[0-9.]+>$/ {
		t = $NF; gsub(/[<>]/, "", t); s += t; n++ }
		END { if (n) printf "%.1f %d", s * 1000, n; else print "- 0" }' "$1"
}
grp=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
# Until no process has the group open: a stopped VMM unpins its RAM as it
# exits, after its parent has gone, and the next start would find it busy.
group_free() {
	i=0
	while ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -q "vfio/$grp\$" && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# run IMPL N: one VMM start, stopped once it has mapped; "IMPL MS COUNT" to times.
run() {
	group_free
	f=$1-$2.strace
	if [ "$1" = vmm ]; then
		[ "$VMM_IMPL" = vmm ] || return 0
		VM_TIMEOUT=120 vm_cmd "$1-$2" /dev/null $trace -o "$SCRATCH_HOST/$f" \
			"$vmm_bin" -v -c "$SCRATCH_HOST/bench-dma.ini"
		end=$(($(date +%s) + 100))
		until grep -q 'mapped for DMA' "$VM_ERR" 2>/dev/null || ! vm_alive ||
			[ "$(date +%s)" -ge "$end" ]; do sleep 0.2; done
		own=$(sed -n 's/.*vfio: \(.*\) mapped for DMA in \([0-9]*\) ms.*/\1 in \2 ms/p' "$VM_ERR")
		vm_stop 20 >/dev/null
	else
		# -S: QEMU maps guest RAM when the device is realised, before the
		# monitor reads "quit" from its standard input.
		VM_TIMEOUT=120 vm_cmd "$1-$2" "$SCRATCH/quit" $trace -o "$SCRATCH_HOST/$f" \
			qemu-system-x86_64 -enable-kvm -M q35 -cpu host -m "$mb" -nodefaults \
			-no-user-config -display none -serial none -monitor stdio -S \
			-device "vfio-pci,host=$edu"
		vm_wait_exit 100 >/dev/null
		own=''
	fi
	cp "$SCRATCH/$f" "$OUT/" 2>/dev/null
	set -- "$1" $(map_ms "$SCRATCH/$f")
	echo "$1 $2 $3" >>"$OUT/times"
	note "$1 run $run: ${3:-0} MAP_DMA ioctls, ${2} ms${own:+ (vmm -v: $own)}"
}
# A first start pays for L1's own first touch of the memory (its pages
# come from L0 then): one of vmm, not counted, before the alternation.
: >"$OUT/times"
run=0
run vmm 0
: >"$OUT/times"
run=1
while [ $run -le "$runs" ]; do
	run vmm $run
	run qemu $run
	run=$((run + 1))
done

median() {
	awk -v i="$1" '$1 == i && $2 != "-" { print $2 }' "$OUT/times" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mv=$(median vmm) mq=$(median qemu)
per_gib() { awk -v t="$1" -v m="$mb" 'BEGIN { printf "%.1f", t * 1024 / m }'; }
check "vmm's mapping was measured (${mv:-none})" [ -n "$mv" ]
check "QEMU's mapping was measured (${mq:-none})" [ -n "$mq" ]
[ -n "$mv" ] && note "figure: vmm maps $mb MiB for DMA in $mv ms (median): $(per_gib "$mv") ms per GiB"
[ -n "$mq" ] && note "figure: QEMU maps $mb MiB for DMA in $mq ms (median): $(per_gib "$mq") ms per GiB"
[ -n "$mv" ] && [ -n "$mq" ] &&
	note "figure: DMA map time vmm/QEMU ratio $(awk -v a="$mv" -v b="$mq" 'BEGIN { printf "%.2f", a / b }')"
exit 0
