/*
 * unit_accounts.h - the account the unit tests build in memory: alice,
 * user and group alice, home /home/alice; with `full`, also two domains,
 * PHP 8.3 and a php_admin value (memory_limit 256M). Include after
 * cmocka.h.
 */
#ifndef UNIT_ACCOUNTS_H
#define UNIT_ACCOUNTS_H

#include <stdio.h>
#include <string.h>

#include "wlf_config.h"

static inline void unit_alice(wlf_account *a, int full)
{
    wlf_err e;

    wlf_account_init(a);
    snprintf(a->name, sizeof(a->name), "alice");
    a->user = strdup("alice");
    a->group = strdup("alice");
    a->home = strdup("/home/alice");
    if (!full)
        return;
    assert_int_equal(wlf_account_add_domain(a, "alice.example", &e), 0);
    assert_int_equal(wlf_account_add_domain(a, "*.alice.example", &e), 0);
    assert_int_equal(wlf_setting_parse(&a->settings, WLF_S_PHP, "8.3", &e),
                     0);
    assert_int_equal(wlf_account_set_php_admin(a, "memory_limit", "256M"),
                     0);
}

#endif
