#!/usr/bin/env bash
# check.sh validate|contract
#
#   validate  check gen/nara.openapi.yaml against the OpenAPI 3.1 schema
#   contract  run schemathesis against the server at NARA_URL
#
# Both use the pinned tools in .venv (requirements.txt), created on first use.
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x .venv/bin/schemathesis || requirements.txt -nt .venv/.installed ]]; then
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch .venv/.installed
fi

case "${1:-}" in
validate)
	.venv/bin/openapi-spec-validator gen/nara.openapi.yaml
	;;
contract)
	: "${NARA_URL:?NARA_URL is not set: run through sdk/scripts/with-server.sh}"
	export NARA_SCHEMATHESIS_SEED="${NARA_SCHEMATHESIS_SEED:-20260101}"
	export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
	.venv/bin/schemathesis --config-file schemathesis.toml run gen/nara.openapi.yaml \
		--url "$NARA_URL" --seed "$NARA_SCHEMATHESIS_SEED" --no-color \
		--report junit --report-junit-path "${NARA_SCHEMATHESIS_REPORT:-.venv/schemathesis-junit.xml}"
	;;
*)
	echo "usage: $0 validate|contract" >&2
	exit 2
	;;
esac
