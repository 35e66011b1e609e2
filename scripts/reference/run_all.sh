#!/usr/bin/env bash
# Regenerates every test/reference/*.json from the PyTorch generators in this folder.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
"$PY" -c "import torch" 2>/dev/null || { echo "needs PyTorch: apt-get install -y python3-torch" >&2; exit 1; }
for f in *.py; do
  [ "$f" = common.py ] && continue
  "$PY" "$f"
done
