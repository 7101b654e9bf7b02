# virtio-console: output, then input. First a virtio console into a file: the
# line the guest writes to /dev/hvc0 is in it. Then a virtio console on vmm's
# stdin and stdout (COM1 into a file): a line typed into the guest's shell on
# hvc0 is answered, and poweroff -f typed there ends vmm with status 0.
# timeout: 240
. "$LAB_DIR/scenarios/lib.sh"
m=$(vm_machine virtio-console-out)
VM_TIMEOUT=110 vm_run out "$m"
vm_report
cp "$SCRATCH/hvc0.out" "$OUT/hvc0.out" 2>/dev/null
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest has /dev/hvc0 and wrote to it" grep -q '^VMMTEST HVC WRITTEN$' "$OUT/report.txt"
check "the virtio console's file has the guest's line" \
	grep -q '^VMMTEST HVC hello from hvc0.\{0,1\}$' "$SCRATCH/hvc0.out"
grep -q '^VMMTEST HVC WRITTEN$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail

fifo=$SCRATCH/stdin
mkfifo "$fifo"
exec 3<>"$fifo" # a writer that stays open: vmm never reads end-of-file
m=$(vm_machine virtio-console-in)
VM_TIMEOUT=120 vm_start in "$m" "$fifo"
if vm_wait 'VMMTEST SHELL' 1 100; then
	ok "the guest's shell on hvc0 started (VMMTEST SHELL on vmm's stdout after ${VM_SEEN}s)"
	sleep 1
	for try in 1 2 3; do
		printf 'echo $((6*7))X\n' >&3
		vm_wait '42X' 1 10 && break
	done
	check "a line typed on vmm's stdin is answered on its stdout by hvc0's shell (42X, try $try)" \
		[ "$(vm_count 42X)" -ge 1 ]
	printf 'poweroff -f\n' >&3
	vm_wait_exit 60
	check "vmm exits 0 after poweroff -f typed on hvc0 (got $VM_RC)" [ "$VM_RC" = 0 ]
else
	not_ok "the guest's shell on hvc0 started (VMMTEST SHELL on vmm's stdout)"
	vm_stop 10 TERM
fi
exec 3>&-
vm_report
cp "$SCRATCH/com1.out" "$OUT/com1.out" 2>/dev/null
check "COM1 (console = file) went to its file (VMMTEST INIT there)" \
	grep -q '^VMMTEST INIT' "$SCRATCH/com1.out"
grep -q '^VMMTEST INIT' "$OUT/report.txt" && note "VMMTEST INIT is on vmm's stdout too"
grep -q 42X "$OUT/report.txt" && [ "$VM_RC" = 0 ] || {
	vm_tail
	note "--- COM1's file"
	tr -d '\r' <"$SCRATCH/com1.out" 2>/dev/null | tail -n 10 | sed 's/^/#   /'
}
exit 0
