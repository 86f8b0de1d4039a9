# wlfcgi build. ./build.sh drives this; `make` alone builds build/fpmctl and
# build/mod_wlfcgi.so. Paths come from apxs and pkg-config, never hard-coded.

CC      ?= cc
APXS    ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null)
PKG_CONFIG ?= pkg-config
BUILD   ?= build

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CSTD     = -std=gnu11
OPT     ?= -O2 -g
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2
LIBCONFIG_CFLAGS := $(shell $(PKG_CONFIG) --cflags libconfig 2>/dev/null)
LIBCONFIG_LIBS   := $(shell $(PKG_CONFIG) --libs libconfig 2>/dev/null || echo -lconfig)
BASE_CFLAGS = $(CSTD) $(WARN) $(OPT) -D_GNU_SOURCE -Icommon $(LIBCONFIG_CFLAGS)

COMMON_SRC := $(sort $(wildcard common/*.c))
FPMCTL_SRC := $(sort $(wildcard fpmctl/*.c))
MOD_SRC    := $(sort $(wildcard mod_wlfcgi/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
FPMCTL_OBJ := $(FPMCTL_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
ASAN_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-asan/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# Unit tests may link fpmctl's own pure files (everything but main.c) and
# the module's pure files (everything but the httpd glue, mod_wlfcgi.c)
FPMCTL_LIB_SRC := $(filter-out fpmctl/main.c,$(FPMCTL_SRC))
MOD_LIB_SRC    := $(filter-out mod_wlfcgi/mod_wlfcgi.c,$(MOD_SRC))
UNIT_LIB_SRC   := $(COMMON_SRC) $(FPMCTL_LIB_SRC) $(MOD_LIB_SRC)
UNIT_HDRS      := $(wildcard common/*.h fpmctl/*.h mod_wlfcgi/*.h tests/unit/*.h)
UNIT_INC       := -Icommon -Ifpmctl -Imod_wlfcgi -Itests/unit

.PHONY: all fpmctl module unit unit-asan check fuzz clean
all: fpmctl module

fpmctl: $(BUILD)/fpmctl
module: $(BUILD)/mod_wlfcgi.so

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h fpmctl/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(HARDEN) -fPIC -Ifpmctl -c -o $@ $<

$(BUILD)/fpmctl: $(FPMCTL_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS)

# The module is compiled and linked by apxs (libtool). apxs puts its objects
# next to the sources, so it works on copies under build/mod/.
$(BUILD)/mod_wlfcgi.so: $(MOD_SRC) $(COMMON_SRC) $(wildcard common/*.h mod_wlfcgi/*.h)
	@test -n "$(APXS)" || { echo "apxs not found (install httpd-devel / apache2-dev)"; exit 1; }
	@rm -rf $(BUILD)/mod && mkdir -p $(BUILD)/mod
	cp $(MOD_SRC) $(COMMON_SRC) common/*.h $(wildcard mod_wlfcgi/*.h) $(BUILD)/mod/
	cd $(BUILD)/mod && $(APXS) -c -o mod_wlfcgi.la \
	    -Wc,-std=gnu11 -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-Wno-unused-parameter \
	    -Wc,-Wformat=2 -Wc,-Wshadow $(LIBCONFIG_CFLAGS) \
	    $(notdir $(MOD_SRC) $(COMMON_SRC)) $(LIBCONFIG_LIBS) >apxs.log 2>&1 \
	    || { cat apxs.log; exit 1; }
	cp $(BUILD)/mod/.libs/mod_wlfcgi.so $@

# ---- unit tests (cmocka), plain and under ASan/UBSan ----
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LIB_SRC) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(UNIT_INC) -o $@ $< $(UNIT_LIB_SRC) $(LIBCONFIG_LIBS) -lcmocka

$(BUILD)/unit-asan/%: tests/unit/%.c $(UNIT_LIB_SRC) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE $(UNIT_INC) \
	    -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(UNIT_LIB_SRC) $(LIBCONFIG_LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

unit-asan: $(ASAN_BIN)
	@set -e; for t in $(ASAN_BIN); do echo "== $$t (asan+ubsan)"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# ---- libFuzzer targets (clang) ----
FUZZ_CC ?= clang
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(FPMCTL_LIB_SRC) $(wildcard common/*.h fpmctl/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon -Ifpmctl \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(COMMON_SRC) $(FPMCTL_LIB_SRC) $(LIBCONFIG_LIBS)

fuzz: $(FUZZ_BIN)

check: unit unit-asan

clean:
	rm -rf $(BUILD)
