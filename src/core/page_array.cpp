// SPDX-License-Identifier: GPL-2.0
#include "page_array.h"

namespace ckpt {

PageArrayChain::~PageArrayChain() {
  release();
  while (head_) {
    Array* next = head_->next;
    free_array(head_);
    head_ = next;
  }
}

Result<PageArrayChain::Array*> PageArrayChain::allocate_array() {
  AllocChecker ac;
  Array* array = new (&ac) Array{nullptr, nullptr, 0, nullptr};
  if (!ac.check()) return error(kENOMEM);
  array->addrs = static_cast<uint64_t*>(ckpt_kmalloc(array_bytes()));
  array->pages = static_cast<ckpt_page_ref**>(ckpt_kmalloc(array_bytes()));
  if (!array->addrs || !array->pages) {
    ckpt_kfree(array->addrs);
    ckpt_kfree(array->pages);
    delete array;
    return error(kENOMEM);
  }
  meter_.charge(sizeof(Array) + 2 * array_bytes());
  return array;
}

void PageArrayChain::free_array(Array* array) {
  ckpt_kfree(array->addrs);
  ckpt_kfree(array->pages);
  delete array;
  meter_.uncharge(sizeof(Array) + 2 * array_bytes());
}

Result<PageArrayChain::Slots> PageArrayChain::reserve() {
  if (full()) return error(kENOSPC);
  if (!holds_pages_) return error(kEINVAL);  // dropped: release() first
  if (current_ && current_->used == per_array_) current_ = current_->next;
  if (!current_) {
    // Reuse an array a larger earlier batch left behind, else grow.
    CKPT_TRY_ASSIGN(Array* array, allocate_array());
    if (tail_)
      tail_->next = array;
    else
      head_ = array;
    tail_ = array;
    current_ = array;
    allocated_++;
  }
  return Slots{current_->addrs + current_->used, current_->pages + current_->used,
               per_array_ - current_->used};
}

void PageArrayChain::commit(uint32_t count) {
  current_->used += count;
  size_ += count;
}

void PageArrayChain::drop_pages() {
  if (!holds_pages_) return;
  for (Array* array = head_; array && array->used; array = array->next)
    for (uint32_t i = 0; i < array->used; i++) ckpt_page_put(array->pages[i]);
  holds_pages_ = false;
}

void PageArrayChain::release() {
  drop_pages();
  for (Array* array = head_; array && array->used; array = array->next) array->used = 0;
  size_ = 0;
  current_ = head_;
  holds_pages_ = true;
}

}  // namespace ckpt
