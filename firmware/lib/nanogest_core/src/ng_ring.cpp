#include "ng_ring.h"

#include <string.h>

namespace ng {

bool ByteRing::push(const uint8_t* data, size_t length) {
  if (length > free_space()) return false;
  size_t tail = head_ + size_;
  if (tail >= capacity_) tail -= capacity_;
  size_t first = capacity_ - tail;
  if (first > length) first = length;
  memcpy(storage_ + tail, data, first);
  memcpy(storage_, data + first, length - first);
  size_ += length;
  return true;
}

size_t ByteRing::peek(const uint8_t** data) const {
  *data = storage_ + head_;
  size_t run = capacity_ - head_;
  return run < size_ ? run : size_;
}

void ByteRing::pop(size_t length) {
  if (length > size_) length = size_;
  head_ += length;
  if (head_ >= capacity_) head_ -= capacity_;
  size_ -= length;
  if (size_ == 0) head_ = 0;
}

size_t ByteRing::read(uint8_t* out, size_t length) {
  size_t copied = 0;
  while (copied < length && !empty()) {
    const uint8_t* run = nullptr;
    size_t n = peek(&run);
    if (n > length - copied) n = length - copied;
    memcpy(out + copied, run, n);
    pop(n);
    copied += n;
  }
  return copied;
}

}  // namespace ng
