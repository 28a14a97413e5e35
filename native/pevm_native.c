/*
 * pevm_native: tiny helpers the JS runtime cannot do by itself.
 *
 * Loaded through bun:ffi (src/native/index.ts). Every function is a plain C
 * function taking and returning integers or pointers so the FFI signatures stay
 * trivial. Linux gets real implementations; elsewhere the file still compiles
 * and returns "unsupported" values (-ENOSYS, -1, or a safe default) so the JS
 * side can fall back.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu, pthread_setaffinity_np, CPU_ALLOC */
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h> /* uintptr_t */

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#ifndef ENOSYS
#define ENOSYS 38
#endif

#define PEVM_FALLBACK_CACHE_LINE 64

/* Bumped whenever an exported signature changes, so a stale build is detected. */
int pevm_native_abi_version(void) { return 1; }

int pevm_cpu_count(void) {
#if defined(_SC_NPROCESSORS_ONLN)
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
#else
  return 1;
#endif
}

static int configured_cpu_count(void) {
#if defined(_SC_NPROCESSORS_CONF)
  long n = sysconf(_SC_NPROCESSORS_CONF);
  if (n > 0) return (int)n;
#endif
  return pevm_cpu_count();
}

int pevm_cache_line_size(void) {
#if defined(_SC_LEVEL1_DCACHE_LINESIZE)
  long n = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
  /* Some kernels/containers report 0; only trust a sane power of two. */
  if (n >= 16 && n <= 4096 && (n & (n - 1)) == 0) return (int)n;
#endif
  return PEVM_FALLBACK_CACHE_LINE;
}

int pevm_current_cpu(void) {
#if defined(__linux__)
  int cpu = sched_getcpu();
  return cpu >= 0 ? cpu : -1;
#else
  return -1;
#endif
}

#if defined(__linux__)
/*
 * Apply an affinity mask to the calling thread only. pthread_setaffinity_np on
 * pthread_self() targets this thread's kernel task, never the whole process,
 * which is what lets each Bun Worker pin itself independently.
 */
static int set_calling_thread_affinity(int first_cpu, int last_cpu) {
  int highest = last_cpu + 1;
  if (highest < CPU_SETSIZE) highest = CPU_SETSIZE;
  cpu_set_t *set = CPU_ALLOC((size_t)highest);
  if (set == NULL) return -ENOMEM;
  size_t size = CPU_ALLOC_SIZE((size_t)highest);
  CPU_ZERO_S(size, set);
  for (int cpu = first_cpu; cpu <= last_cpu; cpu++) CPU_SET_S((size_t)cpu, size, set);
  int rc = pthread_setaffinity_np(pthread_self(), size, set);
  CPU_FREE(set);
  return rc == 0 ? 0 : -rc; /* pthread_* return the error number directly */
}
#endif

int pevm_pin_current_thread(int cpu) {
#if defined(__linux__)
  if (cpu < 0) return -EINVAL;
  return set_calling_thread_affinity(cpu, cpu);
#else
  (void)cpu;
  return -ENOSYS;
#endif
}

/* Allow the calling thread on every configured CPU again (undo a pin). */
int pevm_unpin_current_thread(void) {
#if defined(__linux__)
  /* The kernel intersects the mask with the cpuset, so listing all is safe. */
  return set_calling_thread_affinity(0, configured_cpu_count() - 1);
#else
  return -ENOSYS;
#endif
}

/* Number of CPUs the calling thread may currently run on; -errno on failure. */
int pevm_allowed_cpu_count(void) {
#if defined(__linux__)
  int highest = configured_cpu_count();
  if (highest < CPU_SETSIZE) highest = CPU_SETSIZE;
  cpu_set_t *set = CPU_ALLOC((size_t)highest);
  if (set == NULL) return -ENOMEM;
  size_t size = CPU_ALLOC_SIZE((size_t)highest);
  CPU_ZERO_S(size, set);
  int rc = pthread_getaffinity_np(pthread_self(), size, set);
  int count = rc == 0 ? CPU_COUNT_S(size, set) : -rc;
  CPU_FREE(set);
  return count;
#else
  return -ENOSYS;
#endif
}

/*
 * Bytes to add to `base` so it lands on an `align` boundary of the real
 * address. bun:ffi passes a typed array's data pointer here, so the JS side
 * never has to handle addresses above 2^53 itself. -EINVAL if align is not a
 * power of two.
 */
int pevm_align_offset(const void *base, int align) {
  if (align <= 0 || (align & (align - 1)) != 0) return -EINVAL;
  uintptr_t mask = (uintptr_t)align - 1;
  uintptr_t addr = (uintptr_t)base;
  return (int)(((addr + mask) & ~mask) - addr);
}

/* 1 when `p` sits on an `align` boundary, 0 when not, -EINVAL on a bad align. */
int pevm_is_aligned(const void *p, int align) {
  if (align <= 0 || (align & (align - 1)) != 0) return -EINVAL;
  return ((uintptr_t)p & ((uintptr_t)align - 1)) == 0;
}

/* CPU spin-wait hint, for busy-wait loops that poll shared memory. */
void pevm_cpu_relax(int iterations) {
  for (int i = 0; i < iterations; i++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
  }
}
