#!/usr/bin/env bash
# Flashes the nanoFramework firmware (nanoCLR) of a board with nanoff.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/common.sh"

usage() {
    cat <<'USAGE'
usage: nano-firmware.sh --target esp32|esp32-psram|esp32-s3|stm32f769 [--port PORT] [--dry-run]

Updates the board's nanoFramework firmware to the latest stable build with nanoff.
  --target    the board (the same ids as `xnoredge simulate --target`):
                esp32        ESP32 without PSRAM      -> ESP32_REV3
                esp32-psram  ESP32 with PSRAM (WROVER) -> ESP32_PSRAM_REV3
                esp32-s3     ESP32-S3 with octal PSRAM -> ESP32_S3_OCTAL
                stm32f769    STM32F769I-DISCO          -> ST_STM32F769I_DISCOVERY (over the ST-LINK, JTAG/SWD)
  --port      the serial port of an ESP32 (/dev/ttyUSB0, /dev/ttyACM0, COM5; `nanoff --listports` lists them)
  --dry-run   print the nanoff command instead of running it
USAGE
}

TARGET=""
PORT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --target) [[ $# -ge 2 ]] || die_usage "--target needs a value"; TARGET="$2"; shift 2 ;;
        --port) [[ $# -ge 2 ]] || die_usage "--port needs a value"; PORT="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$TARGET" ]] || die_usage "--target is required"
FIRMWARE="$(firmware_of "$TARGET")" || die_usage "unknown target: $TARGET"
need nanoff "$NANOFF_HINT"

if [[ "$TARGET" == stm32f769 ]]; then
    run nanoff --update --target "$FIRMWARE" --jtag
else
    [[ -n "$PORT" ]] || die_usage "--port is required for an ESP32 board"
    run nanoff --update --target "$FIRMWARE" --serialport "$PORT"
fi
