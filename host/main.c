/* main: the volsurf binary; dispatches to the subcommands of cmd.h. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
  const char *name;
  int (*run)(int, char **);
  const char *what;
} commands[] = {
    {"fit", cmd_fit, "calibrate recorded option chains (tardis CSV, Deribit CSV)"},
    {"bench", cmd_bench, "measure fit throughput and latency (synthetic or file slices)"},
    {"svi", cmd_svi, "evaluate an SVI parameter set: vols, arbitrage checks, jump-wings"},
#ifdef VOLSURF_HAVE_CMD_serve
    {"serve", cmd_serve, "run the live service: feeds, calibration, dashboard and stream"},
#endif
#ifdef VOLSURF_HAVE_CMD_simulate
    {"simulate", cmd_simulate, "serve a simulated market on the Deribit wire protocol"},
#endif
#ifdef VOLSURF_HAVE_CMD_record
    {"record", cmd_record, "record normalized quotes from the feeds to a tardis CSV"},
#endif
#ifdef VOLSURF_HAVE_CMD_replay
    {"replay", cmd_replay, "replay a recording through the calibration pipeline"},
#endif
};

static void usage(FILE *f)
{
  fprintf(f, "usage: volsurf <command> [options]   (volsurf <command> --help)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("volsurf 0.1.0\n");
    return 0;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 2, argv + 2);
  fprintf(stderr, "volsurf: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
