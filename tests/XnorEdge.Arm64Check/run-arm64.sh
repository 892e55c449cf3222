#!/usr/bin/env bash
# The ARM64 (Raspberry Pi) job of CI, on an x86 machine: installs qemu user-mode emulation and the arm64
# cross sysroot when missing (as root, Debian), publishes tests/XnorEdge.Arm64Check self-contained for
# linux-arm64, runs the runtime's AdvSimd (NEON) kernel tests under qemu, then the shipped model on the
# first N test images under qemu (AdvSimd kernels) and natively (the x86 scalar reference), and compares
# the two logits files byte for byte.
# Usage: run-arm64.sh <work folder> [images, default 2000]. The last line is "N passed, N failed[, N skipped]"
# (the logits comparison counts as one check); exit 0 only when everything passed.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: run-arm64.sh <work folder> [images]}
images=${2:-2000}
mkdir -p "$work"
sysroot=/usr/aarch64-linux-gnu
fail() {
  echo "arm64: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

if ! command -v qemu-aarch64-static >/dev/null 2>&1 || [ ! -e "$sysroot/lib/libstdc++.so.6" ]; then
  echo "arm64: installing qemu-user-static and the arm64 cross runtime libraries"
  (export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross) \
    || fail "could not install qemu-user-static and the arm64 cross libraries"
fi
# .NET's compression needs zlib, which the cross sysroot lacks: take Debian's arm64 package apart.
if [ ! -e "$sysroot/lib/libz.so.1" ]; then
  echo "arm64: adding zlib1g:arm64 to $sysroot"
  (export DEBIAN_FRONTEND=noninteractive && dpkg --add-architecture arm64 && apt-get update -qq \
    && cd "$work" && apt-get download zlib1g:arm64 && dpkg -x zlib1g_*_arm64.deb zlib-arm64 \
    && cp -a zlib-arm64/lib/aarch64-linux-gnu/libz.so.1* "$sysroot/lib/") || fail "could not add zlib1g:arm64 to $sysroot"
fi

echo "arm64: publishing tests/XnorEdge.Arm64Check for linux-arm64"
dotnet publish tests/XnorEdge.Arm64Check -c Release -r linux-arm64 --self-contained true -o "$work/publish" -nologo -v q \
  || fail "dotnet publish -r linux-arm64 failed"
dotnet build tests/XnorEdge.Arm64Check -c Release -nologo -v q -o "$work/x64" || fail "the x86 build of XnorEdge.Arm64Check failed"

export QEMU_LD_PREFIX=$sysroot
# The JIT's double-mapped code pages (W^X) crash intermittently under qemu-user; off for the emulated runs only.
export DOTNET_EnableWriteXorExecute=0
start=$(date +%s)
timeout 900 qemu-aarch64-static "$work/publish/XnorEdge.Arm64Check" tests AdvSimd | tee "$work/tests.log"
tests_line=$(tail -n 1 "$work/tests.log")
if ! [[ "$tests_line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
  fail "the AdvSimd tests under qemu ended without totals (crash or timeout)"
fi
passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[4]:-0}
if [ "$passed" -eq 0 ]; then
  echo "arm64: no AdvSimd test ran: is the emulated CPU without NEON?" >&2
  failed=$((failed + 1))
fi

data=models/fashion-mnist/data
model=models/fashion-mnist/model.xnor
timeout 900 qemu-aarch64-static "$work/publish/XnorEdge.Arm64Check" logits "$model" "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" "$images" fast "$work/arm64.bin"
unset DOTNET_EnableWriteXorExecute QEMU_LD_PREFIX
dotnet "$work/x64/XnorEdge.Arm64Check.dll" logits "$model" "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" "$images" scalar "$work/x64.bin"
if [ -s "$work/arm64.bin" ] && cmp "$work/arm64.bin" "$work/x64.bin"; then
  echo "arm64: the logits of $images test images are byte-identical to the x86 scalar reference"
  passed=$((passed + 1))
else
  echo "arm64: the logits differ from the x86 scalar reference (or were not written)" >&2
  failed=$((failed + 1))
fi
echo "arm64: $(( $(date +%s) - start )) s under emulation and comparison"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
