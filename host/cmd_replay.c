/* cmd_replay: `volsurf replay FILE` feeds a recording (tardis options_chain
 * CSV, as `volsurf record` writes it) through qqueue -> calib on the
 * recording's clock and writes every published surface version as a JSON
 * line (host/replay.h).  Same file and options, same bytes out, at any
 * --speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "fit.h"
#include "replay.h"

static void replay_usage(FILE *f)
{
  fprintf(f, "usage: volsurf replay FILE [--speed X] [--output FITS.jsonl] [--cadence-ms N]\n"
             "                      [--backend auto|cpu|gpu] [--threads N] [--format auto|tardis]\n"
             "  Replays a recording through the calibration pipeline on its own clock:\n"
             "  a tick at every cadence boundary of the recorded receive times, so the\n"
             "  fits do not depend on the speed.  Writes one JSON line per published\n"
             "  surface version.\n"
             "  --speed       1 real time (default), 10 ten times faster, 0 as fast as possible\n"
             "  --output      JSON lines file (default stdout)\n"
             "  --cadence-ms  calibration cadence in recorded time (default 100)\n"
             "  --backend     fitter backend (default auto)\n"
             "  --threads     CPU fitter threads (default 1)\n");
}

static void write_line(void *ctx, struct surface *s)
{
  replay_write_surface(ctx, s);
  surface_free(s);
}

int cmd_replay(int argc, char **argv)
{
  struct replay_config c;
  replay_config_default(&c);
  const char *output = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      replay_usage(stdout);
      return 0;
    } else if (strcmp(a, "--speed") == 0 && v) {
      c.speed = strtod(v, &end);
      if (*end || !(c.speed >= 0.0)) {
        fprintf(stderr, "volsurf replay: --speed wants a number >= 0\n");
        return 2;
      }
      i++;
    } else if (strcmp(a, "--output") == 0 && v) {
      output = v;
      i++;
    } else if (strcmp(a, "--cadence-ms") == 0 && v) {
      long ms = strtol(v, &end, 10);
      if (*end || ms < 1 || ms > 3600000) {
        fprintf(stderr, "volsurf replay: --cadence-ms wants 1..3600000\n");
        return 2;
      }
      c.calib.cadence_us = ms * 1000;
      i++;
    } else if (strcmp(a, "--backend") == 0 && v) {
      c.calib.backend = fit_backend_parse(v);
      if (c.calib.backend < 0) {
        fprintf(stderr, "volsurf replay: --backend wants auto, cpu or gpu\n");
        return 2;
      }
      i++;
    } else if (strcmp(a, "--threads") == 0 && v) {
      c.calib.n_threads = (int)strtol(v, &end, 10);
      if (*end || c.calib.n_threads < 0 || c.calib.n_threads > 256) {
        fprintf(stderr, "volsurf replay: --threads wants 0..256\n");
        return 2;
      }
      i++;
    } else if (strcmp(a, "--format") == 0 && v) {
      c.format = chain_format_parse(v);
      if (c.format < 0) {
        fprintf(stderr, "volsurf replay: --format wants auto, tardis or deribit-csv\n");
        return 2;
      }
      i++;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "volsurf replay: unknown or incomplete option '%s'\n", a);
      replay_usage(stderr);
      return 2;
    } else if (!c.path) {
      c.path = a;
    } else {
      fprintf(stderr, "volsurf replay: one recording at a time\n");
      return 2;
    }
  }
  if (!c.path) {
    replay_usage(stderr);
    return 2;
  }
  FILE *out = stdout;
  if (output && strcmp(output, "-") != 0) {
    out = fopen(output, "w");
    if (!out) {
      fprintf(stderr, "volsurf replay: cannot open %s for writing\n", output);
      return 1;
    }
  }
  struct replay_stats st;
  char err[256] = "";
  int rc = replay_run(&c, write_line, out, &st, err, sizeof(err));
  int bad_out = out != stdout ? fclose(out) != 0 : fflush(out) != 0;
  if (rc < 0) {
    fprintf(stderr, "volsurf replay: %s\n", err[0] ? err : err_str(rc));
    return 1;
  }
  fprintf(stderr,
          "volsurf replay: %lld rows, %lld quotes, %lld malformed, %ld dropped; %.3f s recorded, "
          "%lld ticks, %lld surface versions\n",
          (long long)st.chain.n_lines, (long long)st.chain.n_quotes,
          (long long)st.chain.n_malformed, st.n_dropped, (double)(st.last_us - st.first_us) / 1e6,
          (long long)st.n_ticks, (long long)st.n_published);
  if (bad_out) {
    fprintf(stderr, "volsurf replay: write error on the output\n");
    return 1;
  }
  return 0;
}
