#!/usr/bin/env bash
# Install what building and testing carafe needs, only where it is missing.
# Safe to run again: it checks before it installs. Debian packages are
# installed only when we are root (CI and fresh machines are).
set -euo pipefail
python=${1:-python3}

need=()
command -v gcc >/dev/null || need+=(gcc)
# Go is not Debian's golang-go, which is older than go.mod asks for (1.19
# on bookworm): say which Go is needed rather than install one that fails.
want=$(awk '$1 == "go" {print $2; exit}' "$(dirname "$0")/../go.mod")
have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || have=""
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
  echo "carafe: Go $want or newer is needed on the PATH (found: ${have:-none}); Debian's golang-go is older: install it from https://go.dev/dl/" >&2
  exit 1
fi
command -v "$python" >/dev/null || need+=(python3 python3-venv python3-dev)
if command -v "$python" >/dev/null; then
  inc=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [ -f "$inc/Python.h" ] || need+=(python3-dev)
  "$python" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
fi
# Extra Debian packages a caller needs (make integration: the nginx and
# apache2 the deployment tests run). "installed" is the package's status,
# not merely known to dpkg: a removed package keeps its config files.
for extra in ${CARAFE_DEBS:-}; do
  status=$(dpkg-query -W -f='${Status}' "$extra" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || need+=("$extra")
done

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "carafe: missing Debian packages: ${need[*]} (run as root or install them)" >&2
  exit 1
fi
echo "carafe: installing ${need[*]}"
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
