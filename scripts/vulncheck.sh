#!/usr/bin/env bash
# Runs govulncheck (the tool in go.mod) against a vulnerability database built
# from the golang.org/x/vulndb module, which the Go module proxy serves: the
# usual database server may be out of reach, and a pinned database gives the
# same answer on every machine. Raise VULNDB_VERSION to take in newer reports.
#
# It fails when our code reaches a vulnerable function of a module we
# require: upgrade that module (go get module@fixed). Vulnerabilities in the
# standard library are the Go toolchain's: they are listed, and fail the
# check only with VULNCHECK_STDLIB=1.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
db=".build/vulndb/$version"
mkdir -p .build/vulndb
if [ ! -f "$db/index/db.json" ]; then
	dir=$(go mod download -json "golang.org/x/vulndb@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	rm -rf "$db.tmp"
	go run "golang.org/x/vulndb/cmd/indexdb@${version}" -vulns "$dir/data/osv" -out "$db.tmp"
	mv "$db.tmp" "$db"
fi
go tool govulncheck -db "file://$PWD/$db" -format json ./... > .build/vulncheck.json
python3 - .build/vulncheck.json "${VULNCHECK_STDLIB:-0}" <<'PY'
import json, sys

# govulncheck -format json writes a stream of objects; a finding whose first
# frame names a function is one our code calls.
text, stdlib_fails = open(sys.argv[1]).read(), sys.argv[2] == "1"
dec, i, summaries, called = json.JSONDecoder(), 0, {}, {}
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    obj, i = dec.raw_decode(text, i)
    if "osv" in obj:
        summaries[obj["osv"]["id"]] = obj["osv"].get("summary", "")
    f = obj.get("finding")
    if f and f.get("trace") and f["trace"][0].get("function"):
        top = f["trace"][0]
        called[(f["osv"], top["module"])] = (top.get("version", ""), f.get("fixed_version", ""))
bad = 0
for (osv, module), (version, fixed) in sorted(called.items()):
    stdlib = module == "stdlib"
    bad += not stdlib or stdlib_fails
    kind = "toolchain" if stdlib else "MODULE"
    print(f"{kind}: {osv} in {module}@{version}, fixed in {fixed or 'no release'}: {summaries.get(osv, '')}")
print(f"govulncheck: {len(called)} reachable vulnerabilities, {bad} failing the check")
sys.exit(1 if bad else 0)
PY
