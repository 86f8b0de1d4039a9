/*
 * ptyrun.h - run a program as another user without handing it the
 * caller's terminal.
 *
 * A process whose controlling terminal is root's can push keystrokes
 * into root's shell (TIOCSTI: they are read there after it exited), and
 * one that keeps a descriptor of that terminal can read what root types
 * later. So the program runs in a session of its own: where one of the
 * standard streams is a terminal, on a pseudo-terminal of its own whose
 * other end fpmctl relays (what `su --pty` does); otherwise without any
 * controlling terminal. It inherits no descriptor but 0, 1 and 2.
 */
#ifndef FPM_PTYRUN_H
#define FPM_PTYRUN_H

#include <sys/types.h>

/*
 * Fork; in the child start a new session (on a new pseudo-terminal if
 * any of fds 0-2 is a terminal: those become its slave), then call
 * child(arg), which must exec or _exit. With `place`, the child first
 * waits until place(its pid, place_arg) returned 0 in the parent (-1:
 * it ends with status 126, nothing ran). The parent relays the terminal,
 * passes SIGINT, SIGQUIT, SIGTERM and SIGHUP on to the child's process
 * group, the window size to its terminal, and waits. Returns the child's
 * wait status (see waitpid), or -1 with errno set when it could not
 * start it (no pseudo-terminal: nothing ran).
 */
int fpm_run_detached(void (*child)(void *), void *arg,
                     int (*place)(pid_t, void *), void *place_arg);

/* End this process the way wait status `status` says the child ended:
 * killed by the same signal (no core dump), or exit with its status.
 * Returns only when the signal did not end it (then 128 + the signal). */
int fpm_end_like(int status);

#endif
