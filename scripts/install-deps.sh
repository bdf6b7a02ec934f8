#!/usr/bin/env bash
# Installs the OS packages Nära needs on Debian/Ubuntu: the PostgreSQL server
# binaries (for the embedded cluster) with contrib (pg_trgm).
# With --check it only reports what is missing and installs it when it can.
set -euo pipefail

have_postgres() {
	command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if have_postgres; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "PostgreSQL server binaries are missing; install PostgreSQL 15 or newer, or set DATABASE_URL." >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "installing PostgreSQL server binaries (apt-get install postgresql postgresql-contrib)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
