#!/bin/sh
# pci-topo: options and exit statuses, every output format on the examples and
# the fixture machines, determinism, dtc on --dtb/--dts, JSON that parses and
# agrees with itself, and the readiness message of every fixture problem.
# TAP; needs dtc (device-tree-compiler) and python3 or jq, else those tests skip.
: "${top_srcdir:=.}" "${top_builddir:=.}"
TOPO="$top_builddir/pci-topo"
EX="$top_srcdir/etc/examples"
MACH="$top_srcdir/tests/fixtures/machines"
HOST="--sysfs-root $top_srcdir/tests/fixtures/host/sys --dev-root $top_srcdir/tests/fixtures/host/dev"
. "$top_srcdir/tests/cli/tap.sh"

if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
	JSON=python3
elif command -v jq >/dev/null 2>&1; then
	JSON=jq
else
	JSON=
fi
json_ok() {
	case $JSON in
	python3) python3 -m json.tool "$1" >/dev/null ;;
	jq) jq empty "$1" ;;
	esac
}
HAVE_DTC=; command -v dtc >/dev/null 2>&1 && HAVE_DTC=1

# --- the command line ---
expect 0 "--help exits 0" "$TOPO" --help
check "--help prints usage on stdout" has "Usage: pci-topo -c FILE" "$tmp/out"
expect 0 "--version exits 0" "$TOPO" --version
check "--version names the version" grep -q "^pci-topo (vmm) [0-9]" "$tmp/out"
expect 2 "an unknown option exits 2" "$TOPO" --frobnicate
expect 2 "no machine file exits 2" "$TOPO"
check "no machine file says how to give one" \
	has "pci-topo: no machine file: run pci-topo -c FILE (see pci-topo --help)" "$tmp/err"
expect 2 "a stray argument exits 2" "$TOPO" -c "$EX/minimal-virtio.ini" extra
expect 2 "--json and --dtb together exit 2" "$TOPO" -c "$EX/minimal-virtio.ini" --json --dtb
expect 2 "--host with a machine file exits 2" "$TOPO" --host -c "$EX/minimal-virtio.ini"
expect 2 "a missing machine file exits 2" "$TOPO" -c "$tmp/nonexistent.ini"
check "the missing file is named" has "nonexistent.ini" "$tmp/err"

# --- --check ---
for f in minimal-virtio nic-passthrough gpu-passthrough; do
	expect 0 "--check accepts etc/examples/$f.ini" "$TOPO" --check -c "$EX/$f.ini"
done
cat >"$tmp/bad.ini" <<'INI'
[machine]
kernel = /boot/vmlinuz
memory = 2 gigs
INI
expect 2 "--check rejects a bad value" "$TOPO" --check -c "$tmp/bad.ini"
check "--check names FILE:LINE of the bad value" grep -q "^pci-topo: $tmp/bad.ini:3: " "$tmp/err"
check "--check prints nothing on stdout" test ! -s "$tmp/out"
expect 2 "planning a bad file exits 2" "$TOPO" -c "$tmp/bad.ini"
check "planning a bad file names FILE:LINE" grep -q "^pci-topo: $tmp/bad.ini:3: " "$tmp/err"
expect 0 "--check on a good file is silent" "$TOPO" --check -c "$EX/minimal-virtio.ini"
check "--check on a good file prints nothing" test ! -s "$tmp/out" -a ! -s "$tmp/err"

# --- every format on every good machine, twice ---
for ini in "$EX/minimal-virtio.ini" "$EX/nic-passthrough.ini" "$EX/gpu-passthrough.ini" \
	   "$MACH/four-gpus.ini"; do
	name=$(basename "$ini" .ini)
	# shellcheck disable=SC2086
	expect 0 "$name: text exits 0" "$TOPO" -c "$ini" $HOST
	cp "$tmp/out" "$tmp/$name.txt"
	"$TOPO" -c "$ini" $HOST >"$tmp/$name.txt2" 2>/dev/null
	check "$name: text is byte-identical on a second run" cmp -s "$tmp/$name.txt" "$tmp/$name.txt2"
	check "$name: text shows the lspci-style tree" has "-[0000:00]-+-00.0  Red Hat, Inc. QEMU PCIe Host bridge" "$tmp/$name.txt"
	# The ECAM reaches the buses the plan numbers, no further.
	case $name in
	gpu-passthrough) ecam="e0000000-e01fffff : PCI MMCONFIG 0000 [bus 00-01]" ;;
	four-gpus) ecam="e0000000-e04fffff : PCI MMCONFIG 0000 [bus 00-04]" ;;
	*) ecam="e0000000-e00fffff : PCI MMCONFIG 0000 [bus 00-00]" ;;
	esac
	check "$name: text shows the memory map, the ECAM sized to its buses" has "$ecam" "$tmp/$name.txt"
	check "$name: text shows the I/O port map" has "0cf8-0cff : PCI conf1" "$tmp/$name.txt"

	# shellcheck disable=SC2086
	expect 0 "$name: --json exits 0" "$TOPO" -c "$ini" $HOST --json
	cp "$tmp/out" "$tmp/$name.json"
	"$TOPO" -c "$ini" $HOST --json >"$tmp/$name.json2" 2>/dev/null
	check "$name: --json is byte-identical on a second run" cmp -s "$tmp/$name.json" "$tmp/$name.json2"
	if [ -n "$JSON" ]; then
		check "$name: --json parses ($JSON)" json_ok "$tmp/$name.json"
	else
		skip "$name: --json parses" "neither python3 nor jq installed"
	fi

	# shellcheck disable=SC2086
	expect 0 "$name: --dtb -o exits 0" "$TOPO" -c "$ini" $HOST --dtb -o "$tmp/$name.dtb"
	# shellcheck disable=SC2086
	"$TOPO" -c "$ini" $HOST --dtb >"$tmp/$name.dtb2" 2>/dev/null
	check "$name: --dtb is byte-identical on a second run (and on stdout)" \
		cmp -s "$tmp/$name.dtb" "$tmp/$name.dtb2"
	# shellcheck disable=SC2086
	expect 0 "$name: --dts exits 0" "$TOPO" -c "$ini" $HOST --dts
	cp "$tmp/out" "$tmp/$name.dts"
	if [ -n "$HAVE_DTC" ]; then
		dtc -I dtb -O dts -o "$tmp/$name.from-dtb.dts" "$tmp/$name.dtb" 2>"$tmp/dtc.err"
		st=$?
		check "$name: dtc -I dtb -O dts accepts --dtb, without warnings" \
			test "$st" = 0 -a ! -s "$tmp/dtc.err"
		sed 's/^/# /' "$tmp/dtc.err"
		dtc -I dts -O dtb -o "$tmp/$name.from-dts.dtb" "$tmp/$name.dts" 2>"$tmp/dtc.err"
		st=$?
		check "$name: dtc -I dts -O dtb accepts --dts, without warnings" \
			test "$st" = 0 -a ! -s "$tmp/dtc.err"
		sed 's/^/# /' "$tmp/dtc.err"
		dtc -I dtb -O dts -o "$tmp/$name.roundtrip.dts" "$tmp/$name.from-dts.dtb" 2>/dev/null
		check "$name: --dts and --dtb describe the same tree" \
			cmp -s "$tmp/$name.from-dtb.dts" "$tmp/$name.roundtrip.dts"
	else
		skip "$name: dtc -I dtb -O dts accepts --dtb" "dtc not installed"
		skip "$name: dtc -I dts -O dtb accepts --dts" "dtc not installed"
		skip "$name: --dts and --dtb describe the same tree" "dtc not installed"
	fi
done

# The JSON agrees with itself: every BAR shows in iomem/ioports under its BDF,
# inside the window of its bridge; no two siblings overlap.
if [ "$JSON" = python3 ]; then
	cat >"$tmp/consistent.py" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def walk(nodes, parent, out):
    prev = None
    for n in nodes:
        s, e = int(n["start"], 16), int(n["end"], 16)
        assert s <= e, n
        if parent:
            assert parent[0] <= s and e <= parent[1], (n["name"], "outside", parent)
        if prev is not None:
            assert s > prev, (n["name"], "overlaps its sibling")
        prev = e
        out.append((s, e, n["name"], parent[2] if parent else None))
        walk(n["children"], (s, e, n["name"]), out)
    return out
mem = walk(doc["iomem"], None, [])
io = walk(doc["ioports"], None, [])
for f in doc["functions"]:
    for b in f["bars"]:
        s = int(b["addr"], 16)
        want = (s, s + b["size"] - 1, f["bdf"])
        tree = io if b["type"] == "io" else mem
        assert any(x[:3] == want for x in tree), (f["bdf"], b, "missing from the map")
        assert s % b["size"] == 0, (f["bdf"], b, "not naturally aligned")
PY
	for name in minimal-virtio nic-passthrough gpu-passthrough four-gpus; do
		check "$name: every BAR is in the JSON iomem, aligned, nested, no overlaps" \
			python3 "$tmp/consistent.py" "$tmp/$name.json"
	done
else
	skip "JSON iomem consistency" "python3 not installed"
fi

expect 2 "-o into a missing directory exits 2" \
	"$TOPO" -c "$EX/minimal-virtio.ini" -o "$tmp/missing/out.txt"
check "-o names the file it cannot write" has "$tmp/missing/out.txt" "$tmp/err"
"$TOPO" -c "$EX/minimal-virtio.ini" -o "$tmp/o.txt" >"$tmp/out" 2>&1
wrote_file() { cmp -s "$tmp/o.txt" "$tmp/minimal-virtio.txt" && test ! -s "$tmp/out"; }
check "-o writes the text to the file and nothing to stdout" wrote_file

# --- passthrough readiness: every fixture problem with its message ---
readiness() { # machine "exact problem text"
	# shellcheck disable=SC2086
	expect 0 "$1: plans and exits 0" "$TOPO" -c "$MACH/$1.ini" $HOST
	check "$1: reported NOT READY" has "dev0: host " "$tmp/out"
	check "$1: says: $2" has "    problem: $2" "$tmp/out"
	check "$1: gives a fix" grep -q "^    fix:     ." "$tmp/out"
}
readiness not-ready-no-reset "no reset method: the device cannot be reset between guests"
readiness not-ready-group "IOMMU group 14 also holds 0000:05:00.1 (bound to igb)"
readiness not-ready-driver "not bound to vfio-pci (bound to nouveau)"
readiness not-ready-no-iommu "no IOMMU group: the IOMMU is off or missing"
readiness not-ready-msix "MSI-X table at BAR0 offset 0x1800 is not page aligned"
readiness not-ready-no-vfio-node "/dev/vfio/18 is missing although the device is bound to vfio-pci"
check "a ready device is reported OK" has "gpu: host 0000:01:00.0 -> guest 0000:01:00.0: OK" "$tmp/gpu-passthrough.txt"
# shellcheck disable=SC2086
"$TOPO" -c "$MACH/not-ready-driver.ini" $HOST --json >"$tmp/nr.json" 2>/dev/null
check "--json lists the problem with its kind" has '"kind": "not_vfio"' "$tmp/nr.json"
check "--json says the device is not ready" has '"ready": false' "$tmp/nr.json"

# --- a plan that cannot be made ---
# shellcheck disable=SC2086
expect 2 "four 64 GiB GPUs in 36 address bits exit 2" "$TOPO" -c "$MACH/four-gpus-36bit.ini" $HOST
check "the error names FILE:LINE and the device" has "four-gpus-36bit.ini:16: [device \"gpu1\"]" "$tmp/err"
check "the error names the BAR, its size and the window" \
	grep -q "BAR1 (64 GiB.*does not fit in the 64-bit window" "$tmp/err"
check "nothing is printed on stdout" test ! -s "$tmp/out"
expect 2 "a host device missing from the inventory exits 2" \
	"$TOPO" -c "$MACH/four-gpus.ini" --sysfs-root "$tmp" --dev-root "$tmp"

# --- --host ---
# shellcheck disable=SC2086
expect 0 "--host exits 0" "$TOPO" --host $HOST
check "--host lists a device with group, driver and readiness" \
	grep -q "^0000:01:00.0  10de:2236  10 *vfio-pci *yes" "$tmp/out"
check "--host lists a problem" has "problem: not bound to vfio-pci (bound to nouveau)" "$tmp/out"
# shellcheck disable=SC2086
"$TOPO" --host $HOST >"$tmp/host2" 2>/dev/null
check "--host is byte-identical on a second run" cmp -s "$tmp/out" "$tmp/host2"
# shellcheck disable=SC2086
expect 0 "--host --json exits 0" "$TOPO" --host $HOST --json
if [ -n "$JSON" ]; then
	check "--host --json parses ($JSON)" json_ok "$tmp/out"
else
	skip "--host --json parses" "neither python3 nor jq installed"
fi
expect 2 "--host --dtb exits 2" "$TOPO" --host --dtb

# Bridges nested 100 deep: every format copes, and dtc takes the tree.
{
	printf '[machine]\nkernel = /boot/vmlinuz\n'
	printf '[pci "b1"]\ntype = pci-bridge\n'
	i=2
	while [ $i -le 100 ]; do
		printf '[pci "b%d"]\ntype = pci-bridge\nbus = b%d\nslot = 1\n' $i $((i - 1))
		i=$((i + 1))
	done
	printf '[device "rng"]\ntype = virtio-rng\nbus = b100\nslot = 1\n'
} >"$tmp/deep.ini"
expect 0 "100 nested bridges: --dts exits 0" "$TOPO" -c "$tmp/deep.ini" --dts
if [ -n "$HAVE_DTC" ]; then
	check "100 nested bridges: dtc accepts --dts" dtc -q -I dts -O dtb -o "$tmp/deep.dtb" "$tmp/out"
else
	skip "100 nested bridges: dtc accepts --dts" "dtc not installed"
fi
check "100 nested bridges: the device is in the tree" grep -q "rng" "$tmp/out"

echo "1..$n"
exit $((failed != 0))
