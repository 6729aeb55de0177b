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
//!
//! A small queue is not a heap but a sorted array, earliest key last: a
//! pop is then a `Vec::pop`, and a push an insertion that moves only the
//! keys earlier than the new one. An idle five-node cluster queues at
//! most four events (the messages in flight: node timers are kept apart,
//! [`super::timers`]), and a new message is usually later than those in
//! flight (the keys it moves) and earlier than the clients' timers, so
//! it moves none to three keys, where the
//! heap sifted a key through its levels at every pop and push (the heap
//! was the largest single cost of an idle cluster: about 120 of its 870
//! instructions per event; sorting saved 50). Above `SORTED_MAX` keys
//! the ascending array becomes a heap (it is one already), and a heap that
//! shrinks to `SORTED_BACK` keys is sorted again. The keys are unique, so
//! both shapes pop the same order.

/// Bits of a key below the time: sequence number, then slot.
const SEQ_SHIFT: u32 = 32;
/// Up to this many events the keys are kept as a sorted array; one more
/// turns them into a heap.
const SORTED_MAX: usize = 32;
/// A heap that shrinks to this many keys is sorted again (half of
/// [`SORTED_MAX`], so a queue near the boundary does not switch at every
/// event).
const SORTED_BACK: usize = 16;

/// A min-heap of events keyed by `(time, insertion order)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// Keys `(at << 64) | (seq << 32) | slot`: while `sorted`, in
    /// descending order (the earliest last); otherwise a binary min-heap.
    heap: Vec<u128>,
    /// Whether `heap` is a sorted array rather than a heap (see the module
    /// docs: small queues are kept sorted).
    sorted: bool,
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
            sorted: true,
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
        self.push_key(at, slot);
        slot
    }

    /// Queue the key of the event in `slot`.
    #[inline(always)]
    fn push_key(&mut self, at: u64, slot: u32) {
        if self.next_seq > u64::from(u32::MAX) {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = (u128::from(at) << 64) | u128::from(seq << SEQ_SHIFT) | u128::from(slot);
        if self.sorted {
            if self.heap.len() < SORTED_MAX {
                // Insert from the earliest end: a new event is usually
                // later than the few messages in flight, so few keys
                // move.
                // `e` has the highest sequence number queued (`renumber`
                // keeps that), so it goes after a key exactly when that
                // key's time is not later: comparing the times alone (one
                // `u64`, not the `u128` key) finds the same place.
                let last = self.heap.len();
                self.heap.push(e);
                insert_newest(&mut self.heap, last, at);
                return;
            }
            // Too many for insertion: an ascending array is a valid heap.
            self.heap.reverse();
            self.sorted = false;
        }
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
    }

    /// The earliest event, its time and the slot it had.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(u64, u32, E)> {
        let (at, slot) = self.pop_key()?;
        let event = self.take(slot)?;
        Some((at, slot, event))
    }

    /// Take the earliest event off the queue but leave it in its slot, to
    /// be read there ([`EventQueue::get_mut`]) and then taken
    /// ([`EventQueue::take`]) or dropped ([`EventQueue::release`]): its
    /// time and slot. Until then the slot is not reused.
    #[inline(always)]
    pub fn pop_key(&mut self) -> Option<(u64, u32)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        let top = if self.sorted {
            last
        } else if n == 0 {
            self.sorted = true;
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
            if n <= SORTED_BACK {
                self.sort_descending();
            }
            top
        };
        Some(((top >> 64) as u64, top as u32))
    }

    /// The event in `slot`, popped by [`EventQueue::pop_key`].
    #[inline(always)]
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut E> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Take the event out of `slot` (popped by [`EventQueue::pop_key`])
    /// and free the slot.
    #[inline(always)]
    pub fn take(&mut self, slot: u32) -> Option<E> {
        let event = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(event)
    }

    /// Drop the event in `slot` (popped by [`EventQueue::pop_key`]) and
    /// free the slot.
    #[inline(always)]
    pub fn release(&mut self, slot: u32) {
        if let Some(e) = self.slots.get_mut(slot as usize) {
            if e.take().is_some() {
                self.free.push(slot);
            }
        }
    }

    /// [`EventQueue::release`] for an event that `owns_heap` says holds
    /// nothing to free (a message between nodes but for one carrying
    /// entries): its slot is marked free in place, without running its
    /// drop glue, which is a call out of line that walks the event's
    /// variants (about 24 instructions per message of an idle cluster).
    /// Where `owns_heap` returns true, the event is dropped as usual. A
    /// wrong `false` would leak the event's heap memory, never anything
    /// worse (`mem::forget` is safe).
    #[inline(always)]
    pub fn release_with(&mut self, slot: u32, owns_heap: impl FnOnce(&E) -> bool) {
        let Some(e) = self.slots.get_mut(slot as usize) else {
            return;
        };
        match e {
            None => return,
            Some(event) if !owns_heap(event) => std::mem::forget(e.take()),
            Some(_) => *e = None,
        }
        self.free.push(slot);
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
        if self.sorted {
            self.heap.reverse();
        }
    }

    /// Turn the (small) heap into the sorted array, by insertion.
    #[cold]
    #[inline(never)]
    fn sort_descending(&mut self) {
        for j in 1..self.heap.len() {
            insert_descending(&mut self.heap, j);
        }
        self.sorted = true;
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        let top = if self.sorted {
            self.heap.last()
        } else {
            self.heap.first()
        };
        top.map(|k| (k >> 64) as u64)
    }

    /// Drop every queued event (the sequence keeps counting).
    pub fn clear(&mut self) {
        self.heap.clear();
        self.sorted = true;
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

    /// The queued events, in no particular order (for tests).
    #[cfg(test)]
    pub fn events(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().flatten()
    }
}

/// Move `keys[j]` towards the front past every key smaller than it, so
/// that `keys[..=j]` is in descending order if `keys[..j]` was: the
/// insertion step of the sorted queue (a push, and re-sorting a heap that
/// shrank). The keys are unique.
#[inline(always)]
fn insert_descending(keys: &mut [u128], j: usize) {
    let e = keys[j];
    let mut i = j;
    while i > 0 && keys[i - 1] < e {
        keys[i] = keys[i - 1];
        i -= 1;
    }
    keys[i] = e;
}

/// [`insert_descending`] for the key `keys[j]` pushed last, at time `at`:
/// its sequence number is above every other key's, so the keys it moves
/// past are those at times up to `at`, and comparing the times (one `u64`
/// each) stands for comparing the whole `u128` keys.
#[inline(always)]
fn insert_newest(keys: &mut [u128], j: usize, at: u64) {
    let e = keys[j];
    let mut i = j;
    while i > 0 && (keys[i - 1] >> 64) as u64 <= at {
        keys[i] = keys[i - 1];
        i -= 1;
    }
    keys[i] = e;
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
        check_against_reference_with(start_seq, |_| 0.55);
    }

    /// [`check_against_reference`] with the chance of a push at each step
    /// given by `push_chance(step)`.
    fn check_against_reference_with(start_seq: u64, push_chance: impl Fn(usize) -> f64) {
        let mut rng = Rng::new(5);
        let mut q = EventQueue {
            next_seq: start_seq,
            ..EventQueue::default()
        };
        let mut reference = BinaryHeap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for step in 0..20_000 {
            if rng.chance(push_chance(step)) {
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

    /// A queue that grows and shrinks across the size where it switches
    /// between a sorted array and a heap pops in the same order.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn switching_between_sorted_and_heap_keeps_the_order() {
        // Phases of 150 steps pushing 70 % then 30 % of the time: the
        // length swings between empty and about 60.
        check_against_reference_with(0, |step| if step / 150 % 2 == 0 { 0.7 } else { 0.3 });
        check_against_reference_with(u64::from(u32::MAX) - 9_000, |step| {
            if step / 40 % 2 == 0 {
                0.8
            } else {
                0.25
            }
        });
    }

    /// When the 32-bit sequence numbers run out, the queued events are
    /// renumbered without changing the order of any pop.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn renumbering_keeps_the_order() {
        check_against_reference(u64::from(u32::MAX) - 3_000);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn release_with_skips_the_drop_only_where_asked() {
        use std::cell::Cell;
        use std::rc::Rc;
        struct Counted(Rc<Cell<u32>>, bool);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Rc::new(Cell::new(0));
        let mut q = EventQueue::default();
        q.push(1, Counted(drops.clone(), false));
        q.push(2, Counted(drops.clone(), true));
        let (_, a) = q.pop_key().expect("queued");
        q.release_with(a, |c| c.1);
        assert_eq!(drops.get(), 0, "no heap: not dropped");
        let (_, b) = q.pop_key().expect("queued");
        q.release_with(b, |c| c.1);
        assert_eq!(drops.get(), 1, "owns heap: dropped");
        assert!(q.is_empty());
        // Both slots are free again: two pushes reuse them.
        let c = q.push(3, Counted(drops.clone(), true));
        let d = q.push(4, Counted(drops.clone(), true));
        assert_eq!((c.min(d), c.max(d)), (a.min(b), a.max(b)));
        q.release_with(c, |_| true);
        assert_eq!(drops.get(), 2);
    }
}
