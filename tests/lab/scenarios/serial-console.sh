# serial-console: with console = stdio, vmm's stdin reaches the guest's ttyS0
# and its stdout shows what the guest writes. The test types a line into the
# guest's shell, reads the answer, then types poweroff -f: vmm exits 0.
# timeout: 150
. "$LAB_DIR/scenarios/lib.sh"
dir=$(mktemp -d)
fifo=$dir/stdin
mkfifo "$fifo"
exec 3<>"$fifo" # a writer that stays open: vmm never reads end-of-file
VM_TIMEOUT=140 vm_start console serial-console "$fifo"
if vm_wait 'VMMTEST SHELL' 1 120; then
	ok "the guest's shell started (VMMTEST SHELL after ${VM_SEEN}s)"
	sleep 1
	# A line typed before the shell reads the console may be lost: retry.
	for try in 1 2 3; do
		printf 'echo $((6*7))X\n' >&3
		vm_wait '42X' 1 10 && break
	done
	check "a line typed on vmm's stdin is answered on its stdout (42X, try $try)" \
		[ "$(vm_count 42X)" -ge 1 ]
	printf 'poweroff -f\n' >&3
	vm_wait_exit 60
	check "vmm exits 0 after poweroff -f typed in the guest (got $VM_RC)" [ "$VM_RC" = 0 ]
else
	not_ok "the guest's shell started (VMMTEST SHELL)"
	vm_stop 10 TERM
fi
exec 3>&-
rm -rf "$dir"
vm_report
grep -q 42X "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail
