#!/usr/bin/env bash
# Publishes the Raspberry Pi app (src/XnorEdge.Pi) for linux-arm64, copies it to the Pi with scp and installs
# and starts its systemd unit (src/XnorEdge.Pi/xnoredge.service), as src/XnorEdge.Pi/README.md describes by hand.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
source "$HERE/common.sh"

usage() {
    cat <<'USAGE'
usage: pi-deploy.sh --host USER@PI [--model MODEL.xnor] [--project DIR] [--install-dotnet] [--no-start] [--dry-run]

Publishes src/XnorEdge.Pi (dotnet publish -c Release -r linux-arm64, framework-dependent), copies it to
/opt/xnoredge on the Pi, creates the service user xnoredge (groups gpio, video) if it is missing, installs the
app's unit xnoredge.service and enables and starts it.
  --host            ssh destination of the Pi (key-based login and sudo rights assumed)
  --model           a model to install as /opt/xnoredge/models/fashion-mnist/model.xnor, where the app looks
                    without --model (default: the shipped model the publish output already carries)
  --project         the app's project directory (default src/XnorEdge.Pi)
  --install-dotnet  first install the .NET 8 runtime to /opt/dotnet on the Pi (Microsoft's dotnet-install.sh)
  --no-start        install the unit but do not enable or start it (edit ExecStart first, e.g. for a webcam)
  --dry-run         print the commands instead of running them
USAGE
}

HOST=""
MODEL=""
PROJECT="$REPO/src/XnorEdge.Pi"
INSTALL_DOTNET=0
START=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --host) [[ $# -ge 2 ]] || die_usage "--host needs a value"; HOST="$2"; shift 2 ;;
        --model) [[ $# -ge 2 ]] || die_usage "--model needs a value"; MODEL="$2"; shift 2 ;;
        --project) [[ $# -ge 2 ]] || die_usage "--project needs a value"; PROJECT="$2"; shift 2 ;;
        --install-dotnet) INSTALL_DOTNET=1; shift ;;
        --no-start) START=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$HOST" ]] || die_usage "--host is required"
[[ "$HOST" =~ ^[A-Za-z0-9._@-]+$ ]] || die_usage "--host must be a plain [user@]host"
if [[ "$DRY_RUN" -eq 0 ]]; then
    [[ -f "$PROJECT/XnorEdge.Pi.csproj" ]] || die "$PROJECT: no XnorEdge.Pi.csproj (the Pi app lives in src/XnorEdge.Pi)"
    [[ -z "$MODEL" || -f "$MODEL" ]] || die "$MODEL: no such model file"
fi
need dotnet "the .NET SDK 8 or later, https://dot.net"
need ssh "OpenSSH"
need scp "OpenSSH"
if [[ -n "$MODEL" ]] && command -v xnoredge >/dev/null 2>&1; then
    run xnoredge inspect "$MODEL" >/dev/null
fi

OUT="$REPO/build/pi"
STAGE="/tmp/xnoredge"
DEST="/opt/xnoredge"

run dotnet publish "$PROJECT" -c Release -r linux-arm64 --self-contained false -o "$OUT"
if [[ "$INSTALL_DOTNET" -eq 1 ]]; then
    run ssh "$HOST" "curl -sSL https://dot.net/v1/dotnet-install.sh | sudo bash /dev/stdin --channel 8.0 --runtime dotnet --install-dir /opt/dotnet && sudo ln -sf /opt/dotnet/dotnet /usr/local/bin/dotnet"
fi
run ssh "$HOST" "rm -rf $STAGE && mkdir -p $STAGE/models/fashion-mnist"
run scp -r "$OUT/." "$HOST:$STAGE/"
if [[ -n "$MODEL" ]]; then
    run scp "$MODEL" "$HOST:$STAGE/models/fashion-mnist/model.xnor"
fi
run ssh "$HOST" "sudo mkdir -p $DEST && sudo cp -r $STAGE/. $DEST/ && rm -rf $STAGE"
run ssh "$HOST" "id -u xnoredge >/dev/null 2>&1 || sudo useradd --system --no-create-home --shell /usr/sbin/nologin --groups gpio,video xnoredge"
if [[ "$START" -eq 1 ]]; then
    run ssh "$HOST" "sudo cp $DEST/xnoredge.service /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now xnoredge && systemctl --no-pager status xnoredge"
else
    run ssh "$HOST" "sudo cp $DEST/xnoredge.service /etc/systemd/system/ && sudo systemctl daemon-reload"
fi
