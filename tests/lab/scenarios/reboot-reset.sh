# reboot-reset: the guest reboots on a machine with on-reboot = reset: vmm
# boots it again in place. The guest would reboot for ever, so after its second
# init the test ends vmm with SIGTERM, which must end vmm promptly and in
# order: vmm (run with -v) says it stopped the guest on the signal, and exits
# 128 + 15 as vmm(1) documents.
# timeout: 180
. "$LAB_DIR/scenarios/lib.sh"
VM_TIMEOUT=170 vm_cmd reset /dev/null $VMM -v -c "$MACHINES/reboot-reset.ini"
vm_wait 'VMMTEST INIT' 2 150
booted=$?
[ $booted = 0 ] && note "second guest init after ${VM_SEEN}s"
vm_report
check "the guest rebooted (VMMTEST REBOOTING)" grep -q '^VMMTEST REBOOTING$' "$OUT/report.txt"
check "the guest boots again after its reboot (second VMMTEST INIT)" [ $booted = 0 ]
if vm_alive; then
	vm_stop 15 TERM
	stopped=$?
	check "vmm ends within 15 s of SIGTERM" [ $stopped = 0 ]
	check "vmm stops the guest on SIGTERM and exits 128 + 15 (got $VM_RC)" \
		[ "$VM_RC" = 143 ]
	check "vmm reports an orderly stop on the signal" \
		grep -q "guest stopped by a signal" "$VM_ERR"
	echo "$VM_RC" >"$OUT/sigterm-status"
else
	vm_end
	not_ok "vmm keeps running the rebooted guest (it exited with status $VM_RC)"
fi
vm_report
[ $booted = 0 ] || vm_tail
