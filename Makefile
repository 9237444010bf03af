# reservewatch build. `make demo` and `make check` are the two commands;
# both install missing Debian packages first (see `deps`).
#   make [release]   build build/release/reservewatch
#   make check       build and run every unit and end-to-end test
#   make asan        the same suite with address and undefined sanitizers
#   make demo        generate demo data and run the main job end to end
#   make bench       benchmarks (BENCH_SIZE=5490 by default)

SHELL := /bin/bash
CONFIG ?= release
BUILD ?= build/$(CONFIG)

# Debian 12 packages the build, tests and benchmarks need.
DEB_PACKAGES := gcc make pkg-config libgdal-dev gdal-bin python3 python3-gdal \
	libproj-dev proj-bin libgeos-dev libpng-dev libxlsxwriter-dev libyaml-dev \
	libcmocka-dev libssl-dev zlib1g-dev libjson-c-dev sqlite3 time bc chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PKGS := gdal proj libpng cmocka xlsxwriter yaml-0.1 libcrypto zlib json-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(shell geos-config --cflags 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(shell geos-config --clibs 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wformat=2 -Werror
CFLAGS_release := -O2 -g -DNDEBUG
CFLAGS_debug := -O0 -g
CFLAGS_asan := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS_asan := -fsanitize=address,undefined

MODULES := $(sort $(filter-out src/cli/,$(wildcard src/*/)))
INCLUDES := -Iinclude $(addprefix -I,$(MODULES))
CFLAGS := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fopenmp $(WARN) \
	$(CFLAGS_$(CONFIG)) $(INCLUDES) -MMD -MP -DRW_DATA_DIR='"$(CURDIR)/data"'
LDLIBS = -fopenmp $(LDFLAGS_$(CONFIG)) $(PKG_LIBS) -lm

LIB_SRC := $(sort $(wildcard $(addsuffix *.c,$(MODULES))))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
E2E_TOOL_SRC := $(sort $(wildcard tests/e2e/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libreservewatch.a
BIN := $(BUILD)/reservewatch
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_TOOL_BIN := $(E2E_TOOL_SRC:tests/e2e/%.c=$(BUILD)/tests/%)

.PHONY: all release debug asan check check-run demo bench deps clean
all release: deps-quiet
	@$(MAKE) --no-print-directory build CONFIG=$(CONFIG)

build: $(BIN) $(UNIT_BIN) $(E2E_TOOL_BIN)

# Install only what is missing: one apt-get update + install, nothing when
# every package is present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing || exit 1; \
	else echo "deps: all $(words $(DEB_PACKAGES)) Debian packages present"; fi

deps-quiet: deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/e2e/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory build CONFIG=$(CONFIG)
	@tests/run_tests.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory build CONFIG=asan
	@ASAN_OPTIONS=detect_leaks=1 tests/run_tests.sh build/asan

DEMO_DIR ?= demo
demo: deps
	@$(MAKE) --no-print-directory build CONFIG=release
	@echo "demo: generating a Sentinel-2-like pair with 6 reserves in $(DEMO_DIR)/data"
	@build/release/reservewatch synth --out $(DEMO_DIR)/data --size 2048 --seed 2024
	@echo "demo: scanning for new disturbances inside the reserves"
	@build/release/reservewatch scan --before $(DEMO_DIR)/data/scene_2023*.tif \
	  --after $(DEMO_DIR)/data/scene_2024*.tif --reserves $(DEMO_DIR)/data/reserves.gpkg \
	  --rivers $(DEMO_DIR)/data/rivers.gpkg --permits $(DEMO_DIR)/data/permits.gpkg \
	  --known $(DEMO_DIR)/data/known.gpkg --out $(DEMO_DIR)/out
	@echo "demo: writing per-reserve field check lists"
	@build/release/reservewatch checklist --detections $(DEMO_DIR)/out/detections.gpkg \
	  --out $(DEMO_DIR)/checklists
	@echo "demo: done. Outputs:"
	@echo "  $(DEMO_DIR)/out/detections.gpkg  patches (analysis CRS) and field points (EPSG:4490)"
	@echo "  $(DEMO_DIR)/out/points.csv       the same points, UTF-8 with BOM for Excel"
	@echo "  $(DEMO_DIR)/out/manifest.json    inputs, hashes, parameters, counts"
	@echo "  $(DEMO_DIR)/checklists/          one folder per reserve: 核查清单.xlsx, report.html,"
	@echo "                                   points.csv/.kml/.gpx, points_ovital.txt, chips/"
	@echo "  $(DEMO_DIR)/checklists/*_问题清单.xlsx  one 附件2 list per city"
	@echo "  $(DEMO_DIR)/data/truth.gpkg      what the generator planted, to compare"

BENCH_SIZE ?= 5490
bench: deps
	@$(MAKE) --no-print-directory build CONFIG=release
	@bench/run.sh build/release $(BENCH_SIZE)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
