#!/usr/bin/env bash
# with-server.sh COMMAND [ARGS...]
#
# Builds the server, starts it with demo data and an embedded PostgreSQL on a
# free loopback port, waits until the gRPC health check says SERVING, runs
# COMMAND with NARA_URL set to the server's base URL, and stops the server
# with SIGTERM. The exit status is COMMAND's.
#
# When NARA_URL is already set, COMMAND runs against that server instead, so
# that one server can serve several test suites. NARA_BIN names a server
# binary to use instead of building ./cmd/nara.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 2
fi
if [[ -n "${NARA_URL:-}" ]]; then
	exec "$@"
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nara-sdk.XXXXXX")
# PostgreSQL runs as an unprivileged user when we are root; it must reach
# its data folder.
chmod 0755 "$tmp"
server_pid=""

cleanup() {
	local status=$?
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			echo "with-server: server did not stop within 10 s; killing it" >&2
			kill -KILL "$server_pid" 2>/dev/null || true
		fi
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ $status -ne 0 && -f "$tmp/server.log" ]]; then
		echo "with-server: last lines of the server log:" >&2
		tail -n 40 "$tmp/server.log" >&2 || true
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin="${NARA_BIN:-}"
if [[ -z "$bin" ]]; then
	bin="$tmp/nara"
	(cd "$root" && go build -o "$bin" ./cmd/nara)
fi

# Ask the kernel for a free port, then hand it to the server. Another process
# could take it in between; the health wait below then fails loudly.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
url="http://127.0.0.1:$port"

mkdir -m 0755 "$tmp/data"
# Metrics are off: the suites do not read them, and their fixed port could
# be taken by another server on the machine.
"$bin" serve --demo --addr "127.0.0.1:$port" --metrics-addr= --data-dir "$tmp/data" >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + ${NARA_START_TIMEOUT:-90}))
until curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' \
	"$url/grpc.health.v1.Health/Check" 2>/dev/null | grep -q '"SERVING"'; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "with-server: the server exited before it became healthy" >&2
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		echo "with-server: the server was not healthy within ${NARA_START_TIMEOUT:-90} s" >&2
		exit 1
	fi
	sleep 0.2
done
echo "with-server: serving on $url" >&2

NARA_URL="$url" "$@"
