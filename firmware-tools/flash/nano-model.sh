#!/usr/bin/env bash
# Copies a model file to the board's internal storage (I:\model.xnor) with nanoff --filedeployment.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/common.sh"

usage() {
    cat <<'USAGE'
usage: nano-model.sh --model MODEL.xnor --port PORT [--target esp32|esp32-psram|esp32-s3] [--dest 'I:\model.xnor'] [--dry-run]

Deploys a model to the board's storage, where the sample app looks first (it streams the weights from there).
The ESP32 boards have an internal littlefs drive I: (256 KiB on a 4 MB module, 2 MiB on the 8 MB S3 layout);
the STM32F769I-DISCO has none (ship the model as a resource, or copy it to a FAT SD card).
  --model     the .xnor file (checked with `xnoredge inspect` first when xnoredge is on the PATH)
  --port      the board's serial port
  --target    the board, to refuse boards without storage (default esp32)
  --dest      the path on the board (default I:\model.xnor)
  --dry-run   print the deployment file and the nanoff command instead of running it
USAGE
}

MODEL=""
PORT=""
TARGET="esp32"
DEST='I:\model.xnor'
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model) [[ $# -ge 2 ]] || die_usage "--model needs a value"; MODEL="$2"; shift 2 ;;
        --port) [[ $# -ge 2 ]] || die_usage "--port needs a value"; PORT="$2"; shift 2 ;;
        --target) [[ $# -ge 2 ]] || die_usage "--target needs a value"; TARGET="$2"; shift 2 ;;
        --dest) [[ $# -ge 2 ]] || die_usage "--dest needs a value"; DEST="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$MODEL" ]] || die_usage "--model is required"
[[ -n "$PORT" ]] || die_usage "--port is required"
firmware_of "$TARGET" >/dev/null || die_usage "unknown target: $TARGET"
[[ "$TARGET" != stm32f769 ]] || die "the STM32F769I-DISCO has no internal storage drive: embed the model as a resource (xnoredge emit --format resx) instead"
[[ -f "$MODEL" ]] || die "$MODEL: no such model file"
need nanoff "$NANOFF_HINT"
if command -v xnoredge >/dev/null 2>&1; then
    run xnoredge inspect "$MODEL" >/dev/null
fi

# nanoff takes the files to deploy from a JSON file: the port and, per file, where it goes and where it comes from.
json_escape() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '%s' "$s"; }
SOURCE_PATH="$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")"
DEPLOY_JSON="$(mktemp "${TMPDIR:-/tmp}/xnoredge-deploy.XXXXXX.json")"
trap 'rm -f "$DEPLOY_JSON"' EXIT
cat > "$DEPLOY_JSON" <<JSON
{
  "serialport": "$(json_escape "$PORT")",
  "files": [
    {
      "DestinationFilePath": "$(json_escape "$DEST")",
      "SourceFilePath": "$(json_escape "$SOURCE_PATH")"
    }
  ]
}
JSON
if [[ "$DRY_RUN" -eq 1 ]]; then
    echo "# $DEPLOY_JSON:"
    sed 's/^/# /' "$DEPLOY_JSON"
fi
run nanoff --filedeployment "$DEPLOY_JSON"
