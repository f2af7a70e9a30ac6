/* ceilings: the machine's own ceilings for the fitter's floors (METHOD.md:
 * measure them once rather than trust the datasheet).  Prints one line of
 * key=value pairs:
 *   fp64_tflops      a DFMA loop, 8 independent chains per thread, full chip
 *   d2d_tbps         a 2 GiB device-to-device copy, bytes read + written
 *   h2d_gbps/d2h_gbps  1 GiB pinned copies over the host link
 *   h2d_pageable_gbps  the same from ordinary (pageable) host memory
 *   host_memcpy_gbps   one core copying 1 GiB pageable -> pinned (the staging step)
 * Medians of several runs after a warm-up; device work timed with events. */
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 7

static void ck(cudaError_t e, const char *what)
{
  if (e != cudaSuccess) {
    fprintf(stderr, "ceilings: %s: %s\n", what, cudaGetErrorString(e));
    exit(1);
  }
}

/* Geometry: any 1-D grid; each thread runs 8 independent FMA chains for
 * 'iters' steps (2 * 8 * iters flops) and writes one value so nothing is
 * optimised away. */
__global__ void dfma_kernel(double *out, int iters, double m, double c)
{
  double a0 = threadIdx.x * 1e-3, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3;
  double a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7;
  for (int i = 0; i < iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

static int cmp(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static float median(float *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

/* Median time in ms of REPS copies of 'bytes' (after one warm-up). */
static float time_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                       cudaEvent_t e0, cudaEvent_t e1)
{
  float ms[REPS];
  ck(cudaMemcpy(dst, src, bytes, kind), "warm-up copy");
  for (int r = 0; r < REPS; r++) {
    ck(cudaEventRecord(e0, 0), "cudaEventRecord");
    ck(cudaMemcpyAsync(dst, src, bytes, kind, 0), "cudaMemcpyAsync");
    ck(cudaEventRecord(e1, 0), "cudaEventRecord");
    ck(cudaEventSynchronize(e1), "cudaEventSynchronize");
    ck(cudaEventElapsedTime(&ms[r], e0, e1), "cudaEventElapsedTime");
  }
  return median(ms, REPS);
}

int main(void)
{
  cudaDeviceProp prop;
  cudaEvent_t e0, e1;
  ck(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  ck(cudaEventCreate(&e0), "cudaEventCreate");
  ck(cudaEventCreate(&e1), "cudaEventCreate");

  /* FP64 FMA rate. */
  const int threads = 256, blocks = prop.multiProcessorCount * 8, iters = 1 << 16;
  double *d_sink;
  ck(cudaMalloc((void **)&d_sink, (size_t)threads * blocks * sizeof(double)), "cudaMalloc sink");
  float ms[REPS];
  dfma_kernel<<<blocks, threads>>>(d_sink, iters, 1.0000001, 1e-9);
  ck(cudaGetLastError(), "launch dfma_kernel");
  ck(cudaDeviceSynchronize(), "dfma warm-up");
  for (int r = 0; r < REPS; r++) {
    ck(cudaEventRecord(e0, 0), "cudaEventRecord");
    dfma_kernel<<<blocks, threads>>>(d_sink, iters, 1.0000001, 1e-9);
    ck(cudaGetLastError(), "launch dfma_kernel");
    ck(cudaEventRecord(e1, 0), "cudaEventRecord");
    ck(cudaEventSynchronize(e1), "cudaEventSynchronize");
    ck(cudaEventElapsedTime(&ms[r], e0, e1), "cudaEventElapsedTime");
  }
  double flops = 2.0 * 8.0 * iters * (double)threads * blocks;
  double fp64_tflops = flops / (median(ms, REPS) * 1e-3) / 1e12;

  /* HBM: device-to-device copy, counting bytes read and written. */
  const size_t big = (size_t)2 << 30;
  void *d_a, *d_b;
  ck(cudaMalloc(&d_a, big), "cudaMalloc a");
  ck(cudaMalloc(&d_b, big), "cudaMalloc b");
  ck(cudaMemset(d_a, 1, big), "cudaMemset a");
  double d2d_tbps =
      2.0 * big / (time_copy(d_b, d_a, big, cudaMemcpyDeviceToDevice, e0, e1) * 1e-3) / 1e12;

  /* Host link, pinned and pageable, and the host staging memcpy. */
  const size_t gib = (size_t)1 << 30;
  void *h_pinned, *h_pageable = malloc(gib);
  ck(cudaMallocHost(&h_pinned, gib), "cudaMallocHost");
  if (h_pageable == NULL) {
    fprintf(stderr, "ceilings: out of host memory\n");
    return 1;
  }
  memset(h_pageable, 2, gib);
  memset(h_pinned, 3, gib);
  double h2d = gib / (time_copy(d_a, h_pinned, gib, cudaMemcpyHostToDevice, e0, e1) * 1e-3) / 1e9;
  double d2h = gib / (time_copy(h_pinned, d_a, gib, cudaMemcpyDeviceToHost, e0, e1) * 1e-3) / 1e9;
  double h2d_pg =
      gib / (time_copy(d_a, h_pageable, gib, cudaMemcpyHostToDevice, e0, e1) * 1e-3) / 1e9;
  float cpy[REPS];
  for (int r = 0; r < REPS; r++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memcpy(h_pinned, h_pageable, gib);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cpy[r] = (float)((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
  }
  double host_memcpy = gib / (median(cpy, REPS) * 1e-3) / 1e9;

  printf("device=\"%s\" sm=%d cc=%d.%d l2_mb=%.0f fp64_tflops=%.2f d2d_tbps=%.3f h2d_gbps=%.1f "
         "d2h_gbps=%.1f h2d_pageable_gbps=%.1f host_memcpy_gbps=%.1f\n",
         prop.name, prop.multiProcessorCount, prop.major, prop.minor, prop.l2CacheSize / 1048576.0,
         fp64_tflops, d2d_tbps, h2d, d2h, h2d_pg, host_memcpy);
  cudaFreeHost(h_pinned);
  free(h_pageable);
  cudaFree(d_a);
  cudaFree(d_b);
  cudaFree(d_sink);
  return 0;
}
