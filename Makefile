# Entry points; the real build is CMake (CMakeLists.txt).
#   make run    install deps, build the binary and the dashboard, run
#               `volsurf serve` on its embedded simulated market (port 8080)
#   make test   install deps, build with -Werror, run every test suite
#   make asan   the whole suite under AddressSanitizer + UBSan
#   make tsan   the whole suite under ThreadSanitizer (a reported race fails it)
#   make web    build the dashboard (web/dist; npm ci from the lock file when needed)
#   make web-test  Vitest + the Playwright end-to-end test of the dashboard
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build run sample test asan tsan bench clean format web web-test

deps:
	./scripts/setup-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The embedded default: the built-in simulator (BTC, ETH, SOL_USDC, XRP_USDC
# on the Deribit wire protocol, loopback), the Deribit connector, calibration
# of each surface as its quote burst lands (at most 100 ms after its oldest
# new quote), dashboard + stream on http://localhost:$(PORT)/.  Ctrl-C stops.
PORT ?= 8080
run: build web
	@echo "dashboard: http://localhost:$(PORT)/   (Ctrl-C stops)"
	$(BUILD)/host/volsurf serve --port $(PORT) --static web/dist

# Batch calibration of a seeded synthetic chain written by the binary itself.
sample: build
	$(BUILD)/host/volsurf bench --write-chain $(BUILD)/sample_chain.csv.gz --seed 1
	$(BUILD)/host/volsurf fit --input $(BUILD)/sample_chain.csv.gz --output $(BUILD)/sample_fit.jsonl
	@echo "fits written to $(BUILD)/sample_fit.jsonl"

test: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOLSURF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	VOLSURF_E2E_SERVER=real VOLSURF_BIN=$(BUILD)/host/volsurf ./scripts/web.sh test

asan: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVOLSURF_WERROR=ON \
	  -DVOLSURF_ASAN=ON -DVOLSURF_UBSAN=ON -DVOLSURF_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS)

tsan: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOLSURF_WERROR=ON \
	  -DVOLSURF_TSAN=ON -DVOLSURF_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && ctest --output-on-failure -j $(JOBS)

web:
	./scripts/web.sh build

web-test: build
	VOLSURF_BIN=$(BUILD)/host/volsurf ./scripts/web.sh test

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan

format:
	git ls-files "*.c" "*.h" "*.cu" | xargs clang-format -i
