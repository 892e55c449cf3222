#!/usr/bin/env bash
# Deploys a built nanoFramework app (the .bin deployment image of all its assemblies) with nanoff.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
source "$HERE/common.sh"

usage() {
    cat <<'USAGE'
usage: nano-deploy.sh --target esp32|esp32-psram|esp32-s3|stm32f769 [--port PORT] [--image APP.bin] [--dry-run]

Writes the app's deployment image (every .pe of the app and its libraries) to the board's deployment area.
  --target    the board (see nano-firmware.sh)
  --port      the serial port of an ESP32
  --image     the image; default: src/XnorEdge.Nano/Sample/bin/Release/XnorEdge.Nano.Sample.bin
              (built on Windows, see src/XnorEdge.Nano/README.md)
  --dry-run   print the nanoff command instead of running it
USAGE
}

TARGET=""
PORT=""
IMAGE="$REPO/src/XnorEdge.Nano/Sample/bin/Release/XnorEdge.Nano.Sample.bin"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --target) [[ $# -ge 2 ]] || die_usage "--target needs a value"; TARGET="$2"; shift 2 ;;
        --port) [[ $# -ge 2 ]] || die_usage "--port needs a value"; PORT="$2"; shift 2 ;;
        --image) [[ $# -ge 2 ]] || die_usage "--image needs a value"; IMAGE="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$TARGET" ]] || die_usage "--target is required"
FIRMWARE="$(firmware_of "$TARGET")" || die_usage "unknown target: $TARGET"
if [[ "$DRY_RUN" -eq 0 && ! -f "$IMAGE" ]]; then
    die "$IMAGE: no such deployment image (build src/XnorEdge.Nano/XnorEdge.Nano.sln first)"
fi
need nanoff "$NANOFF_HINT"

if [[ "$TARGET" == stm32f769 ]]; then
    run nanoff --target "$FIRMWARE" --jtag --deploy --image "$IMAGE" --address "$STM32F769_DEPLOYMENT_ADDRESS" --reset
else
    [[ -n "$PORT" ]] || die_usage "--port is required for an ESP32 board"
    run nanoff --target "$FIRMWARE" --serialport "$PORT" --deploy --image "$IMAGE"
fi
