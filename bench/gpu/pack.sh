#!/usr/bin/env bash
# Builds the device check's bundle (bench/gpu/README.md): everything bench/gpu/check.sh needs on a
# GPU machine with no network, in one file under 64 MiB:
#   .cache/gpu-bundle/bundle.tar  =  app.tar.xz   the compiled check (tsc) and its package.json
#                                    deps-*.tar.xz a slim node_modules (only what the check loads)
#                                                  + the Vulkan loader and glvnd (Debian
#                                                    libvulkan1, libglvnd0, libglx0)
#                                    node-*.xz     a stripped Node 24 binary (npm `node` package),
#                                                  used only where the machine has no Node >= 20
# Run here (with network for the first run: npm and apt-get download into .cache only), from the
# repository root:  bash bench/gpu/pack.sh      (GPU_BUNDLE_NODE=0 leaves the Node binary out)
# The slow pieces (deps, node) are cached under .cache/gpu-bundle/pieces/ and rebuilt only when
# their inputs change. Nothing is installed into the project.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.cache/gpu-bundle
PIECES=$OUT/pieces
SCRATCH=$ROOT/.cache/gpu-scratch # tfjs-backend-webgpu + webgpu (Dawn), npm install --no-save
NODEDIR=$ROOT/.cache/gpu-node     # node@24 from the npm `node` package
DEBS=$ROOT/.cache/gpu-debs
LIMIT=$((64 * 1024 * 1024))
XZ="xz -T2 -6"
INCLUDE_NODE=${GPU_BUNDLE_NODE:-1}
WEBGPU_VERSION=4.22.0 # = the project's @tensorflow/tfjs
DAWN_VERSION=0.6.2
NODE_MAJOR=24
mkdir -p "$PIECES"
log() { echo "[pack] $*" >&2; }

# ---- 1. optional packages, in scratch folders (never the project's package.json) ----
if [ ! -f "$SCRATCH/node_modules/@tensorflow/tfjs-backend-webgpu/package.json" ] || [ ! -f "$SCRATCH/node_modules/webgpu/package.json" ]; then
  log "installing @tensorflow/tfjs-backend-webgpu@$WEBGPU_VERSION and webgpu@$DAWN_VERSION into $SCRATCH"
  mkdir -p "$SCRATCH"
  [ -f "$SCRATCH/package.json" ] || echo '{"name":"gpu-scratch","private":true}' >"$SCRATCH/package.json"
  (cd "$SCRATCH" && npm install --no-save --no-audit --no-fund --ignore-scripts \
    "@tensorflow/tfjs-backend-webgpu@$WEBGPU_VERSION" "@tensorflow/tfjs-core@$WEBGPU_VERSION" "webgpu@$DAWN_VERSION" >&2)
fi
if [ "$INCLUDE_NODE" = 1 ] && [ ! -x "$NODEDIR/node_modules/node/bin/node" ]; then
  log "installing node@$NODE_MAJOR into $NODEDIR"
  mkdir -p "$NODEDIR"
  [ -f "$NODEDIR/package.json" ] || echo '{"name":"gpu-node","private":true}' >"$NODEDIR/package.json"
  (cd "$NODEDIR" && npm install --no-save --no-audit --no-fund "node@$NODE_MAJOR" >&2)
fi
# The Vulkan loader, and glvnd's libGLdispatch/libGLX that the NVIDIA driver's Vulkan library needs.
VK_DEBS="libvulkan1 libglvnd0 libglx0"
for pkg in $VK_DEBS; do
  if ! ls "$DEBS/${pkg}"_*.deb >/dev/null 2>&1; then
    log "downloading the Debian $pkg package into $DEBS"
    mkdir -p "$DEBS"
    (cd "$DEBS" && apt-get download "$pkg" >&2)
  fi
done

# ---- 2. the app: tsc output of bench/gpu/check.ts and what it imports, nothing else ----
STAGE=$OUT/stage
rm -rf "$STAGE" && mkdir -p "$STAGE/app"
cat >"$OUT/tsconfig.json" <<'EOF'
{
  "extends": "../../tsconfig.json",
  "compilerOptions": { "outDir": "./stage/app/dist", "rootDir": "../..", "sourceMap": false },
  "include": [],
  "files": ["../../bench/gpu/check.ts"]
}
EOF
log "compiling bench/gpu/check.ts"
npx tsc -p "$OUT/tsconfig.json"
test -f "$STAGE/app/dist/bench/gpu/check.js"
echo '{"name":"ddcl-gpu-check","private":true,"type":"module"}' >"$STAGE/app/package.json"
git rev-parse --short HEAD >"$STAGE/app/COMMIT" 2>/dev/null || echo unknown >"$STAGE/app/COMMIT"
(cd "$STAGE" && tar -cf - app | $XZ >"$PIECES/app.tar.xz")

# ---- 3. deps: a slim node_modules and the Vulkan loader (cached by their versions) ----
ver() { node -p "require('$1/package.json').version" 2>/dev/null || echo none; }
NM=$ROOT/node_modules
SNM=$SCRATCH/node_modules
KEY=$( (
  for p in @tensorflow/tfjs @tensorflow/tfjs-core onnxruntime-node onnxruntime-common; do echo "$p $(ver "$NM/$p")"; done
  echo "webgpu-backend $(ver "$SNM/@tensorflow/tfjs-backend-webgpu") dawn $(ver "$SNM/webgpu")"
  for pkg in $VK_DEBS; do ls "$DEBS/${pkg}"_*.deb; done
  sed -n '/^# ---- 3\./,/^# ---- 4\./p' "$0"
) | sha256sum | cut -c1-12)
DEPS=$PIECES/deps-$KEY.tar.xz
if [ ! -f "$DEPS" ]; then
  log "building the slim node_modules ($DEPS)"
  D=$OUT/deps-stage
  rm -rf "$D" && mkdir -p "$D/app/node_modules" "$D/vulkan"
  T=$D/app/node_modules
  # A package with only its package.json and the files named (paths inside the package).
  slim() {
    local src=$1 name=$2
    shift 2
    mkdir -p "$T/$name"
    cp "$src/$name/package.json" "$T/$name/"
    for f in "$@"; do
      mkdir -p "$T/$name/$(dirname "$f")"
      cp -r "$src/$name/$f" "$T/$name/$f"
    done
  }
  whole() { mkdir -p "$T/$(dirname "$2")" && cp -r "$1/$2" "$T/$2"; }
  # tfjs: each package's single Node bundle (its package.json "main"), no sources or browser builds.
  for p in tfjs:tf tfjs-core:tf-core tfjs-backend-cpu:tf-backend-cpu tfjs-backend-webgl:tf-backend-webgl \
    tfjs-layers:tf-layers tfjs-converter:tf-converter tfjs-data:tf-data; do
    slim "$NM" "@tensorflow/${p%%:*}" "dist/${p#*:}.node.js"
  done
  slim "$NM" @tensorflow/tfjs-backend-wasm dist/tf-backend-wasm.node.js dist/tfjs-backend-wasm.wasm \
    dist/tfjs-backend-wasm-simd.wasm dist/tfjs-backend-wasm-threaded-simd.wasm
  slim "$SNM" @tensorflow/tfjs-backend-webgpu dist/tf-backend-webgpu.node.js
  for p in seedrandom long node-fetch whatwg-url tr46 webidl-conversions string_decoder safe-buffer onnxruntime-common; do
    whole "$NM" "$p"
  done
  # onnxruntime-node: the JS and this platform's binding only (the package ships every platform).
  slim "$NM" onnxruntime-node dist
  mkdir -p "$T/onnxruntime-node/bin"
  for napi in "$NM"/onnxruntime-node/bin/napi-v*; do
    mkdir -p "$T/onnxruntime-node/bin/$(basename "$napi")/linux"
    cp -r "$napi/linux/x64" "$T/onnxruntime-node/bin/$(basename "$napi")/linux/"
  done
  # webgpu (Dawn): its index.js and the linux-x64 dawn.node, with debug and ms.
  slim "$SNM" webgpu index.js dist/linux-x64
  whole "$SNM" debug
  whole "$SNM" ms
  find "$T" -name '*.map' -delete
  find "$T" -name '*.d.ts' -delete
  # The Vulkan loader (libvulkan.so.1) and glvnd, from Debian's packages, unpacked (no install).
  for pkg in $VK_DEBS; do dpkg -x "$(ls "$DEBS/${pkg}"_*.deb | head -1)" "$D/vulkan"; done
  rm -rf "$D/vulkan/usr/share"
  rm -f "$PIECES"/deps-*.tar.xz
  (cd "$D" && tar -cf - app vulkan | $XZ >"$DEPS.part" && mv "$DEPS.part" "$DEPS")
  log "deps: $(du -sh "$D" | cut -f1) unpacked, $(du -h "$DEPS" | cut -f1) as xz"
  rm -rf "$D"
fi
# ---- 4. node ----
NODEXZ=
if [ "$INCLUDE_NODE" = 1 ]; then
  NV=$("$NODEDIR/node_modules/node/bin/node" --version)
  NODEXZ=$PIECES/node-$NV.xz
  if [ ! -f "$NODEXZ" ]; then
    log "stripping and compressing node $NV (a few minutes on 2 cores)"
    cp "$NODEDIR/node_modules/node/bin/node" "$OUT/node.tmp"
    strip "$OUT/node.tmp" 2>/dev/null || true
    rm -f "$PIECES"/node-*.xz
    $XZ -c "$OUT/node.tmp" >"$NODEXZ.part" && mv "$NODEXZ.part" "$NODEXZ"
    rm -f "$OUT/node.tmp"
  fi
fi

# ---- 5. the bundle: one uncompressed tar of the compressed pieces ----
(
  cd "$PIECES"
  {
    echo "{\"commit\":\"$(cat "$STAGE/app/COMMIT")\",\"deps\":\"$(basename "$DEPS")\",\"node\":\"$(basename "${NODEXZ:-none}")\",\"built\":\"$(date -u +%FT%TZ)\"}"
  } >MANIFEST.json
  files=(MANIFEST.json app.tar.xz "$(basename "$DEPS")")
  [ -n "$NODEXZ" ] && files+=("$(basename "$NODEXZ")")
  tar -cf "$OUT/bundle.tar" "${files[@]}"
)
rm -rf "$STAGE"
SIZE=$(stat -c %s "$OUT/bundle.tar")
log "pieces: $(cd "$PIECES" && ls -l --block-size=K app.tar.xz "$(basename "$DEPS")" ${NODEXZ:+"$(basename "$NODEXZ")"} | awk '{print $NF" "$5}' | tr '\n' ' ')"
echo "bundle: .cache/gpu-bundle/bundle.tar $SIZE bytes ($((SIZE / 1024 / 1024)) MiB; limit 64 MiB)"
if [ "$SIZE" -gt "$LIMIT" ]; then
  echo "bundle is over 64 MiB: rerun with GPU_BUNDLE_NODE=0 (the machine must then have Node >= 20)" >&2
  exit 1
fi
