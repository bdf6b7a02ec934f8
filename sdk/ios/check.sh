#!/usr/bin/env bash
# check.sh: runs verify.py with its pinned tools (tree-sitter-swift, PyYAML)
# from .venv, created on first use from requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv/bin/python || requirements.txt -nt .venv/.installed ]]; then
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch .venv/.installed
fi
exec .venv/bin/python verify.py "$@"
