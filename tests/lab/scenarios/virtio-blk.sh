# virtio-blk: the scenario makes a 64 MiB ext4 image (mkfs.ext4 -d) holding
# in.bin; the guest mounts /dev/vda, reads in.bin, writes out.bin (fsync),
# unmounts and powers off. vmm exits 0, the guest read what the host wrote,
# and the image holds what the guest wrote (debugfs dump), in a clean file
# system.
# timeout: 180
. "$LAB_DIR/scenarios/lib.sh"
mkdir -p "$SCRATCH/root"
dd if=/dev/urandom of="$SCRATCH/root/in.bin" bs=1024 count=3000 2>/dev/null
in_sum=$(md5 "$SCRATCH/root/in.bin")
img=$SCRATCH_HOST/blk.img
if ! $HOSTRUN mkfs.ext4 -q -F -d "$SCRATCH_HOST/root" "$img" 64M >"$OUT/mkfs.log" 2>&1; then
	not_ok "mkfs.ext4 makes the image ($(tail -1 "$OUT/mkfs.log"))"
	exit 0
fi
m=$(vm_machine virtio-blk)
VM_TIMEOUT=160 vm_run blk "$m"
vm_report
check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
check "the guest has /dev/vda, writable (ro $(val BLK RO))" [ "$(val BLK RO)" = 0 ]
check "the disk is 64 MiB ($(val BLK SIZE) sectors)" [ "$(val BLK SIZE)" = 131072 ]
check "the disk's serial is the machine file's ($(val BLK SERIAL))" [ "$(val BLK SERIAL)" = lab-disk0 ]
# Linux's virtio_blk takes as many requests as the ring it was offered holds.
check "queue-size = 1024: the driver runs 1024 requests deep ($(val BLK TAGS) tags)" [ "$(val BLK TAGS)" = 1024 ]
check "the guest mounts the ext4 image" [ "$(val BLK MOUNT)" = ok ]
check "the guest reads the host's file (md5 $(val BLK IN), host $in_sum)" [ "$(val BLK IN)" = "$in_sum" ]
w=$(val BLK WRITE)
check "the guest writes 4 MiB with fsync" [ "${w%% *}" = ok ]
# shellcheck disable=SC2086 # ok T0 T1
set -- $w
note "figure: guest write of 4 MiB + fsync: $(mbps 4194304 "${2:-}" "${3:-}") MB/s"
check "the guest unmounts it" [ "$(val BLK UMOUNT)" = ok ]
out_sum=$(val BLK OUT)
reread=$(val BLK REREAD)
check "the guest reads its file back after a remount (md5 $reread)" \
	[ "${out_sum:-none}" = "$reread" ]
$HOSTRUN debugfs -R "dump /out.bin $SCRATCH_HOST/out.bin" "$img" >"$OUT/debugfs.log" 2>&1
got=$(md5 "$SCRATCH/out.bin" 2>/dev/null)
check "the image holds the guest's file (debugfs dump md5 $got, guest $out_sum)" \
	[ "${out_sum:-none}" = "$got" ]
$HOSTRUN e2fsck -fn "$img" >"$OUT/e2fsck.log" 2>&1
fsck=$?
check "the image's file system is clean after the guest (e2fsck -fn exits $fsck)" [ $fsck = 0 ]
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail
exit 0
