// Instruction counting on QEMU mps2-an386 for the ARM benches (resample_bench.cpp,
// board_tflm_bench.cpp, gate_bench.cpp): SysTick at the processor clock, which QEMU's -icount shift=0
// advances once per instruction, and a loop of known instruction count to calibrate it.
#pragma once
#include <stdint.h>
#include <stdio.h>

namespace ng_bench {

volatile uint32_t* const kSysTickCtrl = reinterpret_cast<volatile uint32_t*>(0xE000E010);
volatile uint32_t* const kSysTickLoad = reinterpret_cast<volatile uint32_t*>(0xE000E014);
volatile uint32_t* const kSysTickVal = reinterpret_cast<volatile uint32_t*>(0xE000E018);

// Counts down from 2^24 - 1 at the processor clock, no interrupt.
inline void systick_start() {
  *kSysTickLoad = 0xFFFFFFu;
  *kSysTickVal = 0;
  *kSysTickCtrl = 5u;  // enable, processor clock, no interrupt
}

// Ticks since an earlier read of *kSysTickVal (24 bits: read again before it wraps).
inline uint32_t ticks_since(uint32_t earlier) { return (earlier - *kSysTickVal) & 0xFFFFFFu; }

// 2 * n + 2 instructions: mov, then n times (subs, bne).
__attribute__((noinline)) inline void known_loop(uint32_t n) {
  asm volatile(
      "mov r0, %0\n"
      "1: subs r0, r0, #1\n"
      "bne 1b\n"
      :
      : "r"(n)
      : "r0", "cc");
}

// The line every bench ends with, "CALIBRATION insns ticks": a known loop timed in SysTick ticks, which
// the Python side turns into instructions per tick (bench/arm_qemu.py).
inline void print_calibration() {
  const uint32_t n = 1000000u;
  const uint32_t t0 = *kSysTickVal;
  known_loop(n);
  const uint32_t d = ticks_since(t0);
  printf("CALIBRATION %lu %lu\n", static_cast<unsigned long>(2u * n + 2u), static_cast<unsigned long>(d));
  fflush(stdout);
}

}  // namespace ng_bench
