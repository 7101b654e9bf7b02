# bench-boot: figures, not verdicts. Seconds from launch to the guest's first
# line (VMMTEST INIT), all on KVM with the in-kernel irqchip and the same
# bzImage, initramfs and command line, for:
#   vmm          vmm unpacking the kernel, its kernel cache warm (the usual case
#                once a kernel has been booted)
#   vmm-cold     the same with the cache emptied first: vmm decompresses the
#                kernel, then boots it (and fills the cache)
#   vmm-guest    vmm with kernel-decompress = guest: the bzImage's own
#                decompressor runs in the guest, as under QEMU
#   microvm      QEMU -M microvm
#   q35          QEMU -M q35
# BENCH_RUNS boots each (median), fewer when a round would take the bench past
# BENCH_BUDGET seconds. Its 15 boots are the lab's longest series, and an L1
# sometimes dies under TCG's emulated SVM (mostly in QEMU's boots): what it
# measured is kept beside $OUT, and the next L1 goes on from there.
# resumable
# timeout: 600
. "$LAB_DIR/scenarios/lib.sh"
runs=${BENCH_RUNS:-3}
budget=${BENCH_BUDGET:-360}
t0=$(now)
cache=$SCRATCH/kernel-cache
cache_host=$SCRATCH_HOST/kernel-cache
impls="vmm-cold vmm vmm-guest microvm q35"
note "figure: bench-boot in $([ -n "$HOSTRUN" ] && echo "L1 (nested KVM under TCG)" || echo "this host's KVM"), $runs runs each"
# Load each program once, so that no timed run pays for a cold cache.
$QEMU --version >/dev/null 2>&1
$VMM --version >/dev/null 2>&1

# done_runs IMPL: how many boots of IMPL are recorded.
done_runs() { grep -c "^$1 " "$OUT/times" 2>/dev/null || true; }
# prime: a boot that fills the kernel cache, not timed (after a resume, whose
# fresh L1 has an empty one).
prime() {
	ls "$cache"/*.vmlinux >/dev/null 2>&1 && return 0
	note "figure: the kernel cache is empty (a new L1): an untimed boot fills it"
	# shellcheck disable=SC2086 # $VMM is a word list
	VM_TIMEOUT=90 vm_cmd "prime" /dev/null $VMM -v --kernel-cache="$cache_host" \
		-c "$MACHINES/bench.ini"
	vm_wait 'VMMTEST INIT' 1 80 || true
	vm_wait_exit 30 || true
}

# boot IMPL RUN: one boot; appends "IMPL SECONDS" (or "IMPL -") to $OUT/times
# and to $partial.
boot() {
	[ "$1" = vmm ] && prime
	# shellcheck disable=SC2086 # $VMM is a word list
	case $1 in
	vmm-cold)
		rm -rf "$cache"
		VM_TIMEOUT=90 vm_cmd "$1-$2" /dev/null $VMM -v --kernel-cache="$cache_host" \
			-c "$MACHINES/bench.ini" ;;
	vmm)
		VM_TIMEOUT=90 vm_cmd "$1-$2" /dev/null $VMM -v --kernel-cache="$cache_host" \
			-c "$MACHINES/bench.ini" ;;
	vmm-guest)
		VM_TIMEOUT=90 vm_cmd "$1-$2" /dev/null $VMM -v -c "$MACHINES/bench-guest.ini" ;;
	microvm)
		# The in-kernel irqchip, as vmm has. microvm's default (split
		# irqchip, second IOAPIC) panicked L1 ("corrupted stack end
		# detected inside scheduler") in 4 of about 12 nested boots.
		bench_qemu "$1-$2" microvm,ioapic2=off,kernel-irqchip=on ;;
	*) bench_qemu "$1-$2" "$1" ;;
	esac
	if vm_wait 'VMMTEST INIT' 1 80; then
		echo "$1 $VM_SEEN" | tee -a "$partial" >>"$OUT/times"
		vm_wait_exit 30 || true
		note "$1 run $2: init after ${VM_SEEN}s, exit status $VM_RC"
	else
		echo "$1 -" | tee -a "$partial" >>"$OUT/times"
		vm_wait_exit 5 || true
		note "$1 run $2: no VMMTEST INIT (exit status $VM_RC); $(tr -d '\r' <"$OUT/$VM_NAME.err" | tail -1)"
	fi
	case $1 in
	vmm*) grep -h 'kernel:' "$OUT/$VM_NAME.err" | sed 's/^/#   /' ;;
	esac
}
# Kept beside $OUT: run clears $OUT when an L1 dies, and the whole out/ at
# its start.
partial=$OUT.partial
: >"$OUT/times"
if [ -s "$partial" ]; then
	cp "$partial" "$OUT/times"
	note "figure: an L1 stopped during the bench; going on after its $(wc -l <"$partial") boots"
fi
i=1
while [ $i -le "$runs" ]; do
	for impl in $impls; do
		[ "$(done_runs "$impl")" -ge $i ] || boot "$impl" $i
	done
	# Another round, at the mean round's length, must fit in the budget.
	if [ $i -lt "$runs" ] && [ "$(awk -v t="$(since "$t0")" -v i=$i -v b="$budget" \
		'BEGIN { print (t + t / i > b) }')" = 1 ]; then
		note "figure: bench-boot stops after $i of $runs rounds (BENCH_BUDGET=${budget}s)"
		break
	fi
	i=$((i + 1))
done

median() {
	awk -v i="$1" '$1 == i && $2 != "-" { print $2 }' "$OUT/times" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for impl in $impls; do
	m=$(median "$impl")
	eval "med_$(echo "$impl" | tr - _)=\${m:-none}"
	note "figure: $impl: launch to guest init, median ${m:-none (never reached)} s ($(awk -v i="$impl" '$1 == i { printf "%s ", $2 }' "$OUT/times"))"
done
# ratio NAME A B: A / B as a figure, when both were measured.
ratio() {
	[ "$2" != none ] && [ "$3" != none ] &&
		note "figure: $1 ratio $(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')"
	return 0
}
# shellcheck disable=SC2154 # med_*: set by the eval above
{
	ratio vmm/microvm "$med_vmm" "$med_microvm"
	ratio vmm-cold/microvm "$med_vmm_cold" "$med_microvm"
	ratio vmm-guest/microvm "$med_vmm_guest" "$med_microvm"
	ratio vmm/q35 "$med_vmm" "$med_q35"
}
rm -f "$partial"
exit 0
