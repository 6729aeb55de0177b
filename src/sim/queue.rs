//! The simulator's event queue: a binary min-heap ordered by virtual time,
//! ties broken by insertion order.
//!
//! Every event gets a sequence number when it is pushed; the heap orders
//! entries by `(at, seq)`. The sequence numbers are unique, so the order is
//! total and the pop order depends only on the pushes, never on the heap's
//! shape: the same pushes always pop in the same order, on every platform.
//!
//! Why not `std::collections::BinaryHeap`: the queue is on the path of every
//! event, and the standard heap moves its elements through `mem::swap` and a
//! "hole" that re-reads the element it has just written, which for an entry
//! of several words compiles to narrow stores followed by a wide load of the
//! same bytes (a store-forwarding stall on x86-64, the largest single cost
//! of an idle cluster's step in a sampling profile).
//!
//! Here the heap holds only 16-byte keys, `(at << 64) | (seq << 32) | slot`,
//! compared as one `u128`; the events themselves stay put in a slab
//! (`slots`, free slots reused) from push to pop. A sift moves one key per
//! level with one read and one write, and an event (a message in transit
//! is about 100 bytes) is written once and read once. The sequence number
//! has 32 bits: when it runs out (after 4 billion pushes) the queued keys
//! are renumbered in their order (`EventQueue::renumber`), which keeps
//! every future pop the same as with unbounded numbers.

/// Bits of a key below the time: sequence number, then slot.
const SEQ_SHIFT: u32 = 32;

/// A min-heap of events keyed by `(time, insertion order)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// Keys `(at << 64) | (seq << 32) | slot`, a binary min-heap.
    heap: Vec<u128>,
    /// The queued events, by slot; `None` where a slot is free.
    slots: Vec<Option<E>>,
    /// Free slots, reused last freed first.
    free: Vec<u32>,
    /// The next sequence number (at most `u32::MAX + 1`).
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Queue `event` at time `at`, after every event already queued at `at`.
    /// Returns the event's slot, which [`EventQueue::pop`] returns with it
    /// (so a caller can keep data about the event beside the queue, in a
    /// vector indexed by slot).
    #[inline(always)]
    pub fn push(&mut self, at: u64, event: E) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => {
                // A free slot holds `None`: nothing to drop.
                std::mem::forget(self.slots[s as usize].replace(event));
                s
            }
            None => {
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        if self.next_seq > u64::from(u32::MAX) {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = (u128::from(at) << 64) | u128::from(seq << SEQ_SHIFT) | u128::from(slot);
        let mut i = self.heap.len();
        self.heap.push(e);
        // Sift up: move parents down until `e`'s place is found.
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.heap[parent];
            if e >= p {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = e;
        slot
    }

    /// The earliest event, its time and the slot it had.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(u64, u32, E)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        let top = if n == 0 {
            last
        } else {
            let top = self.heap[0];
            // Sift `last` down from the root.
            let mut i = 0;
            loop {
                let left = 2 * i + 1;
                if left >= n {
                    break;
                }
                let l = self.heap[left];
                // The smaller child, picked without a branch (which child
                // it is cannot be predicted).
                let (child, c) = if left + 1 < n {
                    let r = self.heap[left + 1];
                    let right = r < l;
                    (left + usize::from(right), if right { r } else { l })
                } else {
                    (left, l)
                };
                if c >= last {
                    break;
                }
                self.heap[i] = c;
                i = child;
            }
            self.heap[i] = last;
            top
        };
        let slot = top as u32;
        let event = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(((top >> 64) as u64, slot, event))
    }

    /// Give the queued keys the sequence numbers `0..len` in their order,
    /// so numbering can go on. A sorted array is a valid heap, and the
    /// relative order of all keys is unchanged.
    #[cold]
    fn renumber(&mut self) {
        crate::sort::sort(&mut self.heap);
        let seq_mask = u128::from(u32::MAX) << SEQ_SHIFT;
        for (rank, k) in self.heap.iter_mut().enumerate() {
            *k = (*k & !seq_mask) | ((rank as u128) << SEQ_SHIFT);
        }
        self.next_seq = self.heap.len() as u64;
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|k| (k >> 64) as u64)
    }

    /// Drop every queued event (the sequence keeps counting).
    pub fn clear(&mut self) {
        self.heap.clear();
        self.slots.clear();
        self.free.clear();
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Random interleaved pushes and pops with many ties pop in
    /// `(time, insertion order)` order, as a `BinaryHeap` of
    /// `Reverse((time, seq))` does. `start_seq` starts the queue's
    /// numbering there, to cross its renumbering.
    fn check_against_reference(start_seq: u64) {
        let mut rng = Rng::new(5);
        let mut q = EventQueue {
            next_seq: start_seq,
            ..EventQueue::default()
        };
        let mut reference = BinaryHeap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for _ in 0..20_000 {
            if rng.chance(0.55) {
                let at = now + rng.range_inclusive(0, 20);
                q.push(at, seq as u32);
                reference.push(Reverse((at, seq)));
                seq += 1;
            } else {
                let want = reference.pop().map(|Reverse((at, s))| (at, s as u32));
                assert_eq!(q.pop().map(|(at, _, e)| (at, e)), want);
                if let Some((at, _)) = want {
                    now = at;
                }
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.peek_time(), reference.peek().map(|r| r.0 .0));
        }
        while let Some(Reverse((at, s))) = reference.pop() {
            assert_eq!(q.pop().map(|(at, _, e)| (at, e)), Some((at, s as u32)));
        }
        assert!(q.is_empty() && q.pop().is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pops_by_time_then_insertion() {
        check_against_reference(0);
    }

    /// When the 32-bit sequence numbers run out, the queued events are
    /// renumbered without changing the order of any pop.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn renumbering_keeps_the_order() {
        check_against_reference(u64::from(u32::MAX) - 3_000);
    }
}
