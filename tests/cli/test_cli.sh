#!/bin/sh
# vmm's command line: options, exit statuses and --check on good and bad files.
: "${top_srcdir:=.}" "${top_builddir:=.}"
VMM="$top_builddir/vmm"
EX="$top_srcdir/etc/examples"
. "$top_srcdir/tests/cli/tap.sh"

echo "1..33"
expect 0 "--help exits 0" "$VMM" --help
grep -q "Usage: vmm -c FILE" "$tmp/out" && ok "--help prints usage on stdout" || not_ok "--help prints usage on stdout"
expect 0 "--version exits 0" "$VMM" --version
grep -q "^vmm (vmm) [0-9]" "$tmp/out" && ok "--version names the version" || not_ok "--version names the version"
expect 2 "unknown option exits 2" "$VMM" --frobnicate
expect 2 "no machine file exits 2" "$VMM"
expect_err "vmm: no machine file: run vmm -c FILE (see vmm --help)" "no machine file says how to give one"
expect 2 "a stray argument exits 2" "$VMM" -c "$EX/minimal-virtio.ini" extra
expect 2 "a missing machine file exits 2" "$VMM" --check -c "$tmp/nonexistent.ini"
grep -q "nonexistent.ini" "$tmp/err" && ok "the missing file is named" || not_ok "the missing file is named"

for f in minimal-virtio nic-passthrough gpu-passthrough; do
	expect 0 "--check accepts etc/examples/$f.ini" "$VMM" --check -c "$EX/$f.ini"
done

cat >"$tmp/bad.ini" <<'INI'
[machine]
kernel = /boot/vmlinuz
cpus = lots
INI
expect 2 "--check rejects a bad value" "$VMM" --check -c "$tmp/bad.ini"
grep -q "^vmm: $tmp/bad.ini:3: \[machine\] cpus: " "$tmp/err" &&
	ok "the error names FILE:LINE, the section and the key" ||
	{ not_ok "the error names FILE:LINE, the section and the key"; sed 's/^/# /' "$tmp/err"; }
expect 0 "-q --check on a good file exits 0" "$VMM" -q --check -c "$EX/minimal-virtio.ini"
[ -s "$tmp/out" ] || [ -s "$tmp/err" ] && not_ok "-q --check prints nothing" || ok "-q --check prints nothing"
# A device that never ends a line must not hang the reader.
expect 2 "--check on /dev/zero fails at once" timeout 10 "$VMM" --check -c /dev/zero
expect_err "vmm: /dev/zero:1: line holds a NUL byte, expected text" "/dev/zero: the NUL byte is named"

# Booting: what can be refused before KVM is touched is refused the same way
# on every host, with the line to blame.
# The fixture's GPUs are bound to vfio-pci but this host has no /dev/vfio/41.
expect 2 "a passthrough device without its /dev/vfio node exits 2" \
	"$VMM" --sysfs-root "$top_srcdir/tests/fixtures/host/sys" -c "$top_srcdir/tests/fixtures/machines/four-gpus.ini"
grep -q "four-gpus.ini:18: \[device \"gpu1\"\] host = 0000:41:00.0: /dev/vfio/41 is missing .*; fix: .*modprobe vfio-pci" "$tmp/err" &&
	ok "the device is named with its host line, what is missing and the fix" ||
	{ not_ok "the device is named with its host line, what is missing and the fix"; sed 's/^/# /' "$tmp/err"; }
printf '[machine]\nkernel = /nonexistent\n[device "gpu"]\ntype = vfio\nhost = 0000:06:00.0\n' >"$tmp/nouveau.ini"
expect 2 "a passthrough device bound to a host driver exits 2" \
	"$VMM" --sysfs-root "$top_srcdir/tests/fixtures/host/sys" -c "$tmp/nouveau.ini"
grep -q "nouveau.ini:5: \[device \"gpu\"\] host = 0000:06:00.0: not bound to vfio-pci (bound to nouveau); fix: .*vfio-bind 0000:06:00.0" "$tmp/err" &&
	ok "the device bound to nouveau is refused before the kernel is read, with vfio-bind" ||
	{ not_ok "the device bound to nouveau is refused before the kernel is read, with vfio-bind"; sed 's/^/# /' "$tmp/err"; }
printf 'not a kernel' >"$tmp/notkernel"
printf '[machine]\nkernel = %s\n' "$tmp/notkernel" >"$tmp/k.ini"
expect 2 "a kernel that is not a bzImage exits 2" "$VMM" -c "$tmp/k.ini"
expect_err "vmm: $tmp/k.ini:2: [machine] kernel: $tmp/notkernel: 12 bytes: too small to be a bzImage" \
	"the bad kernel is named with its line and why"
# A setup header that says it is not a Linux boot image.
head -c 4096 /dev/zero >"$tmp/zeros"
printf '[machine]\nkernel = %s\n' "$tmp/zeros" >"$tmp/z.ini"
expect 2 "a kernel without the HdrS header exits 2" "$VMM" -c "$tmp/z.ini"
grep -q "^vmm: $tmp/z.ini:2: \[machine\] kernel: $tmp/zeros: .*HdrS" "$tmp/err" &&
	ok "a missing HdrS magic is said" ||
	{ not_ok "a missing HdrS magic is said"; sed 's/^/# /' "$tmp/err"; }
# An ELF file is taken as a vmlinux, and checked as one: a program is not a kernel.
printf '[machine]\nkernel = /bin/sh\n' >"$tmp/elf.ini"
expect 2 "an ELF file that is not a kernel exits 2" "$VMM" --kernel-cache=off -c "$tmp/elf.ini"
grep -q "^vmm: $tmp/elf.ini:2: \[machine\] kernel: /bin/sh: ELF type 3: a kernel is an executable (ET_EXEC)" "$tmp/err" &&
	ok "the ELF kernel is refused with why" ||
	{ not_ok "the ELF kernel is refused with why"; sed 's/^/# /' "$tmp/err"; }
expect 2 "--kernel-cache needs a value" "$VMM" --kernel-cache= -c "$tmp/elf.ini"
expect_err "vmm: --kernel-cache: expected a directory or off" "an empty --kernel-cache is named"
printf '[machine]\nkernel = %s/missing-vmlinuz\n' "$tmp" >"$tmp/m.ini"
expect 2 "a missing kernel exits 2" "$VMM" -c "$tmp/m.ini"
expect_err "vmm: $tmp/m.ini:2: [machine] kernel: $tmp/missing-vmlinuz: No such file or directory" \
	"the missing kernel is named with its line"
exit $((failed != 0))
