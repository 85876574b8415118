#!/usr/bin/env bash
# The npm package end to end, as a user gets it: `npm pack`, `npm install ./yolov5-ts-x.y.z.tgz` into an empty
# folder (the install step builds the image addon, and the libtorch addon against the libtorch found here), then
# `npx yolov5` from there: export a .pt to ONNX, detect with the ONNX model, and check the boxes. Then the same
# package rebuilt where no libtorch is found: the image addon is still built, ONNX detection gives the same boxes
# and a .pt model fails with one line saying what is missing. Last without the image addon: the same boxes again,
# pre-processed in JS. Needs the npm registry (or npm's cache) for the package's dependencies. Takes a few minutes
# (the addon builds).
#
#   scripts/package-check.sh WEIGHTS.pt IMAGE       (CI: test/fixtures/yolov5n.pt test/fixtures/images/bus.jpg)
set -euo pipefail
weights=$(realpath "${1:?usage: $0 WEIGHTS.pt IMAGE}")
image=$(realpath "${2:?usage: $0 WEIGHTS.pt IMAGE}")
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }
fail() { echo "package-check: $1" >&2; exit 1; }

step 'npm pack'
npm pack --pack-destination "$work" --loglevel=warn >/dev/null
tgz=$(ls "$work"/yolov5-ts-*.tgz)
ls -l "$tgz"

step "npm install $(basename "$tgz") into an empty folder"
mkdir "$work/app"
cd "$work/app"
echo '{ "name": "app", "private": true }' >package.json
# onnxruntime-node's own install would download GPU binaries; its CPU binaries come inside its npm package.
ONNXRUNTIME_NODE_INSTALL=skip npm install "$tgz" --no-audit --no-fund --prefer-offline --foreground-scripts --loglevel=warn
[ -f node_modules/yolov5-ts/native/build/Release/yolov5_torch.node ] || fail 'the install step did not build the libtorch addon'
[ -f node_modules/yolov5-ts/native/image/build/Release/yolov5_image.node ] || fail 'the install step did not build the image addon'
cp "$weights" model.pt
source_image="image.${image##*.}"
cp "$image" "$source_image"

step 'npx yolov5 export (libtorch, through the addon built at install)'
npx --no-install yolov5 export --weights model.pt --img 320 --output model.onnx

step 'npx yolov5 detect with the ONNX model'
npx --no-install yolov5 detect --weights model.onnx --source "$source_image" --img 320 --save-txt --project runs --name onnx | tee detect.log
labels="runs/onnx/labels/image.txt"
[ -s "$labels" ] || fail "no detections written to $labels"
echo "$(wc -l <"$labels") boxes"

step 'the same package rebuilt without libtorch: the image addon is built, ONNX works, a .pt model says what is missing'
mv node_modules/yolov5-ts/native/build "$work/addon-aside"
LIBTORCH="$work/no-libtorch" npm rebuild yolov5-ts --foreground-scripts --loglevel=warn | tee rebuild.log
grep -q '^yolov5-ts: the image addon is built' rebuild.log || fail 'the image addon was not built without libtorch'
[ ! -e node_modules/yolov5-ts/native/build ] || fail 'a libtorch addon was built without libtorch'
npx --no-install yolov5 detect --weights model.onnx --source "$source_image" --img 320 --save-txt --project runs --name no-addon >/dev/null
cmp -s "$labels" runs/no-addon/labels/image.txt || fail 'ONNX detections differ without the libtorch addon'
if npx --no-install yolov5 detect --weights model.pt --source "$source_image" --project runs --name pt 2>err.txt; then fail 'a .pt model ran without the addon'; fi
cat err.txt
grep -q '^yolov5: yolov5-ts: this needs libtorch' err.txt || fail 'no clear error for a .pt model without the addon'
! grep -q '^ *at ' err.txt || fail 'a stack trace was printed'

step 'and without the image addon: pre-processed in JS, the same boxes'
mv node_modules/yolov5-ts/native/image/build "$work/image-addon-aside"
npx --no-install yolov5 detect --weights model.onnx --source "$source_image" --img 320 --save-txt --project runs --name js-preprocess >/dev/null
cmp -s "$labels" runs/js-preprocess/labels/image.txt || fail 'ONNX detections differ with JS pre-processing'

step "package check passed"
