# Shared by the flash scripts (sourced, not run). Bash, set -euo pipefail in the callers.

DRY_RUN=0

# Prints a command as one shell-quoted line; runs it unless --dry-run.
run() {
    local quoted=()
    local arg
    for arg in "$@"; do quoted+=("$(printf '%q' "$arg")"); done
    echo "+ ${quoted[*]}"
    if [[ "$DRY_RUN" -eq 0 ]]; then
        "$@"
    fi
}

die_usage() {
    echo "error: $1" >&2
    echo >&2
    usage >&2
    exit 2
}

die() {
    echo "error: $1" >&2
    exit 1
}

# Needs a tool on the PATH, except in a dry run (which only prints).
need() {
    if [[ "$DRY_RUN" -eq 0 ]] && ! command -v "$1" >/dev/null 2>&1; then
        die "$1 is not installed ($2)"
    fi
}

NANOFF_HINT="install it with: dotnet tool install -g nanoff"

# Board id (as in xnoredge simulate --target) -> nanoFramework firmware name.
firmware_of() {
    case "$1" in
        esp32) echo "ESP32_REV3" ;;
        esp32-psram) echo "ESP32_PSRAM_REV3" ;;
        esp32-s3) echo "ESP32_S3_OCTAL" ;;
        stm32f769) echo "ST_STM32F769I_DISCOVERY" ;;
        *) return 1 ;;
    esac
}

# The STM32F769I-DISCO's deployment region (nf-interpreter targets/ChibiOS/ST_STM32F769I_DISCOVERY: STM32F76xx_CLR.ld).
STM32F769_DEPLOYMENT_ADDRESS="0x080C0000"
