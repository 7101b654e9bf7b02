# kernel-unpack: vmm unpacks Debian's bzImage on the host and starts the guest
# in the kernel proper, at a physical address and a virtual offset of its own
# choosing (KASLR): first decompressing it, then from its kernel cache. What
# the guest says of where its kernel runs (_text in /proc/kallsyms, Kernel
# code in /proc/iomem) must be exactly what vmm logged. Then nokaslr, a
# memmap= region KASLR must keep clear of, kernel-decompress = guest, the
# kernel compressed with gzip and with zstd, and the unpacked kernel given as
# an ELF vmlinux.
# timeout: 420
. "$LAB_DIR/scenarios/lib.sh"
cache=$SCRATCH/kernel-cache
cache_host=$SCRATCH_HOST/kernel-cache
base=$(vm_machine kernel-unpack)

# kboot NAME MACHINE: boot it with the scenario's cache; its report in
# $OUT/NAME.txt, vmm's stderr in $OUT/NAME.err.
kboot() {
	# shellcheck disable=SC2086 # $VMM is a word list
	VM_TIMEOUT=120 vm_cmd "$1" /dev/null $VMM -v --kernel-cache="$cache_host" -c "$2"
	vm_wait 'VMMTEST DONE' 1 110 && note "$1: report after ${VM_SEEN}s"
	vm_wait_exit 30 || true
	vm_report
	cp "$OUT/report.txt" "$OUT/$1.txt"
	check "$1: vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
	grep -q '^VMMTEST DONE$' "$OUT/$1.txt" || vm_tail
}
# placed NAME: "PHYS DELTA" as vmm logged them (hex, 0x...).
placed() {
	sed -n 's/.*kernel: .*, at \(0x[0-9a-f]*\) (one of [0-9]* places) and virtual offset \(0x[0-9a-f]*\) .*/\1 \2/p' \
		"$OUT/$1.err" | head -1
}
# guest NAME KEY: a line of the guest's kernel section ("text", "code").
guest() { sed -n "/^VMMTEST BEGIN kernel\$/,/^VMMTEST END kernel\$/s/^$2 //p" "$OUT/$1.txt" | head -1; }
# matches NAME: the guest runs its kernel where vmm said it put it.
matches() {
	set -- "$1" $(placed "$1")
	[ -n "${2:-}" ] || { note "$1: vmm logged no placement"; return 1; }
	want_code=$(printf '%08x' $(($2)))
	want_text=ffffffff$(printf '%08x' $((0x81000000 + $3)))
	got_code=$(guest "$1" code | cut -d' ' -f1)
	got_text=$(guest "$1" text)
	note "$1: vmm: at $2, virtual offset $3; guest: Kernel code at $got_code, _text $got_text"
	[ "$got_code" = "$want_code" ] && [ "$got_text" = "$want_text" ]
}

rm -rf "$cache"
kboot cold "$base"
check "cold: vmm unpacked the kernel itself" grep -q 'kernel: .*: xz payload .* unpacked in' "$OUT/cold.err"
check "cold: the kernel runs where vmm put it, physically and virtually" matches cold
check "cold: KASLR moved it from where it was linked" \
	sh -c "[ \"$(placed cold | cut -d' ' -f2)\" != 0x0 ] || [ \"$(placed cold | cut -d' ' -f1)\" != 0x1000000 ]"
check "cold: the cache holds the unpacked kernel afterwards" sh -c "ls '$cache'/*.vmlinux >/dev/null"

kboot warm "$base"
check "warm: vmm took the kernel from its cache" grep -q 'kernel: .*: unpacked kernel .* from the kernel cache' "$OUT/warm.err"
check "warm: the kernel runs where vmm put it, physically and virtually" matches warm
check "warm: a new place for each boot" [ "$(placed cold)" != "$(placed warm)" ]

sed 's/l2report=kernel/& nokaslr/' "$SCRATCH/kernel-unpack.ini" >"$SCRATCH/nokaslr.ini"
kboot nokaslr "$SCRATCH_HOST/nokaslr.ini"
check "nokaslr: vmm leaves the kernel where it was linked" grep -q 'virtual offset 0x0 .*no KASLR' "$OUT/nokaslr.err"
check "nokaslr: the guest's kernel runs at 16 MiB and 0xffffffff81000000" \
	sh -c "[ '$(guest nokaslr code | cut -d' ' -f1)' = 01000000 ] && [ '$(guest nokaslr text)' = ffffffff81000000 ]"

# 96 MiB reserved from 32 MiB: the kernel (64 MiB from 16 MiB up) must go
# above 128 MiB, as Linux's decompressor would put it.
sed 's/l2report=kernel/& memmap=96M$0x2000000/' "$SCRATCH/kernel-unpack.ini" >"$SCRATCH/memmap.ini"
kboot memmap "$SCRATCH_HOST/memmap.ini"
check "memmap: the kernel runs where vmm put it, physically and virtually" matches memmap
check "memmap: it stays clear of the reserved 32-128 MiB" \
	[ $((0x$(guest memmap code | cut -d' ' -f1))) -ge $((0x8000000)) ]

sed 's/^on-reboot.*/&\nkernel-decompress = guest/' "$SCRATCH/kernel-unpack.ini" >"$SCRATCH/guest.ini"
kboot guest "$SCRATCH_HOST/guest.ini"
check "guest: the bzImage's own decompressor ran" grep -q 'kernel: bzImage at 0x1000000, decompressed by the guest' "$OUT/guest.err"
check "guest: the guest reports its kernel" [ -n "$(guest guest text)" ]

# The same kernel compressed as other distributions ship theirs (setup's
# repack-kernel: gzip -9, and zstd from a pipe as Linux's build runs it: no
# size in the frame, a 128 MiB window). vmm unpacks them; their bzImages'
# own decompressor (xz's) could not.
for fmt in gzip zstd; do
	sed "s|^kernel .*|kernel    = $LAB_WORK/vmlinuz-$fmt|" "$SCRATCH/kernel-unpack.ini" >"$SCRATCH/$fmt.ini"
	kboot "$fmt" "$SCRATCH_HOST/$fmt.ini"
	check "$fmt: vmm unpacked the $fmt payload itself" grep -q "kernel: .*: $fmt payload .* unpacked in" "$OUT/$fmt.err"
	check "$fmt: the kernel runs where vmm put it, physically and virtually" matches "$fmt"
done

# The cache's entry is the kernel's ELF image with its relocation table.
cp "$(ls "$cache"/*.vmlinux | head -1)" "$SCRATCH/vmlinux"
sed "s|^kernel .*|kernel    = $SCRATCH_HOST/vmlinux|" "$SCRATCH/kernel-unpack.ini" >"$SCRATCH/elf.ini"
kboot elf "$SCRATCH_HOST/elf.ini"
check "elf: vmm booted the ELF vmlinux as it is" grep -q 'kernel: an ELF vmlinux, at 0x1000000 ' "$OUT/elf.err"
check "elf: the kernel runs where vmm put it, physically and virtually" matches elf
