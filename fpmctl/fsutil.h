/*
 * fsutil.h - how fpmctl changes files: every write is a temp file in the
 * same directory + fsync + rename + fsync of the directory, so a reader (or
 * a crash) sees the old or the new file, never a part. Temp files are named
 * ".fpmctl-tmp-NAME.PID": they never end in ".conf", which FPM and the
 * account loader glob for, and they are removed on every exit path (leftovers
 * of a kill -9 are swept by the next fpmctl that holds the lock).
 *
 * Nothing here follows a symlink it did not expect: directories that users
 * own are entered with O_NOFOLLOW and removed with unlinkat().
 */
#ifndef FPM_FSUTIL_H
#define FPM_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "wlf_err.h"

#define FPM_TEMP_PREFIX ".fpmctl-tmp-"

/* snprintf for paths: returns -1 (and an empty buf) when it does not fit,
 * so a cut-off path is never used. */
int fs_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replace `path` with `data` atomically (owner root, `mode`). */
int fs_write_atomic(const char *path, const char *data, size_t len,
                    mode_t mode, wlf_err *err);

/* Make `path` a symlink to `target` atomically. */
int fs_symlink_atomic(const char *target, const char *path, wlf_err *err);

/* Whole file into *data (NUL-terminated). -1 with errno set. */
int fs_read_file(const char *path, char **data, size_t *len);

/* Create dir (and missing parents, root 0755) or fix its owner and mode.
 * Refuses when `path` is a symlink or not a directory. */
int fs_ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid,
                  wlf_err *err);

/* Create a regular file if missing (owner uid:gid, mode) or fix owner and
 * mode; refuses symlinks. Contents are left alone. */
int fs_ensure_file(const char *path, mode_t mode, uid_t uid, gid_t gid,
                   wlf_err *err);

/* rm -rf without following symlinks. A missing path is fine. */
int fs_remove_tree(const char *path, wlf_err *err);

/* unlink; a missing file is fine. */
int fs_remove(const char *path, wlf_err *err);

/* Remove leftover temp files of killed fpmctl runs in `dir`. Only call
 * while holding the lock. */
void fs_sweep_temps(const char *dir);

/* fsync a directory so a rename in it is durable. */
int fs_sync_dir(const char *dir);

/*
 * Take the writer lock: flock(LOCK_EX) on `path`, waiting up to
 * timeout_s. Returns the fd (close-on-exec), or -1 with err set;
 * *timed_out says whether another process held it all that time.
 */
int fs_lock(const char *path, long long timeout_s, int *timed_out,
            wlf_err *err);

/* Who holds the flock on fd's file, for messages: "pid 1234 (fpmctl set
 * alice max_children=3)", or "another process". Returns buf. */
const char *fs_lock_holder(int fd, char *buf, size_t len);

/* Remove the temp file being written if the process is interrupted. */
void fs_install_signal_cleanup(void);

#endif
