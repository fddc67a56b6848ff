// Reset and exit for the core's unit tests on QEMU mps2-an386 (Cortex-M4F) with
// ARM semihosting: enable the FPU, zero .bss, run the static constructors (they
// register the test cases), run the tests, and leave QEMU with exit status 0 when
// every case passed and 1 otherwise.
#include <stdint.h>
#include <stdio.h>

#include "ng_test.h"

extern "C" {
extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern uint32_t __stack_top;
void __libc_init_array();
void initialise_monitor_handles();
void Reset_Handler();
void reset_continue();
void Fault_Handler();
}

namespace {

const uint32_t kSysExit = 0x18;
const uint32_t kStoppedApplicationExit = 0x20026;  // QEMU exits with status 0
const uint32_t kStoppedRunTimeError = 0x20023;      // QEMU exits with status 1

[[noreturn]] void semihosting_exit(bool success) {
  register uint32_t op asm("r0") = kSysExit;
  register uint32_t reason asm("r1") = success ? kStoppedApplicationExit : kStoppedRunTimeError;
  asm volatile("bkpt 0xAB" : : "r"(op), "r"(reason) : "memory");
  for (;;) {
  }
}

}  // namespace

// The vector table: initial stack pointer, reset, then the fault handlers.
__attribute__((section(".isr_vector"), used)) const void* const kVectorTable[16] = {
    &__stack_top,
    reinterpret_cast<const void*>(&Reset_Handler),
    reinterpret_cast<const void*>(&Fault_Handler),  // NMI
    reinterpret_cast<const void*>(&Fault_Handler),  // HardFault
    reinterpret_cast<const void*>(&Fault_Handler),  // MemManage
    reinterpret_cast<const void*>(&Fault_Handler),  // BusFault
    reinterpret_cast<const void*>(&Fault_Handler),  // UsageFault
};

// Enables CP10/CP11 (the FPU) before any compiled code can use a VFP register.
extern "C" __attribute__((naked)) void Reset_Handler() {
  asm volatile(
      "ldr r0, =0xE000ED88\n"
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n"
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
      "b reset_continue\n");
}

extern "C" void reset_continue() {
  for (uint32_t* p = &__bss_start__; p < &__bss_end__; ++p) *p = 0;
  initialise_monitor_handles();
  __libc_init_array();
  int failed = ngtest::run_all();
  semihosting_exit(failed == 0);
}

// crti.o normally supplies these (we link with -nostartfiles); nothing to do here.
extern "C" void _init() {}
extern "C" void _fini() {}

extern "C" void Fault_Handler() {
  printf("FAULT: the core tests crashed (hard fault)\n");
  fflush(stdout);
  semihosting_exit(false);
}
