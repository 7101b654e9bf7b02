# boot-1cpu: vmm boots a one-CPU guest that reports what it sees and powers
# off: vmm exits 0, the report is complete and shows one CPU.
# timeout: 150
. "$LAB_DIR/scenarios/lib.sh"
vm_start boot boot-1cpu
vm_wait 'VMMTEST INIT' && note "guest init after ${VM_SEEN}s"
vm_wait 'VMMTEST BEGIN dmesg' && note "report up to dmesg after ${VM_SEEN}s"
vm_wait 'VMMTEST DONE' && note "report done after ${VM_SEEN}s"
vm_end
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's init ran (VMMTEST INIT)" grep -q '^VMMTEST INIT$' "$OUT/report.txt"
check "the guest's report is complete (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
n=$(report_cpus)
check "the guest sees 1 CPU (got $n)" [ "$n" = 1 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" || vm_tail
