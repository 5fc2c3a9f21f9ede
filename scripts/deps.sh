#!/usr/bin/env bash
# Install what building and testing carafe needs, only where it is missing.
# Safe to run again: it checks before it installs. Debian packages are
# installed only when we are root (CI and fresh machines are).
set -euo pipefail
python=${1:-python3}

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v go >/dev/null || need+=(golang-go)
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
