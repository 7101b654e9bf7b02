# boot-4cpu: vmm boots a four-CPU guest that reports its CPUs and powers off:
# vmm exits 0, the report is complete and shows four. The report is only the
# CPU count: serial output is slow with 4 vCPUs nested in a 2-vCPU L1.
# timeout: 150
. "$LAB_DIR/scenarios/lib.sh"
vm_start boot boot-4cpu
vm_wait 'VMMTEST INIT' && note "guest init after ${VM_SEEN}s"
vm_wait 'VMMTEST DONE' && note "report done after ${VM_SEEN}s"
vm_end
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's init ran (VMMTEST INIT)" grep -q '^VMMTEST INIT$' "$OUT/report.txt"
check "the guest's report is complete (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
n=$(report_cpus)
check "the guest sees 4 CPUs (got $n)" [ "$n" = 4 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" || vm_tail
