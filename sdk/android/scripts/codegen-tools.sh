#!/bin/sh
# Makes sure target/codegen holds protoc and protoc-gen-connect-kotlin, the
# generators buf.gen.yaml runs for Android, fetching them from Maven Central
# with `mvn dependency:copy@codegen-tools` when they are missing. buf starts
# plugins in parallel, so one fetch runs at a time behind a lock folder.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/target/codegen"
ready() { [ -x "$dir/protoc" ] && [ -f "$dir/protoc-gen-connect-kotlin.jar" ]; }
ready && exit 0

mkdir -p "$root/target"
lock="$root/target/codegen.lock"
waited=0
until mkdir "$lock" 2>/dev/null; do
	if [ "$waited" -ge 600 ]; then
		echo "codegen-tools: $lock has been held for 5 minutes; remove it if no fetch is running" >&2
		exit 1
	fi
	sleep 0.5
	waited=$((waited + 1))
done
trap 'rmdir "$lock"' EXIT INT TERM
if ! ready; then
	mvn -B -q -f "$root/pom.xml" dependency:copy@codegen-tools >&2
	chmod +x "$dir/protoc"
fi
