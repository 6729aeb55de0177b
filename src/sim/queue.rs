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
//! of an idle cluster's step in a sampling profile). Here entries are small
//! `Copy` values kept in registers while they sift: each level of a sift
//! moves one entry with one read and one write.

/// One queued event with its time and sequence number.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    at: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// Whether `self` pops before `other`.
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        (self.at, self.seq) < (other.at, other.seq)
    }
}

/// A min-heap of events keyed by `(time, insertion order)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// Queue `event` at time `at`, after every event already queued at `at`.
    #[inline(always)]
    pub fn push(&mut self, at: u64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = Entry { at, seq, event };
        let mut i = self.heap.len();
        self.heap.push(e);
        // Sift up: move parents down until `e`'s place is found.
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.heap[parent];
            if !e.before(&p) {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = e;
    }

    /// The earliest event and its time.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some((last.at, last.event));
        }
        let top = self.heap[0];
        // Sift `last` down from the root.
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let mut child = left;
            let mut c = self.heap[left];
            if left + 1 < n {
                let r = self.heap[left + 1];
                if r.before(&c) {
                    child = left + 1;
                    c = r;
                }
            }
            if !c.before(&last) {
                break;
            }
            self.heap[i] = c;
            i = child;
        }
        self.heap[i] = last;
        Some((top.at, top.event))
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|e| e.at)
    }

    /// Drop every queued event (the sequence keeps counting).
    pub fn clear(&mut self) {
        self.heap.clear();
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

    /// Pops in `(time, insertion order)` order, as a `BinaryHeap` of
    /// `Reverse((time, seq))` does, under random interleaved pushes and pops
    /// with many ties.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pops_by_time_then_insertion() {
        let mut rng = Rng::new(5);
        let mut q = EventQueue::default();
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
                assert_eq!(q.pop(), want);
                if let Some((at, _)) = want {
                    now = at;
                }
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.peek_time(), reference.peek().map(|r| r.0 .0));
        }
        while let Some(Reverse((at, s))) = reference.pop() {
            assert_eq!(q.pop(), Some((at, s as u32)));
        }
        assert!(q.is_empty() && q.pop().is_none());
    }
}
