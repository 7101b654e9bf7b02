# reboot-poweroff: the guest reboots by a triple fault (reboot=t) on a
# machine with on-reboot = poweroff: vmm says so without -v, ends with exit
# status 1 and does not boot the guest again.
# timeout: 120
. "$LAB_DIR/scenarios/lib.sh"
# shellcheck disable=SC2086 # $VMM is a word list
VM_TIMEOUT=100 vm_cmd reboot /dev/null $VMM -c "$MACHINES/reboot-poweroff.ini"
vm_end
vm_report
check "the guest rebooted (VMMTEST REBOOTING)" grep -q '^VMMTEST REBOOTING$' "$OUT/report.txt"
check "vmm exits 1 on a guest reboot with on-reboot = poweroff (got $VM_RC)" [ "$VM_RC" = 1 ]
n=$(grep -c '^VMMTEST INIT$' "$OUT/report.txt")
check "the guest booted once, not again (init ran $n times)" [ "$n" = 1 ]
[ "$VMM_IMPL" != vmm ] ||
	check "vmm says a vCPU triple-faulted, without -v" grep -q 'vCPU 0: triple fault' "$OUT/reboot.err"
[ "$VM_RC" = 1 ] || vm_tail
