/*
 * wlf_config.h - the account database, shared by fpmctl and mod_wlfcgi.
 *
 * Two kinds of libconfig files:
 *   wlfcgi.conf            global: paths, service mode, PHP binaries, defaults
 *   accounts.d/NAME.conf   one per account: user, domains, overrides
 *
 * This header brings in all of it; the parts, one concern each:
 *   wlf_settings.h  the settings table (defaults, parse, format, effective)
 *   wlf_model.h     the configuration and accounts in memory: copies,
 *                   domains, php_admin, checks, lookup and host matching
 *   wlf_load.h      the loader (the only code that knows libconfig)
 *   wlf_paths.h     paths derived from the configuration
 * The writer, which only fpmctl needs, is fpmctl/confwrite.h.
 */
#ifndef WLF_CONFIG_H
#define WLF_CONFIG_H

#include "wlf_err.h"
#include "wlf_load.h"
#include "wlf_model.h"
#include "wlf_paths.h"
#include "wlf_settings.h"
#include "wlf_validate.h"

#endif
