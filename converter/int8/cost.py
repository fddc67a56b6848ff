"""What a model costs on the nRF52840 (Nano 33 BLE Sense): flash, RAM, and an estimated latency.

The nRF52840 has 1024 KB of flash and 256 KB of RAM. The model does not get all of it:

* flash: the Arduino bootloader keeps the first 64 KB, and the sketch around the model (Arduino
  mbed core with USB serial, the IMU drivers, the TFLM kernels the resolver registers, our
  firmware) is allowed 256 KB; so the default model budget is 1024 - 320 = 704 KB.
* RAM: the mbed core (RTOS, USB CDC, heap), stacks and the firmware's own buffers are allowed
  96 KB; so the default budget for the tensor arena (plus a GRU's state) is 256 - 96 = 160 KB.

Latency is a MAC-bound estimate: MACs x cycles per MAC / clock. 4 cycles per int8 MAC is our
assumption for TFLM's CMSIS-NN kernels on the Cortex-M4 at 64 MHz, averaged over the small layers
of these models (per-op overhead, elementwise ops and activations are not counted).
"""

from __future__ import annotations

from converter import ConverterError

FLASH_TOTAL_KB = 1024
FLASH_ALLOWANCE_KB = 64 + 256  # bootloader + core, drivers, TFLM kernels and firmware
RAM_TOTAL_KB = 256
RAM_ALLOWANCE_KB = 96  # mbed core, USB, stacks, heap and firmware buffers
DEFAULT_FLASH_BUDGET_KB = FLASH_TOTAL_KB - FLASH_ALLOWANCE_KB
DEFAULT_RAM_BUDGET_KB = RAM_TOTAL_KB - RAM_ALLOWANCE_KB
CPU_HZ = 64_000_000
CYCLES_PER_MAC = 4.0


def latency_ms(macs: int, cycles_per_mac: float = CYCLES_PER_MAC, cpu_hz: int = CPU_HZ) -> float:
    return 1000.0 * macs * cycles_per_mac / cpu_hz


def budget_report(model_bytes: int, ram_bytes: int, flash_budget_kb: float, ram_budget_kb: float) -> dict:
    return {
        "flash_budget_bytes": int(flash_budget_kb * 1024),
        "ram_budget_bytes": int(ram_budget_kb * 1024),
        "flash_used_bytes": model_bytes,
        "ram_used_bytes": ram_bytes,
        "flash_allowance_note": f"{FLASH_TOTAL_KB} KB flash minus {FLASH_ALLOWANCE_KB} KB for bootloader, core, "
                                "drivers, TFLM kernels and firmware (default budget)",
        "ram_allowance_note": f"{RAM_TOTAL_KB} KB RAM minus {RAM_ALLOWANCE_KB} KB for the mbed core, USB, stacks, "
                              "heap and firmware buffers (default budget)",
    }


def check_budgets(budget: dict) -> None:
    """Refuse a model over its flash or RAM budget, with the numbers."""
    over = []
    if budget["flash_used_bytes"] > budget["flash_budget_bytes"]:
        over.append(f"the model needs {budget['flash_used_bytes']} bytes of flash but the budget is "
                    f"{budget['flash_budget_bytes']} bytes ({budget['flash_budget_bytes'] / 1024:g} KB, --flash-budget-kb)")
    if budget["ram_used_bytes"] > budget["ram_budget_bytes"]:
        over.append(f"the model needs {budget['ram_used_bytes']} bytes of RAM (tensor arena + state) but the budget "
                    f"is {budget['ram_budget_bytes']} bytes ({budget['ram_budget_bytes'] / 1024:g} KB, --ram-budget-kb)")
    if over:
        raise ConverterError("; ".join(over) + "; headers not written. Make the model smaller (fewer filters or "
                             "units) or raise the budget if your firmware leaves more room")
