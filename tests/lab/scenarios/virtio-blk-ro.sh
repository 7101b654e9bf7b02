# virtio-blk-ro: readonly = true. The guest's /sys/block/vda/ro is 1, a
# read-only mount works and reads the host's file, while writing a file, the
# raw device, and the raw device once the block layer's flag is cleared
# (blockdev --setrw) all fail; the image is the same, byte for byte, after.
# timeout: 150
. "$LAB_DIR/scenarios/lib.sh"
mkdir -p "$SCRATCH/root"
dd if=/dev/urandom of="$SCRATCH/root/in.bin" bs=1024 count=1000 2>/dev/null
in_sum=$(md5 "$SCRATCH/root/in.bin")
img=$SCRATCH_HOST/blk.img
if ! $HOSTRUN mkfs.ext4 -q -F -d "$SCRATCH_HOST/root" "$img" 64M >"$OUT/mkfs.log" 2>&1; then
	not_ok "mkfs.ext4 makes the image ($(tail -1 "$OUT/mkfs.log"))"
	exit 0
fi
before=$(md5 "$SCRATCH/blk.img")
m=$(vm_machine virtio-blk-ro)
VM_TIMEOUT=140 vm_run blkro "$m"
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
check "the guest's /sys/block/vda/ro is 1 (got $(val BLK RO))" [ "$(val BLK RO)" = 1 ]
check "the guest mounts it read-only" [ "$(val BLK MOUNT)" = ok ]
check "the guest reads the host's file (md5 $(val BLK IN), host $in_sum)" [ "$(val BLK IN)" = "$in_sum" ]
check "writing a file in the guest fails" [ "$(val BLK FSWRITE)" = failed ]
check "writing /dev/vda in the guest fails" [ "$(val BLK DEVWRITE)" = failed ]
note "after blockdev --setrw, the guest's write to /dev/vda: $(val BLK FORCEWRITE)"
after=$(md5 "$SCRATCH/blk.img")
check "the image is unchanged (md5 $before before, $after after)" [ "$before" = "$after" ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail
exit 0
