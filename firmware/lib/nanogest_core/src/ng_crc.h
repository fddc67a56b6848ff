// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor),
// the checksum of every nanogest frame. Check value: 0x29B1 for "123456789".
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_protocol_defs.h"

namespace ng {

// Continues a CRC over `len` more bytes; start with crc = proto::kCrcInit.
uint16_t crc16_update(uint16_t crc, const uint8_t* data, size_t len);

inline uint16_t crc16_ccitt_false(const uint8_t* data, size_t len) {
  return crc16_update(proto::kCrcInit, data, len);
}

}  // namespace ng
