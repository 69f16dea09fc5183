#!/usr/bin/env bash
# Installs every Debian package tessera's build, demo and tests need. Idempotent: packages
# already present are skipped, so running it twice is cheap.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  binutils                # objdump/nm: the test that only the ISA kernel files use AVX (tests/layout)
  ccache                  # rebuilds (and CI after a local build) skip unchanged files
  clang-tidy              # make lint
  nlohmann-json3-dev      # config.json, safetensors headers, tokenizer.json, API bodies
  libcpp-httplib-dev      # OpenAI-compatible HTTP server
  libcli11-dev            # command-line parsing
  libfmt-dev              # formatting
  libpcre2-dev            # tokenizer pre-split regex with Unicode properties
  libutf8proc-dev         # NFC normalisation
  libgtest-dev libgmock-dev  # unit tests
  libbenchmark-dev        # kernel microbenchmarks
  openmpi-bin libopenmpi-dev # tensor parallelism across processes and machines
  python3-numpy           # independent reference forward pass and checkpoint generator
  python3-jinja2          # chat-template oracle in tests
  curl nodejs             # HTTP API tests (curl, the official openai npm client)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm ships with the NodeSource nodejs package on some machines and as Debian's npm elsewhere.
command -v npm >/dev/null 2>&1 || { $SUDO apt-get install -y -qq --no-install-recommends npm; }
echo "setup: all ${#PACKAGES[@]} packages present"
