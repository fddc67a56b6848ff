// Fixed-capacity byte ring for the TX path. Frames go in whole or not at all, so a
// full ring drops a frame (the caller counts it) instead of blocking the sampler
// or sending half a frame. The storage is owned by the caller (no heap).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ng {

class ByteRing {
 public:
  ByteRing(uint8_t* storage, size_t capacity)
      : storage_(storage), capacity_(capacity), head_(0), size_(0) {}

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t free_space() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }

  // Appends all `length` bytes and returns true, or appends nothing and returns false.
  bool push(const uint8_t* data, size_t length);

  // The longest contiguous run of queued bytes starting at the oldest one.
  size_t peek(const uint8_t** data) const;
  // Removes up to `length` of the oldest bytes (after they were written out).
  void pop(size_t length);
  // Copies out and removes up to `length` bytes; returns how many.
  size_t read(uint8_t* out, size_t length);

 private:
  uint8_t* storage_;
  size_t capacity_;
  size_t head_;  // index of the oldest byte
  size_t size_;
};

}  // namespace ng
