# layout-virtio: like layout-bridges, with virtio devices of each type on the
# root bus, behind root ports and behind bridges: the run compares their BARs
# (and the rest of the report) with pci-topo's plan of the same machine
# (tests/lab/compare-guest). The machine's virtio-net needs the tap vmmtap1.
# timeout: 210
. "$LAB_DIR/scenarios/lib.sh"
m=$(basename "$0" .sh)
tap=vmmtap1
ip link del "$tap" 2>/dev/null
$HOSTRUN ip tuntap add dev "$tap" mode tap >"$OUT/tap.log" 2>&1 ||
	note "ip tuntap add dev $tap: $(tail -1 "$OUT/tap.log")"
VM_TIMEOUT=200 vm_run "$m" "$m"
ip link del "$tap" 2>/dev/null
vm_report
# A complete report is compared with the machine's plan (by run, on the host).
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && echo "$m" >"$OUT/compare"
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's report is complete (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
n=$(section pci | awk 'NF == 4 && length($2) == 6 && $2 == "0x1af4"' | wc -l)
check "the guest sees the 8 virtio functions (got $n)" [ "$n" = 8 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" || vm_tail
exit 0
