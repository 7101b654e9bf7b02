# layout-bridges: like layout, on a PCI tree with PCIe root ports and
# PCI-PCI bridges (one behind another). After the
# run, tests/lab/run compares the report with pci-topo's plan of the same
# machine (tests/lab/compare-guest).
# timeout: 150
. "$LAB_DIR/scenarios/lib.sh"
m=$(basename "$0" .sh)
VM_TIMEOUT=140 vm_run "$m" "$m"
vm_report
# A complete report is compared with the machine's plan (by run, on the host).
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && echo "$m" >"$OUT/compare"
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's report is complete (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
n=$(section pci | awk 'NF == 4 && length($2) == 6' | wc -l) # not the resource lines
check "the guest sees PCI functions ($n)" [ "$n" -gt 0 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" || vm_tail
