// Runs a kernel's block on the CPU (QS_HOST builds, kernels/qs_host.h): the block's threads are
// coroutines (ucontext) run one after another, each until its next __syncthreads or its end; a barrier
// is passed when every thread has reached it. threadIdx is set before each thread resumes, __shared__
// arrays are static (one per block, as on a GPU), and the dynamic shared memory is a buffer of the
// requested size. Threads that reach different numbers of barriers are a defect of the kernel: the run
// stops with a message.
#pragma once
#include <ucontext.h>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace qs_runner {
struct Block {
  ucontext_t main;
  std::vector<ucontext_t> ctx;
  std::vector<std::vector<char>> stacks;
  std::vector<char> done;
  int cur = 0;
  const std::function<void()>* body = nullptr;
};
inline Block* active = nullptr;
inline void barrier() { swapcontext(&active->ctx[active->cur], &active->main); }
inline void entry() {
  (*active->body)();
  active->done[active->cur] = 1; // returns to uc_link: the scheduler
}
} // namespace qs_runner

// Runs body() as the `threads` threads of block `block` of `grid`, with `smem` bytes of dynamic shared
// memory (16-byte aligned).
inline void qs_host_run_block(qs_dim3 grid, qs_dim3 block, int threads, size_t smem, const std::function<void()>& body) {
  static qs_runner::Block b;
  static std::vector<unsigned char> shared;
  const size_t stack = 128 * 1024;
  if ((int)b.ctx.size() != threads) {
    b.ctx.assign(threads, ucontext_t{});
    b.stacks.assign(threads, std::vector<char>(stack));
  }
  shared.assign(smem + 16, 0xA5); // stale-looking contents: a kernel must not read what it did not write
  qs_host_dynamic_shared = (qs_u8*)(((unsigned long long)shared.data() + 15) & ~15ull);
  b.done.assign(threads, 0);
  b.body = &body;
  qs_runner::active = &b;
  for (int t = 0; t < threads; t++) {
    getcontext(&b.ctx[t]);
    b.ctx[t].uc_stack.ss_sp = b.stacks[t].data();
    b.ctx[t].uc_stack.ss_size = stack;
    b.ctx[t].uc_link = &b.main;
    makecontext(&b.ctx[t], qs_runner::entry, 0);
  }
  gridDim = grid;
  blockIdx = block;
  blockDim = {(unsigned)threads, 1, 1};
  qs_host_barrier = qs_runner::barrier;
  for (int live = threads; live > 0;) {
    // one phase: every live thread runs to its next barrier or its end
    for (int t = 0; t < threads; t++) {
      if (b.done[t]) continue;
      b.cur = t;
      threadIdx = {(unsigned)t, 0, 0};
      swapcontext(&b.main, &b.ctx[t]);
    }
    int finished = 0;
    for (int t = 0; t < threads; t++) finished += b.done[t];
    if (finished != 0 && finished != threads) {
      fprintf(stderr, "block (%u,%u,%u): %d of %d threads ended while the others wait at a barrier\n", block.x, block.y,
              block.z, finished, threads);
      exit(7);
    }
    live = threads - finished;
  }
  qs_host_barrier = nullptr;
  threadIdx = {0, 0, 0};
}
