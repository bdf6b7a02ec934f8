#!/usr/bin/env bash
# Installs the OS packages Nära needs on Debian/Ubuntu: the PostgreSQL server
# binaries (for the embedded cluster) with contrib (pg_trgm); with --chromium
# also Chromium, in which the web SDK's example page is tested (make
# sdk-test-web asks for it; CHROMIUM names another binary).
# With --check it only reports what is missing and installs it when it can.
set -euo pipefail

chromium=false
for arg in "$@"; do
	if [[ "$arg" == --chromium ]]; then
		chromium=true
	fi
done

have_postgres() {
	command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

have_chromium() {
	[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]]
}

packages=()
if ! have_postgres; then
	packages+=(postgresql postgresql-contrib)
fi
if $chromium && ! have_chromium; then
	packages+=(chromium)
fi
if [[ ${#packages[@]} -eq 0 ]]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "missing: ${packages[*]}; install PostgreSQL 15 or newer (or set DATABASE_URL) and Chromium (or set CHROMIUM to its binary)." >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "installing ${packages[*]} (apt-get install)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
