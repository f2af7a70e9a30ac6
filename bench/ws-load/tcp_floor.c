/* tcp_floor: the floor under issue 4's fan-out goal on this machine: plain
 * loopback TCP, no websocket, no libwebsockets, no gateway.  One sender
 * process accepts N connections and, R times a second, writes one S-byte
 * message to each (blocking send, in order: what one gateway I/O thread
 * does; --threads T splits the connections over T sending threads, as
 * several gateway threads or processes would); one receiver process
 * (forked) reads them all with epoll, as
 * bench/ws_load's clients do.  Each message carries the tick's start time
 * (CLOCK_MONOTONIC, shared by both processes), so the receiver's latency is
 * tick start -> message received, the figure the goal bounds (p99 < 50 ms
 * at N = 10,000, R = 10).  Both report their CPU over the run.
 *
 *   tcp_floor [--clients N] [--rate R] [--size S] [--duration D] [--threads T]
 *             [--port P]
 *
 * Results: bench/results/ws-load.md. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR 8 /* int64 tick start, ns */

static int64_t mono_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static double cpu_s(void)
{
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
         (double)u.ru_stime.tv_usec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
  if (n == 0)
    return 0;
  long i = (long)(p * (double)n + 0.999999) - 1;
  return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

struct conn {
  int fd;
  int pos; /* bytes of the current message read */
  unsigned char hdr[HDR];
};

/* Receiver: connects n sockets, reads until every one is closed, prints one
 * result line on 'out'. */
static int receiver(int port, int n, int size, int out)
{
  struct conn *c = calloc((size_t)n, sizeof(*c));
  int ep = epoll_create1(0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; i++) {
    c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
      perror("tcp_floor: connect");
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
  }
  long cap = 1 << 24, n_lat = 0, n_msgs = 0;
  double *lat = malloc((size_t)cap * sizeof(double));
  static unsigned char buf[1 << 20];
  struct epoll_event evs[256];
  int open_fds = n;
  double cpu0 = cpu_s();
  while (open_fds > 0) {
    int k = epoll_wait(ep, evs, 256, 5000);
    if (k <= 0)
      break;
    int64_t now = mono_ns();
    for (int e = 0; e < k; e++) {
      struct conn *cc = evs[e].data.ptr;
      ssize_t r = recv(cc->fd, buf, sizeof(buf), 0);
      if (r <= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, cc->fd, NULL);
        close(cc->fd);
        open_fds--;
        continue;
      }
      for (ssize_t off = 0; off < r;) {
        if (cc->pos < HDR) {
          ssize_t take = HDR - cc->pos < r - off ? HDR - cc->pos : r - off;
          memcpy(cc->hdr + cc->pos, buf + off, (size_t)take);
          cc->pos += (int)take;
          off += take;
          if (cc->pos == HDR && n_lat < cap) {
            int64_t t0;
            memcpy(&t0, cc->hdr, HDR);
            lat[n_lat++] = (double)(now - t0) / 1e6;
          }
          continue;
        }
        ssize_t take = size - cc->pos < r - off ? size - cc->pos : r - off;
        cc->pos += (int)take;
        off += take;
        if (cc->pos == size) {
          cc->pos = 0;
          n_msgs++;
        }
      }
    }
  }
  double cpu = cpu_s() - cpu0;
  qsort(lat, (size_t)n_lat, sizeof(double), cmp_d);
  dprintf(out, "%ld %.3f %.1f %.1f %.1f %.1f %.1f\n", n_msgs, cpu, pct(lat, n_lat, 0.5),
          pct(lat, n_lat, 0.9), pct(lat, n_lat, 0.99), n_lat ? lat[n_lat - 1] : 0.0,
          n_msgs ? cpu / (double)n_msgs * 1e6 : 0.0);
  return 0;
}

/* One sending thread: its slice fd[lo, hi) every tick. */
struct sender {
  const int *fd;
  int lo, hi, size;
  long ticks;
  int64_t start, period;
  double *fan; /* per tick: tick start -> this thread's last send returned, ms */
  long late;
  int failed;
};

static void *send_ticks(void *arg)
{
  struct sender *s = arg;
  unsigned char *msg = calloc(1, (size_t)s->size);
  s->failed = !msg;
  for (long t = 0; t < s->ticks && !s->failed; t++) {
    int64_t t0 = s->start + t * s->period;
    int64_t now = mono_ns();
    if (now < t0) {
      struct timespec ts = {(time_t)((t0 - now) / 1000000000), (long)((t0 - now) % 1000000000)};
      nanosleep(&ts, NULL);
    } else {
      s->late++;
    }
    memcpy(msg, &t0, HDR);
    for (int i = s->lo; i < s->hi && !s->failed; i++)
      for (ssize_t off = 0; off < s->size && !s->failed;) {
        ssize_t w = send(s->fd[i], msg + off, (size_t)(s->size - off), MSG_NOSIGNAL);
        s->failed = w < 0 && errno != EINTR;
        off += w > 0 ? w : 0;
      }
    s->fan[t] = (double)(mono_ns() - t0) / 1e6;
  }
  free(msg);
  return NULL;
}

int main(int argc, char **argv)
{
  int n = 10000, rate = 10, size = 2700, port = 18990, threads = 1;
  double dur = 10;
  for (int i = 1; i < argc; i += 2) {
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (strcmp(argv[i], "--clients") == 0)
      n = atoi(v);
    else if (strcmp(argv[i], "--rate") == 0)
      rate = atoi(v);
    else if (strcmp(argv[i], "--size") == 0)
      size = atoi(v);
    else if (strcmp(argv[i], "--duration") == 0)
      dur = atof(v);
    else if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(v);
    else if (strcmp(argv[i], "--port") == 0)
      port = atoi(v);
    else {
      fprintf(stderr, "usage: tcp_floor [--clients N] [--rate R] [--size S] [--duration D] "
                      "[--threads T] [--port P]\n");
      return 2;
    }
  }
  if (n < 1 || rate < 1 || size < HDR || size > (1 << 20) || !(dur > 0) || threads < 1 ||
      threads > 64 || threads > n || port < 1 || port > 65535) {
    fprintf(stderr, "tcp_floor: bad arguments\n");
    return 2;
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4096) != 0) {
    perror("tcp_floor: listen");
    return 1;
  }
  int pp[2];
  if (pipe(pp) != 0)
    return 1;
  pid_t pid = fork();
  if (pid == 0) {
    close(ls);
    close(pp[0]);
    _exit(receiver(port, n, size, pp[1]));
  }
  close(pp[1]);
  int *fd = malloc((size_t)n * sizeof(int));
  for (int i = 0; i < n; i++) {
    fd[i] = accept(ls, NULL, NULL);
    if (fd[i] < 0) {
      perror("tcp_floor: accept");
      return 1;
    }
    setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  long ticks = (long)(dur * rate), late = 0;
  int64_t period = 1000000000LL / rate, start = mono_ns() + 200000000LL;
  struct sender *sd = calloc((size_t)threads, sizeof(*sd));
  pthread_t *th = calloc((size_t)threads, sizeof(*th));
  double *fan = calloc((size_t)ticks, sizeof(double));
  double cpu0 = cpu_s();
  for (int k = 0; k < threads; k++) {
    sd[k] = (struct sender){.fd = fd,
                            .lo = (int)((long)n * k / threads),
                            .hi = (int)((long)n * (k + 1) / threads),
                            .size = size,
                            .ticks = ticks,
                            .start = start,
                            .period = period,
                            .fan = calloc((size_t)ticks, sizeof(double))};
    pthread_create(&th[k], NULL, send_ticks, &sd[k]);
  }
  int failed = 0;
  for (int k = 0; k < threads; k++) {
    pthread_join(th[k], NULL);
    failed |= sd[k].failed;
    late += sd[k].late;
    for (long t = 0; t < ticks; t++)
      if (sd[k].fan[t] > fan[t])
        fan[t] = sd[k].fan[t]; /* a tick is out when its slowest thread is */
    free(sd[k].fan);
  }
  double cpu = cpu_s() - cpu0;
  for (int i = 0; i < n; i++)
    close(fd[i]);
  if (failed) {
    perror("tcp_floor: send");
    return 1;
  }
  char line[256] = {0};
  ssize_t got = read(pp[0], line, sizeof(line) - 1);
  waitpid(pid, NULL, 0);
  long r_msgs = 0;
  double r_cpu = 0, p50 = 0, p90 = 0, p99 = 0, mx = 0, r_us = 0;
  if (got <= 0 || sscanf(line, "%ld %lf %lf %lf %lf %lf %lf", &r_msgs, &r_cpu, &p50, &p90, &p99,
                         &mx, &r_us) != 7) {
    fprintf(stderr, "tcp_floor: no result from the receiver\n");
    return 1;
  }
  qsort(fan, (size_t)ticks, sizeof(double), cmp_d);
  long sent = ticks * n;
  printf("clients %d rate %d size %d duration_s %.0f threads %d\n", n, rate, size, dur, threads);
  printf("offered %ld msgs/s, received %ld of %ld\n", (long)n * rate, r_msgs, sent);
  printf("latency_ms (tick start -> received) p50 %.1f p90 %.1f p99 %.1f max %.1f\n", p50, p90, p99,
         mx);
  printf("fan-out per tick (tick start -> last send returned) ms p50 %.1f p99 %.1f max %.1f; "
         "thread-ticks started late %ld of %ld\n",
         pct(fan, ticks, 0.5), pct(fan, ticks, 0.99), fan[ticks - 1], late, ticks * threads);
  printf("cpu (100 %% = one core): sender %.0f %% (%.1f us/msg), receiver %.0f %% (%.1f us/msg)\n",
         cpu / dur * 100.0, cpu / (double)sent * 1e6, r_cpu / dur * 100.0, r_us);
  return 0;
}
