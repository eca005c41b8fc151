#!/usr/bin/env bash
# Install the system packages OneMap needs, only those missing (Debian/Ubuntu, apt-get).
# Fast when everything is there: it only looks.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-system: not root and no sudo; install the packages below by hand" >&2
  fi
fi

need=()
pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

[ -n "$(pg_major)" ] || need+=(postgresql)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v npm >/dev/null || need+=(nodejs npm)
command -v runuser >/dev/null || need+=(util-linux)
for extra in "$@"; do
  case "$extra" in
    gdal) command -v ogrinfo >/dev/null || need+=(gdal-bin) ;;
    chromium) [ -x /usr/bin/chromium ] || need+=(chromium)
      # a Chinese font, so the console's labels read in the browser tests' screenshots
      [ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk) ;;
    wrk) command -v wrk >/dev/null || need+=(wrk) ;;
  esac
done

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    $SUDO apt-get update -q
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@"
}

if [ ${#need[@]} -gt 0 ]; then
  echo "install-system: installing ${need[*]}"
  apt_install "${need[@]}"
fi

major="$(pg_major)"
if [ ! -e "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  echo "install-system: installing PostGIS for PostgreSQL $major"
  apt_install "postgresql-$major-postgis-3"
fi
