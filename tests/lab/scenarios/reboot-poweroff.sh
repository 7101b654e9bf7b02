# reboot-poweroff: the guest reboots on a machine with on-reboot = poweroff:
# vmm ends with exit status 1 and does not boot the guest again.
# timeout: 120
. "$LAB_DIR/scenarios/lib.sh"
VM_TIMEOUT=100 vm_run reboot reboot-poweroff
vm_report
check "the guest rebooted (VMMTEST REBOOTING)" grep -q '^VMMTEST REBOOTING$' "$OUT/report.txt"
check "vmm exits 1 on a guest reboot with on-reboot = poweroff (got $VM_RC)" [ "$VM_RC" = 1 ]
n=$(grep -c '^VMMTEST INIT$' "$OUT/report.txt")
check "the guest booted once, not again (init ran $n times)" [ "$n" = 1 ]
[ "$VM_RC" = 1 ] || vm_tail
