/*
 * confwrite.h - the writer of the account database: wlfcgi.conf and
 * accounts.d/NAME.conf rendered as libconfig text that the loader
 * (wlf_load.h) reads back to the same structures.
 *
 * Only fpmctl writes these files, so this lives here and is not linked
 * into httpd. Writing them to disk (atomically, under the lock) is
 * fsutil.h's job.
 */
#ifndef FPM_CONFWRITE_H
#define FPM_CONFWRITE_H

#include "wlf_config.h"

/* cfg as a wlfcgi.conf file, with a comment per setting (malloc'd), or
 * NULL when out of memory. */
char *wlf_config_render(const wlf_config *cfg);

/* acct as an account file (malloc'd), or NULL when out of memory. */
char *wlf_account_render(const wlf_account *acct);

#endif
