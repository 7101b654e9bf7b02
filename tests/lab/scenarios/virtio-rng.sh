# virtio-rng: the guest's hw_random core takes the virtio entropy source
# (rng_current virtio_rng.N), and 64 bytes read from /dev/hwrng are not all
# zero.
# timeout: 120
. "$LAB_DIR/scenarios/lib.sh"
m=$(vm_machine virtio-rng)
VM_TIMEOUT=110 vm_run rng "$m"
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
cur=$(val RNG CURRENT)
case $cur in virtio_rng*) r=0 ;; *) r=1 ;; esac
check "the guest's hw_random uses virtio_rng (rng_current '$cur')" [ $r = 0 ]
bytes=$(val RNG BYTES)
note "64 bytes from /dev/hwrng: $bytes"
check "64 bytes come from /dev/hwrng (${#bytes} hex digits)" [ ${#bytes} = 128 ]
zero=$(echo "$bytes" | tr -d 0)
check "they are not all zero" [ -n "$zero" ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail
exit 0
