/* cmd_svi: `volsurf svi` evaluates one raw SVI parameter set: total variance
 * and vol on a k grid, Durrleman g, butterfly intervals, jump-wings, Lee. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "svi.h"

static void svi_usage(FILE *f)
{
  fprintf(f, "usage: volsurf svi --params a,b,rho,m,sigma [--T YEARS] [--grid LO,HI,N] [--json]\n"
             "  Evaluates raw SVI w(k) = a + b(rho(k-m) + sqrt((k-m)^2 + sigma^2)).\n"
             "  --T      maturity in years for vols and jump-wings (default 1)\n"
             "  --grid   k grid for the table and the arbitrage scan (default -1,1,21;\n"
             "           the scan uses 2001 points over the same range)\n");
}

static void print_json(const struct svi *p, double T, const double *grid, const struct svi_arb *arb,
                       int jw_ok, const struct svi_jw *jw)
{
  double kmin, wl, wr;
  double wmin = svi_min_variance(p, &kmin);
  svi_wing_slopes(p, &wl, &wr);
  printf("{\"params\":{\"a\":%.17g,\"b\":%.17g,\"rho\":%.17g,\"m\":%.17g,\"sigma\":%.17g},", p->a,
         p->b, p->rho, p->m, p->sigma);
  printf("\"T_years\":%.17g,\"min_variance\":%.17g,\"k_at_min_variance\":%.17g,", T, wmin, kmin);
  printf("\"wing_slope_left\":%.17g,\"wing_slope_right\":%.17g,\"lee_ok\":%s,", wl, wr,
         svi_lee_ok(p) ? "true" : "false");
  printf("\"butterfly\":{\"g_min\":%.12g,\"k_at_g_min\":%.12g,\"intervals\":[", arb->g_min,
         arb->k_at_g_min);
  for (int i = 0; i < arb->n_intervals && i < SVI_ARB_MAX_INTERVALS; i++)
    printf("%s[%.12g,%.12g]", i ? "," : "", arb->lo[i], arb->hi[i]);
  printf("]},\"jump_wings\":");
  if (jw_ok)
    printf("{\"v\":%.17g,\"psi\":%.17g,\"p\":%.17g,\"c\":%.17g,\"vt\":%.17g}", jw->v, jw->psi,
           jw->p, jw->c, jw->vt);
  else
    printf("null");
  printf(",\"grid\":[");
  int n = (int)grid[2];
  for (int i = 0; i < n; i++) {
    double k = n > 1 ? grid[0] + (grid[1] - grid[0]) * i / (n - 1) : grid[0];
    double w = svi_w(p, k);
    printf("%s{\"k\":%.10g,\"w\":", i ? "," : "", k);
    cli_json_number(stdout, w, 12);
    printf(",\"vol\":");
    cli_json_number(stdout, w > 0 ? sqrt(w / T) : NAN, 12);
    printf(",\"g\":");
    cli_json_number(stdout, svi_durrleman_g(p, k), 12);
    printf("}");
  }
  printf("]}\n");
}

static void print_text(const struct svi *p, double T, const double *grid, const struct svi_arb *arb,
                       int jw_ok, const struct svi_jw *jw)
{
  double kmin, wl, wr;
  double wmin = svi_min_variance(p, &kmin);
  svi_wing_slopes(p, &wl, &wr);
  printf("raw SVI  a=%.10g b=%.10g rho=%.10g m=%.10g sigma=%.10g  T=%.6g y\n", p->a, p->b, p->rho,
         p->m, p->sigma, T);
  printf("minimum variance %.10g at k=%.6g; wing slopes left %.6g right %.6g; Lee %s\n", wmin, kmin,
         wl, wr, svi_lee_ok(p) ? "ok (b(1+|rho|) <= 2)" : "VIOLATED (b(1+|rho|) > 2)");
  printf("butterfly: min g %.10g at k=%.6g; ", arb->g_min, arb->k_at_g_min);
  if (arb->n_intervals == 0)
    printf("no arbitrage on [%g, %g]\n", grid[0], grid[1]);
  for (int i = 0; i < arb->n_intervals && i < SVI_ARB_MAX_INTERVALS; i++)
    printf("%sg < 0 on (%.10g, %.10g)", i ? ", " : "", arb->lo[i], arb->hi[i]);
  if (arb->n_intervals > 0)
    printf("\n");
  if (jw_ok)
    printf("jump-wings  v=%.8g psi=%.8g p=%.8g c=%.8g vt=%.8g\n", jw->v, jw->psi, jw->p, jw->c,
           jw->vt);
  else
    printf("jump-wings  undefined (w(0) <= 0 or invalid parameters)\n");
  printf("%12s %14s %12s %14s\n", "k", "w", "vol", "g");
  int n = (int)grid[2];
  for (int i = 0; i < n; i++) {
    double k = n > 1 ? grid[0] + (grid[1] - grid[0]) * i / (n - 1) : grid[0];
    double w = svi_w(p, k);
    printf("%12.6f %14.8g %12.6f %14.8g\n", k, w, w > 0 ? sqrt(w / T) : NAN, svi_durrleman_g(p, k));
  }
}

int cmd_svi(int argc, char **argv)
{
  double params[5], T = 1.0, grid[3] = {-1.0, 1.0, 21};
  int have_params = 0, json = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      svi_usage(stdout);
      return 0;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--params") == 0 && v) {
      if (cli_parse_doubles(v, params, 5) != 5) {
        fprintf(stderr, "volsurf svi: --params takes five numbers a,b,rho,m,sigma\n");
        return 2;
      }
      have_params = 1;
      i++;
    } else if (strcmp(a, "--T") == 0 && v) {
      if (cli_parse_doubles(v, &T, 1) != 1 || !(T > 0)) {
        fprintf(stderr, "volsurf svi: --T must be a positive number of years\n");
        return 2;
      }
      i++;
    } else if (strcmp(a, "--grid") == 0 && v) {
      if (cli_parse_doubles(v, grid, 3) != 3 || !(grid[1] > grid[0]) || grid[2] < 1 ||
          grid[2] > 100000) {
        fprintf(stderr, "volsurf svi: --grid takes LO,HI,N with LO < HI and 1 <= N <= 100000\n");
        return 2;
      }
      i++;
    } else {
      fprintf(stderr, "volsurf svi: unknown or incomplete option '%s'\n", a);
      svi_usage(stderr);
      return 2;
    }
  }
  if (!have_params) {
    svi_usage(stderr);
    return 2;
  }
  struct svi p = {
      .a = params[0], .b = params[1], .rho = params[2], .m = params[3], .sigma = params[4]};
  if (svi_validate(&p) != 0) {
    fprintf(stderr, "volsurf svi: need b >= 0, |rho| < 1, sigma > 0 (got b=%g rho=%g sigma=%g)\n",
            p.b, p.rho, p.sigma);
    return 2;
  }
  struct svi_arb arb;
  svi_butterfly_scan(&p, grid[0], grid[1], 2001, &arb);
  struct svi_jw jw;
  int jw_ok = svi_to_jw(&p, T, &jw) == 0;
  if (json)
    print_json(&p, T, grid, &arb, jw_ok, &jw);
  else
    print_text(&p, T, grid, &arb, jw_ok, &jw);
  return 0;
}
