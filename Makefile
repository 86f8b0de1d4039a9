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
# the module's pure files (wlf_*.c; the httpd glue is mod_wlfcgi*.c)
FPMCTL_LIB_SRC := $(filter-out fpmctl/main.c,$(FPMCTL_SRC))
MOD_GLUE_SRC   := $(filter mod_wlfcgi/mod_wlfcgi%,$(MOD_SRC))
MOD_LIB_SRC    := $(filter-out $(MOD_GLUE_SRC),$(MOD_SRC))
UNIT_LIB_SRC   := $(COMMON_SRC) $(FPMCTL_LIB_SRC) $(MOD_LIB_SRC)
UNIT_HDRS      := $(wildcard common/*.h fpmctl/*.h mod_wlfcgi/*.h tests/unit/*.h)
UNIT_INC       := -Icommon -Ifpmctl -Imod_wlfcgi -Itests/unit

.PHONY: all fpmctl module unit unit-asan check fuzz clean install
all: fpmctl module

fpmctl: $(BUILD)/fpmctl
module: $(BUILD)/mod_wlfcgi.so

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h fpmctl/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(HARDEN) -fPIC -Ifpmctl -c -o $@ $<

$(BUILD)/fpmctl: $(FPMCTL_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS)

# The module is compiled and linked by apxs (libtool). apxs puts its objects
# next to the sources, so it works on copies under build/mod/. It gets
# fpmctl's flags (warnings, OPT, HARDEN, LDFLAGS) after apxs's own, which
# are httpd's; apxs pastes -Wc,/-Wl, text into a shell command line, so
# one argument carries them all.
comma      := ,
MOD_CFLAGS  = -Wc,$(strip $(CSTD) $(WARN) $(OPT) $(HARDEN))
MOD_LDFLAGS = $(if $(strip $(LDFLAGS)),-Wl$(comma)$(strip $(LDFLAGS)))
$(BUILD)/mod_wlfcgi.so: $(MOD_SRC) $(COMMON_SRC) $(wildcard common/*.h mod_wlfcgi/*.h)
	@test -n "$(APXS)" || { echo "apxs not found (install httpd-devel / apache2-dev)"; exit 1; }
	@rm -rf $(BUILD)/mod && mkdir -p $(BUILD)/mod
	cp $(MOD_SRC) $(COMMON_SRC) common/*.h $(wildcard mod_wlfcgi/*.h) $(BUILD)/mod/
	cd $(BUILD)/mod && $(APXS) -c -o mod_wlfcgi.la \
	    "$(MOD_CFLAGS)" $(if $(MOD_LDFLAGS),"$(MOD_LDFLAGS)") $(LIBCONFIG_CFLAGS) \
	    $(notdir $(MOD_SRC) $(COMMON_SRC)) $(LIBCONFIG_LIBS) >apxs.log 2>&1 \
	    || { cat apxs.log; exit 1; }
	@# a new inode: an httpd running the old module keeps its mapping intact
	cp $(BUILD)/mod/.libs/mod_wlfcgi.so $@.tmp && mv -f $@.tmp $@

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
$(BUILD)/fuzz/%: tests/fuzz/%.c $(UNIT_LIB_SRC) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon -Ifpmctl -Imod_wlfcgi \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(UNIT_LIB_SRC) $(LIBCONFIG_LIBS)

fuzz: $(FUZZ_BIN)

# ---- install: used by rpm/wlfcgi.spec and by source installs on Debian ----
# DESTDIR-aware; every path can be overridden on the command line. The httpd
# layout is Red Hat's (conf.modules.d + conf.d) or Debian's (mods-available);
# by default whichever this machine has.
PREFIX       ?= /usr
SBINDIR      ?= $(PREFIX)/sbin
MANDIR       ?= $(PREFIX)/share/man
SYSCONFDIR   ?= /etc
UNITDIR      ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR  ?= $(PREFIX)/lib/tmpfiles.d
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
WLF_CONFDIR  ?= $(SYSCONFDIR)/wlfcgi
WLF_STATEDIR ?= /var/lib/wlfcgi
WLF_LOGDIR   ?= /var/log/wlfcgi
HTTPD_LAYOUT ?= $(if $(wildcard /etc/apache2/mods-available),debian,redhat)
# the group httpd runs as: it alone (with root) may reach the sockets
HTTPD_GROUP  ?= $(if $(filter debian,$(HTTPD_LAYOUT)),www-data,apache)
HTTPD_MODDIR ?= $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
ifeq ($(HTTPD_LAYOUT),debian)
HTTPD_MODCONFDIR ?= $(SYSCONFDIR)/apache2/mods-available
HTTPD_CONFDIR    ?= $(HTTPD_MODCONFDIR)
else
HTTPD_MODCONFDIR ?= $(SYSCONFDIR)/httpd/conf.modules.d
HTTPD_CONFDIR    ?= $(SYSCONFDIR)/httpd/conf.d
endif
INSTALL      ?= install
MAN8         := $(wildcard fpmctl/fpmctl.8 mod_wlfcgi/mod_wlfcgi.8)

install: all
	@test -n "$(HTTPD_MODDIR)" || { echo "HTTPD_MODDIR unknown (no apxs)"; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(HTTPD_MODDIR) \
	    $(DESTDIR)$(HTTPD_MODCONFDIR) $(DESTDIR)$(HTTPD_CONFDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(WLF_CONFDIR)
	@# the modes fpmctl creates and `fpmctl check` expects
	$(INSTALL) -d -m 0750 $(DESTDIR)$(WLF_CONFDIR)/accounts.d
	$(INSTALL) -d -m 0755 $(DESTDIR)$(WLF_STATEDIR) $(DESTDIR)$(WLF_LOGDIR)
	$(INSTALL) -d -m 0750 $(DESTDIR)$(WLF_STATEDIR)/fpm
	$(INSTALL) -d -m 0711 $(DESTDIR)$(WLF_STATEDIR)/accounts
	$(INSTALL) -m 0755 $(BUILD)/fpmctl $(DESTDIR)$(SBINDIR)/fpmctl
	$(INSTALL) -m 0755 $(BUILD)/mod_wlfcgi.so $(DESTDIR)$(HTTPD_MODDIR)/mod_wlfcgi.so
ifeq ($(HTTPD_LAYOUT),debian)
	sed 's|/usr/lib/apache2/modules/|$(HTTPD_MODDIR)/|' \
	    conf.d/debian/mods-available/wlfcgi.load \
	    >$(DESTDIR)$(HTTPD_MODCONFDIR)/wlfcgi.load
	$(INSTALL) -m 0644 conf.d/debian/mods-available/wlfcgi.conf \
	    $(DESTDIR)$(HTTPD_MODCONFDIR)/wlfcgi.conf
else
	$(INSTALL) -m 0644 conf.d/10-wlfcgi.conf $(DESTDIR)$(HTTPD_MODCONFDIR)/10-wlfcgi.conf
	$(INSTALL) -m 0644 conf.d/wlfcgi.conf $(DESTDIR)$(HTTPD_CONFDIR)/wlfcgi.conf
endif
	@# WLFcgiConfig and the status page's password file
	sed 's|/etc/wlfcgi/|$(WLF_CONFDIR)/|g' \
	    $(DESTDIR)$(HTTPD_CONFDIR)/wlfcgi.conf >$(BUILD)/wlfcgi.httpd.conf
	$(INSTALL) -m 0644 $(BUILD)/wlfcgi.httpd.conf $(DESTDIR)$(HTTPD_CONFDIR)/wlfcgi.conf
	$(INSTALL) -m 0644 rpm/wlfcgi-fpm@.service rpm/wlfcgi.service rpm/wlfcgi-serve.service $(DESTDIR)$(UNITDIR)/
	sed 's|^SocketGroup=apache$$|SocketGroup=$(HTTPD_GROUP)|' \
	    rpm/wlfcgi-fpm@.socket >$(BUILD)/wlfcgi-fpm@.socket
	$(INSTALL) -m 0644 $(BUILD)/wlfcgi-fpm@.socket $(DESTDIR)$(UNITDIR)/
	sed 's|^d /run/wlfcgi 0750 root apache -$$|d /run/wlfcgi 0750 root $(HTTPD_GROUP) -|' \
	    rpm/wlfcgi.tmpfiles >$(BUILD)/wlfcgi.tmpfiles
	$(INSTALL) -m 0644 $(BUILD)/wlfcgi.tmpfiles $(DESTDIR)$(TMPFILESDIR)/wlfcgi.conf
	$(INSTALL) -m 0644 rpm/wlfcgi.logrotate $(DESTDIR)$(LOGROTATEDIR)/wlfcgi
	$(INSTALL) -m 0644 rpm/fpmctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/fpmctl
	$(if $(MAN8),$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	@# The packaged global config is Red Hat's (group apache, one php-fpm).
	@# An existing one is never overwritten; elsewhere `fpmctl init` writes it.
ifeq ($(HTTPD_LAYOUT),redhat)
	@if [ -e $(DESTDIR)$(WLF_CONFDIR)/wlfcgi.conf ]; then \
	    echo "kept existing $(DESTDIR)$(WLF_CONFDIR)/wlfcgi.conf"; \
	else \
	    $(INSTALL) -m 0644 rpm/wlfcgi.conf $(DESTDIR)$(WLF_CONFDIR)/wlfcgi.conf; \
	fi
else
	@test -e $(DESTDIR)$(WLF_CONFDIR)/wlfcgi.conf || \
	    echo "now run: fpmctl init --service systemd   (writes $(WLF_CONFDIR)/wlfcgi.conf)"
endif

check: unit unit-asan

clean:
	rm -rf $(BUILD)
