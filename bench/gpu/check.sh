#!/usr/bin/env bash
# The device check, run ON the GPU machine (no network) from the repository root:
#   bash bench/gpu/check.sh [.cache/gpu-bundle/bundle.tar]
# The bundle comes from bench/gpu/pack.sh, run beforehand where the network is (README.md beside
# this file). Prints what it finds about the device on stderr ("[check] ..."), and ONE JSON line on
# stdout comparing CPU and GPU: scoring events/s of a large backbone on ONNX Runtime and the time
# of one DDCL training step on tfjs. A GPU path that cannot start is reported with its reason. The
# whole run stays under 8 minutes: each part has its own timeout, taken from what time is left.
# When $OUT is set (the device tool), the JSON line and the parts' results are also written there.
# GPU_CHECK_ARGS passes shape options to check.js (e.g. "--width 256 --batch 1024");
# GPU_CHECK_BUNDLED_NODE=1 uses the bundled Node even where the machine has one.
set -uo pipefail
T0=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET_S:-460} # seconds for everything; < 8 minutes
cd "$(dirname "$0")/../.."
BUNDLE=${1:-.cache/gpu-bundle/bundle.tar}
log() { echo "[check] $*" >&2; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
die() {
  log "$1"
  printf '{"error":%s}\n' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')"
  exit 1
}

[ -f "$BUNDLE" ] || die "bundle $BUNDLE not found: run bash bench/gpu/pack.sh first and carry it"
command -v xz >/dev/null || die "xz is not installed on this machine (needed to unpack the bundle)"
W=$(mktemp -d "${TMPDIR:-/tmp}/ddcl-gpu-check.XXXXXX")
trap 'rm -rf "$W"' EXIT

# ---- unpack ----
tar -xf "$BUNDLE" -C "$W" || die "cannot read $BUNDLE"
log "bundle: $(cat "$W/MANIFEST.json")"
for p in "$W"/app.tar.xz "$W"/deps-*.tar.xz; do
  xz -dc "$p" | tar -x -C "$W" || die "cannot unpack $(basename "$p")"
done

# ---- node: the machine's own if >= 20, else the bundled Node 24 ----
NODE=
NODE_SRC=
if [ "${GPU_CHECK_BUNDLED_NODE:-0}" != 1 ] && command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]; then
  NODE=$(command -v node)
  NODE_SRC=system
elif ls "$W"/node-*.xz >/dev/null 2>&1; then
  xz -dc "$W"/node-*.xz >"$W/node" && chmod +x "$W/node" && NODE=$W/node && NODE_SRC=bundled
fi
[ -n "$NODE" ] || die "no Node >= 20 on this machine and none in the bundle (pack.sh with GPU_BUNDLE_NODE=1)"
log "node: $("$NODE" --version) ($NODE_SRC, $NODE)"

# ---- the device ----
GPU_NAME=
if command -v nvidia-smi >/dev/null; then
  SMI=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1) || true
  log "nvidia-smi: ${SMI:-no answer}"
  GPU_NAME=$(printf '%s\n' "$SMI" | head -1 | cut -d, -f1)
  case "$GPU_NAME" in *"failed"* | *"NVIDIA-SMI"* | *"not found"* | "") GPU_NAME= ;; esac
  [ -z "$GPU_NAME" ] || GPU_NAME="$GPU_NAME (driver $(printf '%s\n' "$SMI" | head -1 | cut -d, -f2 | tr -d ' '))"
else
  log "nvidia-smi: not installed"
fi
log "driver: $(cat /proc/driver/nvidia/version 2>/dev/null | head -1 || echo 'no /proc/driver/nvidia/version')"
log "device nodes: $(ls /dev/nvidia* /dev/dri/renderD* 2>/dev/null | tr '\n' ' ' || true)"
log "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# ---- Vulkan (for ONNX Runtime's and Dawn's WebGPU): the machine's loader, else the bundled one ----
# The NVIDIA driver's Vulkan part is libGLX_nvidia.so.0 (it needs glvnd's libGLdispatch.so.0) and
# an ICD file naming it; in containers the driver often lives under /usr/local/nvidia.
NVDIRS="/usr/local/nvidia/lib64 /usr/local/nvidia/lib"
syslib() { ldconfig -p 2>/dev/null | grep -q "$1" || ls /usr/lib/x86_64-linux-gnu/"$1" /usr/lib64/"$1" /usr/lib/"$1" >/dev/null 2>&1; }
addlib() { export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; }
for d in $NVDIRS; do
  if [ -e "$d/libGLX_nvidia.so.0" ] && ! syslib libGLX_nvidia.so.0; then addlib "$d"; fi
done
VK_LOADER=system
if ! syslib libvulkan.so.1 || ! syslib libGLdispatch.so.0; then
  addlib "$W/vulkan/usr/lib/x86_64-linux-gnu"
  if syslib libvulkan.so.1; then VK_LOADER="system (bundled glvnd added)"; else VK_LOADER=bundled; fi
fi
hasnv() { syslib libGLX_nvidia.so.0 || for d in $NVDIRS; do [ -e "$d/libGLX_nvidia.so.0" ] && return 0; done; return 1; }
ICDS=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')
NVICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/local/nvidia/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
if ! printf '%s' "$ICDS" | grep -qi nvidia; then
  if [ -n "$NVICD" ]; then
    export VK_DRIVER_FILES="$NVICD" VK_ICD_FILENAMES="$NVICD"
    ICDS="$ICDS(using $NVICD)"
  elif hasnv; then
    # The driver's Vulkan library without an ICD file that points the loader at it: write one.
    mkdir -p "$W/icd"
    echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}' >"$W/icd/nvidia_icd.json"
    export VK_DRIVER_FILES="$W/icd/nvidia_icd.json" VK_ICD_FILENAMES="$W/icd/nvidia_icd.json"
    ICDS="$ICDS(written: nvidia_icd.json -> libGLX_nvidia.so.0)"
  fi
fi
hasnv && NVVK="libGLX_nvidia.so.0 present" || NVVK="no libGLX_nvidia.so.0 (the driver's Vulkan part is not mounted)"
log "vulkan: loader $VK_LOADER; ICDs: ${ICDS:-none}; $NVVK"
export GPU_CHECK_DEVICE="$GPU_NAME" GPU_CHECK_NODE_SRC="$NODE_SRC" GPU_CHECK_VULKAN="loader $VK_LOADER; ICDs: ${ICDS:-none}; $NVVK"

# ---- the parts, each bounded ----
cd "$W/app"
run_part() { # name seconds check.js-arguments...
  local part=$1 secs=$2 rc
  shift 2
  log "$part part: up to ${secs} s"
  # shellcheck disable=SC2086 # GPU_CHECK_ARGS is a list of options
  timeout -k 10 "$secs" "$NODE" dist/bench/gpu/check.js "$@" --out "$W/$part.json" ${GPU_CHECK_ARGS:-} 2>"$W/$part.log"
  rc=$?
  tail -n 5 "$W/$part.log" | sed -E "/^\[check\] /!s/^/[check] $part: /" >&2
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "timed out after ${secs} s"; elif [ $rc -ne 0 ]; then echo "exited with $rc: $( (grep -m1 '^\[check\] failed' "$W/$part.log" || tail -n1 "$W/$part.log") | cut -c1-300)"; fi
}
cap() { if [ "$1" -gt "$2" ]; then echo "$2"; elif [ "$1" -lt 10 ]; then echo 10; else echo "$1"; fi; }
CPU_SECS=$(cap $(($(left) / 3)) 180)
export GPU_CHECK_CPU_WHY="$(run_part cpu "$CPU_SECS" --part cpu)"
SERVE_SECS=$(cap $((($(left) - 20) / 2)) 150)
export GPU_CHECK_GPU_SERVE_WHY="$(run_part gpu-serve "$SERVE_SECS" --part gpu --only serve)"
TRAIN_SECS=$(cap $(($(left) - 20)) 300)
export GPU_CHECK_GPU_TRAIN_WHY="$(run_part gpu-train "$TRAIN_SECS" --part gpu --only train)"
LINE=$(timeout 15 "$NODE" dist/bench/gpu/check.js --merge "$W/cpu.json" "$W/gpu-serve.json" "$W/gpu-train.json") ||
  die "merging the results failed"
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
  printf '%s\n' "$LINE" >"$OUT/gpu-check.json"
  for f in cpu gpu-serve gpu-train; do cp "$W/$f.json" "$W/$f.log" "$OUT/" 2>/dev/null || true; done
fi
log "done in $(($(date +%s) - T0)) s"
printf '%s\n' "$LINE"
