#!/usr/bin/env bash
# Installs the Debian packages this project needs, if any are missing. Quick when all are there.
# As root it runs apt-get itself; with password-less sudo it uses sudo; otherwise it prints the
# exact command to run and stops, so nothing half-works.
set -euo pipefail

# ninja-build: the learner's loop (a no-op build in ~0.1 s instead of ~0.3 s with make);
# clang-format: `make check` enforces the code style; gnuplot-nox: `make bench` draws charts.
# clang + lld: the katas' compiler and linker (the faster loop); llvm: llvm-symbolizer, which
# puts file:line into ThreadSanitizer's reports; libclang-rt-dev: clang's sanitizer runtimes;
# libomp-dev: OpenMP for clang. g++ stays: clang uses its C++ standard library (libstdc++).
# bubblewrap: the sandbox every test process and every compile of a learner's kata runs in.
# libopenmpi-dev + openmpi-bin: Open MPI's headers and library, and mpirun (lesson 11).
packages=(g++ clang lld llvm libclang-rt-dev libomp-dev make cmake ninja-build git
          libgtest-dev libfmt-dev libtbb-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
          clang-format gnuplot-nox bubblewrap libopenmpi-dev openmpi-bin)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: this is not a Debian-like system; make sure these are installed:" >&2
  echo "  ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
echo "install-deps: missing Debian packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  runner=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  runner=(sudo)
else
  echo "install-deps: I cannot install them without root. Please run:" >&2
  echo "  sudo sh -c '$line'" >&2
  echo "then run make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${runner[@]}" apt-get update -qq
"${runner[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
