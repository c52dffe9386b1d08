#!/usr/bin/env bash
# What the editor tests need beyond `npm ci`, installed idempotently (CI and a fresh machine):
#  - Debian: Chromium (the browser the real VS Code runs in), libkrb5-dev (to build code-server's
#    native modules), Neovim (the second LSP client), GNU time (peak memory in corpus runs);
#  - npm: Node 24 and code-server 4.139 (VS Code 1.139) under .vscode-test/ (scripts/vscode/setup.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in chromium libkrb5-dev neovim time; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
node scripts/vscode/setup.mjs
# The Linux 6.12 driver sources the real-bug test reads (Debian's linux-source-6.12, extracted
# outside the repository; nothing from the kernel is committed).
bash scripts/kernel-source.sh
