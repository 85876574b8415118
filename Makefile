# The two commands of the README: `make demo` (set up, then run the main job) and `make test` (set up, then run all tests).
# Every step is a file target, so a second run does only what changed.
NATIVE := native/build/Release/yolov5_torch.node
IMAGE_NATIVE := native/image/build/Release/yolov5_image.node
TS_SOURCES := $(shell find src -name '*.ts') tsconfig.json
TEST_SOURCES := $(shell find test bench scripts -name '*.ts' 2>/dev/null) tsconfig.test.json

.PHONY: setup demo test bench clean
setup: .stamp-system node_modules/.stamp $(NATIVE) $(IMAGE_NATIVE) dist/.stamp

demo: setup
	node dist/cli/main.js demo

test: setup dist-test/.stamp
	node --test dist-test/test/*.test.js

bench: setup dist-test/.stamp
	node dist-test/bench/engine.js

.stamp-system: scripts/setup-system.sh
	bash scripts/setup-system.sh
	touch $@

node_modules/.stamp: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(NATIVE): node_modules/.stamp $(wildcard native/*.cc native/*.h) native/binding.gyp native/find-libtorch.mjs
	npx node-gyp rebuild --directory native -j 2 --loglevel=warn

$(IMAGE_NATIVE): node_modules/.stamp native/image/image.cc native/image/resample.h native/image/binding.gyp
	npx node-gyp rebuild --directory native/image -j 2 --loglevel=warn

dist/.stamp: node_modules/.stamp $(TS_SOURCES)
	npx tsc -p tsconfig.json
	chmod +x dist/cli/main.js
	touch $@

dist-test/.stamp: dist/.stamp $(TEST_SOURCES)
	npx tsc -p tsconfig.test.json
	touch $@

clean:
	rm -rf dist dist-test native/build native/image/build .stamp-system node_modules/.stamp
