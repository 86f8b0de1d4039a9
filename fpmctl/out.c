/*
 * out.c - how fpmctl talks: quiet success, precise failure.
 */
#include "fpmctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wlf_sys.h"

/* errno of the first write to stdout that failed (-1: unknown why); 0
 * while none did */
static int stdout_errno;

void fpm_flush_stdout(void)
{
    if (fflush(stdout) != 0 && stdout_errno == 0)
        stdout_errno = errno ? errno : -1;
}

void fpm_say(const fpm_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->verbosity < 0)
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fpm_flush_stdout();
}

void fpm_info(const fpm_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    static long long t0;

    if (ctx->verbosity < 1)
        return;
    if (t0 == 0)
        t0 = wlf_now_ms();
    fpm_flush_stdout();
    /* elapsed time since the first step: where a slow change spends it */
    fprintf(stderr, "fpmctl: [%4lld ms] ", wlf_now_ms() - t0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void fpm_error(const char *fmt, ...)
{
    va_list ap;

    fpm_flush_stdout();
    fputs("fpmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int fpm_report(const wlf_err *err, int code)
{
    char line[700];

    fpm_error("%s", wlf_err_line(err, line, sizeof(line)));
    return code;
}

int fpm_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    size_t cmd_len = strcspn(usage, " ");

    /* one line, like every other error; the command's help has the rest */
    fpm_flush_stdout();
    fputs("fpmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see fpmctl %.*s --help)\n", (int)cmd_len, usage);
    return FPM_EXIT_USAGE;
}

int fpm_confirm(const fpm_ctx *ctx, const char *name, const char *what,
                const char *question)
{
    char answer[16];

    if (ctx->yes || ctx->dry_run)
        return FPM_EXIT_OK;
    fpm_flush_stdout();
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
        /* no one to ask: a script says -y */
        fpm_error("%s: %s; nothing was changed: add -y (--yes) to go "
                  "ahead", name, what);
        return FPM_EXIT_USAGE;
    }
    fprintf(stderr, "%s: %s\n%s [y/N] ", name, what, question);
    fflush(stderr);
    if (fgets(answer, sizeof(answer), stdin) != NULL &&
        (answer[0] == 'y' || answer[0] == 'Y'))
        return FPM_EXIT_OK;
    fpm_error("%s: aborted; nothing was changed", name);
    return FPM_EXIT_FAILED;
}

void fpm_print(const char *s)
{
    fputs(s, stdout);
    fpm_flush_stdout();
}

const char *fpm_err_text(const wlf_err *err, const char *name, char *buf,
                         size_t len)
{
    if (name && strcmp(err->field, name) == 0) {
        snprintf(buf, len, "%s", err->msg);
        return buf;
    }
    return wlf_err_line(err, buf, len);
}

const char *fpm_load_error_text(const wlf_load_error *e)
{
    static char buf[1200];
    size_t n = strlen(e->file);

    if (strncmp(e->msg, e->file, n) == 0 && e->msg[n] == ':')
        snprintf(buf, sizeof(buf), "%s", e->msg);
    else
        snprintf(buf, sizeof(buf), "%s: %s", e->file, e->msg);
    return buf;
}

const char *fpm_load_error_why(const wlf_load_error *e)
{
    size_t n = strlen(e->file);

    if (strncmp(e->msg, e->file, n) == 0 && e->msg[n] == ':')
        return e->msg + n + 1 + (e->msg[n + 1] == ' ');
    return e->msg;
}

int fpm_finish_output(int rc)
{
    fpm_flush_stdout();
    if (ferror(stdout) && stdout_errno == 0)
        stdout_errno = -1;
    if (stdout_errno == 0)
        return rc;
    /* a reader that went away (fpmctl list | head) needs no message */
    if (stdout_errno > 0 && stdout_errno != EPIPE)
        fpm_error("cannot write to standard output: %s",
                  strerror(stdout_errno));
    else if (stdout_errno < 0)
        fpm_error("cannot write to standard output");
    return rc == FPM_EXIT_OK ? FPM_EXIT_FAILED : rc;
}
