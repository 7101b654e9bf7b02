# soak-boot: not part of the default run. Boots guests back to back, vmm and
# QEMU -M microvm in turn, for BENCH_BUDGET seconds, and records each boot in
# $OUT.partial as it ends: the tool for measuring how often the nested
# environment itself (L1 under TCG) dies, with L1_BOOTS=1:
#   BENCH_BUDGET=480 L1_BOOTS=1 tests/lab/run soak-boot
# Its one check says only whether every boot reached init and exited 0; the
# logs of those that did not are kept in $OUT.
# on-demand
# timeout: 900
. "$LAB_DIR/scenarios/lib.sh"
budget=${BENCH_BUDGET:-360}
t0=$(now)
cache_host=$SCRATCH_HOST/kernel-cache
log=$OUT.partial
: >"$log"
n=0 good=0
while [ "$(awk -v t="$(since "$t0")" -v b="$budget" 'BEGIN { print (t < b) }')" = 1 ]; do
	n=$((n + 1))
	if [ $((n % 2)) = 1 ]; then
		impl=vmm
		# shellcheck disable=SC2086 # $VMM is a word list
		VM_TIMEOUT=90 vm_cmd "$impl-$n" /dev/null $VMM -v --kernel-cache="$cache_host" \
			-c "$MACHINES/bench.ini"
	else
		impl=microvm
		bench_qemu "$impl-$n" microvm,ioapic2=off,kernel-irqchip=on
	fi
	seen=-
	vm_wait 'VMMTEST INIT' 1 80 && seen=$VM_SEEN
	vm_wait_exit 30 || true
	# impl, seconds to init (- if never), exit status, seconds into the soak
	echo "$impl $seen $VM_RC $(since "$t0")" >>"$log"
	if [ "$seen" != - ] && [ "$VM_RC" = 0 ]; then
		good=$((good + 1))
		rm -f "$OUT/$VM_NAME".*
	fi
done
note "figure: soak-boot: $good of $n boots reached init and exited 0 in $(since "$t0") s"
check "every boot reached init and exited 0 ($good of $n)" [ "$good" = "$n" ]
