/* stop: the long-running commands' (serve, simulate, record) stop request,
 * set by SIGINT/SIGTERM or by the command itself.  The handler only sets a
 * flag (nothing else is async-signal-safe); each command's loop polls it. */
#ifndef VOLSURF_STOP_H
#define VOLSURF_STOP_H

/* Installs the SIGINT and SIGTERM handlers.  Call once, from main's thread. */
void stop_on_signals(void);
/* 1 once a stop was requested (signal or stop_request). */
int stop_requested(void);
/* Requests a stop from the program (e.g. a --duration that elapsed). */
void stop_request(void);

#endif
