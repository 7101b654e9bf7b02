# bench-blk: figures, not verdicts. blkbench (tests/lab/blkbench.c) in the
# guest on a virtio-blk disk backed by the same raw image (BENCH_BLK_MB MiB,
# default 256, in the scratch tmpfs): sequential 1 MiB O_DIRECT write and read
# MB/s, 4 KiB random read IOPS at queue depth 1 and with 4 threads, each for
# BENCH_BLK_SECS (default 10), under vmm and under QEMU -M q35 -device
# virtio-blk-pci (both on KVM, cache writeback), and the ratios vmm/QEMU.
# vmm's exit counters are printed too, and per 1000 requests: the bench
# boot's counters less those of a boot that does not run the bench.
# on-demand: tests/lab/bench-blk or tests/lab/run bench-blk; not in CI's run.
# timeout: 900
. "$LAB_DIR/scenarios/lib.sh"
secs=${BENCH_BLK_SECS:-10} mb=${BENCH_BLK_MB:-256}
note "figure: bench-blk in $([ -n "$HOSTRUN" ] && echo "L1 (nested KVM under TCG)" || echo "this host's KVM"), ${secs}s a test, ${mb} MiB image"
dd if=/dev/zero of="$SCRATCH/bench.img" bs=1048576 count="$mb" 2>/dev/null

# mk SECS: the machine file with the bench's length (0: no bench); QEMU
# boots the same command line.
mk() {
	sed -e "s|@SCRATCH@|$SCRATCH_HOST|g" -e "s|@SECS@|$1|g" \
		"$LAB_VIEW/machines/bench-blk.ini" >"$SCRATCH/bench-blk-$1.ini"
	echo "$SCRATCH_HOST/bench-blk-$1.ini"
}
cmdline() {
	awk '/^cmdline[ \t]*=/ { sub(/^cmdline[ \t]*=[ \t]*/, ""); c = $0; on = 1; next }
		on && /^[ \t]/ { sub(/^[ \t]+/, ""); c = c " " $0; next }
		{ on = 0 } END { print c }' "$SCRATCH/bench-blk-$secs.ini"
}
base=$(mk 0)
m=$(mk "$secs")

# run NAME: wait for the guest's end; its bench lines go to $OUT/NAME.bench.
run() {
	vm_wait 'VMMTEST DONE' 1 $((secs * 4 + 150)) || note "$1: no VMMTEST DONE"
	vm_wait_exit 30 || true
	tr -d '\r' <"$VM_LOG" | sed -n 's/^VMMTEST BENCH //p' >"$OUT/$1.bench"
	if grep -q 'VMMTEST BENCH FAILED\|VMMTEST BLK NODEV' "$VM_LOG" ||
		! grep -q 'VMMTEST DONE' "$VM_LOG" || [ "$VM_RC" != 0 ]; then
		note "$1: the bench failed"
		vm_tail
	fi
}
# exits FILE: the exit counters vmm -v printed, summed over the vCPUs.
exits() {
	awk '/vCPU [0-9]+: [0-9]+ port I\/O exits/ {
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) == "port") io += $i
			if ($(i + 1) == "MMIO") mmio += $i
			if ($(i + 1) == "other") other += $i
		}
		n++
	} END { if (n) printf "%d %d %d\n", io, mmio, other }' "$1"
}

$QEMU --version >/dev/null 2>&1
VM_TIMEOUT=200 vm_start vmm-base "$base"
run vmm-base
VM_TIMEOUT=$((secs * 4 + 200)) vm_start vmm "$m"
run vmm
sed -n 's/^\(vmm: \)\{0,1\}\(.*interrupts sent.*\)/# vmm -v: \2/p' "$OUT/vmm.err"
# shellcheck disable=SC2086 # $QEMU is a word list
VM_TIMEOUT=$((secs * 4 + 200)) vm_cmd qemu /dev/null $QEMU -enable-kvm -cpu host -M q35 \
	-smp 1 -m 256 -nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial stdio -kernel "$LAB_WORK/vmlinuz" -initrd "$LAB_WORK/initramfs-l2.cpio.gz" \
	-append "$(cmdline)" \
	-drive "if=none,id=d0,format=raw,cache=writeback,file=$SCRATCH_HOST/bench.img" \
	-device virtio-blk-pci,drive=d0
run qemu

# Lines of NAME.bench: TEST MB/S IOPS REQUESTS SECONDS.
fig() { awk -v t="$2" -v f="$3" '$1 == t { print $f }' "$OUT/$1.bench"; }
# shellcheck disable=SC2046 # three numbers
set -- $(exits "$OUT/vmm.err")
io=${1:-} mmio=${2:-} other=${3:-}
# shellcheck disable=SC2046
set -- $(exits "$OUT/vmm-base.err")
bio=${1:-0} bmmio=${2:-0} bother=${3:-0}
[ -n "$io" ] && note "figure: vmm exits, bench boot: $io port I/O, $mmio MMIO, $other other; boot alone: $bio, $bmmio, $bother"
reqs=$(awk '{ n += $4 } END { print n + 0 }' "$OUT/vmm.bench")
for t in $(awk '{ print $1 }' "$OUT/vmm.bench" "$OUT/qemu.bench" | awk '!s[$0]++'); do
	v=$(fig vmm "$t" 2) q=$(fig qemu "$t" 2) vi=$(fig vmm "$t" 3) qi=$(fig qemu "$t" 3)
	note "figure: $t: vmm $v MB/s $vi IOPS, QEMU $q MB/s $qi IOPS, vmm/QEMU $(awk -v a="$vi" -v b="$qi" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "?" }')"
done
if [ -n "$io" ] && [ "$reqs" -gt 0 ]; then
	note "figure: vmm exits per 1000 requests ($reqs requests, less the boot): $(awk -v r="$reqs" \
		-v a="$io" -v b="$bio" -v c="$mmio" -v d="$bmmio" -v e="$other" -v f="$bother" \
		'BEGIN { printf "%.0f port I/O, %.0f MMIO, %.0f other", (a - b) * 1000 / r, (c - d) * 1000 / r, (e - f) * 1000 / r }')"
fi
exit 0
