#!/usr/bin/env bash
# Soak run (issue 16): `xnoredge classify` (Release build) on the simulated camera for N frames, unpaced,
# JSON lines to /dev/null (only the summary line is kept), with the process's resident memory (VmRSS from
# /proc/PID/status) sampled every few seconds. Reports RSS after warm-up, at the end, the growth, the
# peak, and frames per second; optionally the bytes allocated per frame (measured in-process by the
# fuzzing harness, since the CLI does not report allocations).
#
#   tests/XnorEdge.Benchmarks/soak.sh [FRAMES]          # default 1,000,000 frames
#
# Environment: SOAK_INTERVAL (seconds between samples, default 5), SOAK_WARMUP (seconds before the
# warm-up sample, default 10), SOAK_THREADS (classify --threads, default 1), SOAK_OUT (folder for
# rss.csv and summary.json, default a temporary folder), SOAK_ALLOC=1 (also measure allocated bytes per
# frame over min(FRAMES, 20000) frames), SOAK_MAX_GROWTH_MIB (exit 1 when RSS grows more than this
# after warm-up; default: report only). Linux only (/proc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
frames=${1:-1000000}
interval=${SOAK_INTERVAL:-5}
warmup=${SOAK_WARMUP:-10}
threads=${SOAK_THREADS:-1}
out=${SOAK_OUT:-$(mktemp -d /tmp/xnoredge-soak.XXXXXX)}
mkdir -p "$out"

echo "soak: building xnoredge (Release)"
dotnet build -c Release "$root/firmware-tools/XnorEdge.Cli/XnorEdge.Cli.csproj" -v quiet -nologo >"$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; exit 2; }
exe="$root/firmware-tools/XnorEdge.Cli/bin/Release/net8.0/xnoredge"
model="$root/models/fashion-mnist/model.xnor"

echo "soak: classify --source sim --frames $frames --threads $threads --json > /dev/null (summary kept), RSS every ${interval} s -> $out"
start=$(date +%s.%N)
"$exe" classify --model "$model" --source sim --frames "$frames" --threads "$threads" --json \
  > >(tail -n 1 > "$out/summary.json") 2> "$out/stderr.txt" &
pid=$!
echo "seconds,rss_kib" > "$out/rss.csv"
warm_rss="" warm_t="" last_rss="" peak_rss=0
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
while kill -0 "$pid" 2>/dev/null; do
  rss=$(rss_of "$pid")
  now=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
  if [ -n "$rss" ]; then
    echo "$t,$rss" >> "$out/rss.csv"
    last_rss=$rss
    [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
    if [ -z "$warm_rss" ] && awk -v t="$t" -v w="$warmup" 'BEGIN { exit !(t >= w) }'; then warm_rss=$rss warm_t=$t; fi
  fi
  # Sleep in small steps so that a short run is not held up by the interval.
  for _ in $(seq 1 $((interval * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
set +e
wait "$pid"
status=$?
set -e
end=$(date +%s.%N)
sleep 0.2 # let tail write the summary
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ "$status" -ne 0 ]; then
  echo "soak: xnoredge exited with $status:" >&2
  cat "$out/stderr.txt" >&2
  exit 2
fi
if [ -z "$warm_rss" ]; then
  echo "soak: note: the run ended before the warm-up time (${warmup} s); the first sample is used as the warm-up RSS"
  warm_rss=$(sed -n 2p "$out/rss.csv" | cut -d, -f2) warm_t=$(sed -n 2p "$out/rss.csv" | cut -d, -f1)
fi
samples=$(($(wc -l < "$out/rss.csv") - 1))
summary=$(cat "$out/summary.json")
fps=$(sed -n 's/.*"fps":\([0-9.]*\).*/\1/p' <<<"$summary")
done_frames=$(sed -n 's/.*"frames":\([0-9]*\).*/\1/p' <<<"$summary")
growth=$((last_rss - warm_rss))

printf 'soak: %s frames in %s s wall (%s samples)\n' "$done_frames" "$wall" "$samples"
printf '  frames per second   %s (classify summary; %s by wall clock incl. start-up)\n' "$fps" \
  "$(awk -v f="$done_frames" -v w="$wall" 'BEGIN { printf "%.0f", f / w }')"
printf '  RSS after warm-up   %.1f MiB (at %s s)\n' "$(awk -v k="$warm_rss" 'BEGIN { print k / 1024 }')" "$warm_t"
printf '  RSS at the end      %.1f MiB\n' "$(awk -v k="$last_rss" 'BEGIN { print k / 1024 }')"
printf '  growth              %+d KiB = %+.1f MiB (%+.3f KiB per 1000 frames)\n' "$growth" "$(awk -v k="$growth" 'BEGIN { print k / 1024 }')" \
  "$(awk -v k="$growth" -v f="$done_frames" 'BEGIN { print ((f > 0) ? k * 1000 / f : 0) }')"
printf '  peak RSS            %.1f MiB\n' "$(awk -v k="$peak_rss" 'BEGIN { print k / 1024 }')"
printf '  samples             %s\n' "$out/rss.csv"

if [ "${SOAK_ALLOC:-0}" = "1" ]; then
  n=$((frames < 20000 ? frames : 20000))
  echo "soak: bytes allocated per frame (in-process, $n frames, the fuzzing harness):"
  dotnet build -c Release "$root/tests/XnorEdge.Fuzzing/XnorEdge.Fuzzing.csproj" -v quiet -nologo >>"$out/build.log" 2>&1
  "$root/tests/XnorEdge.Fuzzing/bin/Release/net10.0/XnorEdge.Fuzzing" --repo "$root" --alloc-per-frame "$n" | sed 's/^/  /'
fi

if [ -n "${SOAK_MAX_GROWTH_MIB:-}" ] && [ "$growth" -gt $((SOAK_MAX_GROWTH_MIB * 1024)) ]; then
  echo "soak: RSS grew by more than ${SOAK_MAX_GROWTH_MIB} MiB after warm-up" >&2
  exit 1
fi
