/* stop: the process's stop request (see stop.h). */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "stop.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;

static void stop_on_signal(int sig)
{
  (void)sig;
  stop_flag = 1;
}

void stop_on_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = stop_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int stop_requested(void)
{
  return stop_flag != 0;
}

void stop_request(void)
{
  stop_flag = 1;
}
