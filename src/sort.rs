//! One stable sort for the whole crate, compiled once.
//!
//! The standard library's `sort_by_key` and `sort_unstable` are generic
//! all the way down: each call site with its own element type or key
//! closure compiles its own copy of driftsort or ipnsort (1 to 5 KB each in
//! the page's size-optimised wasm; the linearizability checker alone had
//! ten). [`sort_by`] sorts a permutation of indices with one non-generic
//! merge sort that calls the comparison through `dyn`, then moves the
//! elements into place with swaps: only those few lines are generic.
//!
//! It is stable, so it orders exactly as `sort_by_key` did, and as
//! `sort_unstable` did wherever equal elements cannot be told apart (every
//! use here sorts plain values or keys with a unique tie-breaker).
//! O(n log n) comparisons; two `usize` buffers of `n` as scratch.

use std::cmp::Ordering;

/// Sort `v` stably by `cmp`.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mut perm: Vec<usize> = (0..n).collect();
    {
        let v: &[T] = v;
        let mut by_index = |a: usize, b: usize| cmp(&v[a], &v[b]);
        merge_sort(&mut perm, &mut by_index);
    }
    permute(v, &mut perm);
}

/// Sort `v` stably by the key `key` gives each element.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sort `v` in ascending order (stably, so exactly as `sort_unstable`
/// would for values whose equal ones are alike).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Bottom-up merge sort of `idx` by `cmp`, stable: of two equal elements,
/// the one that came first stays first.
fn merge_sort(idx: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    let n = idx.len();
    let mut src = idx.to_vec();
    let mut dst = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j) = (lo, mid);
            for slot in &mut dst[lo..hi] {
                // Take from the right only when it is strictly smaller.
                if j < hi && (i >= mid || cmp(src[j], src[i]) == Ordering::Less) {
                    *slot = src[j];
                    j += 1;
                } else {
                    *slot = src[i];
                    i += 1;
                }
            }
            lo = hi;
        }
        std::mem::swap(&mut src, &mut dst);
        width *= 2;
    }
    idx.copy_from_slice(&src);
}

/// Rearrange `v` so that `v[i]` becomes the old `v[perm[i]]`, following
/// each cycle of `perm` with swaps (`perm` is used up).
fn permute<T>(v: &mut [T], perm: &mut [usize]) {
    for start in 0..perm.len() {
        let mut j = start;
        loop {
            let k = perm[j];
            perm[j] = j;
            if k == start {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// The same order as the standard library's stable sort, ties
    /// included, on every length up to 70 and a few shapes of input.
    fn orders_as_the_standard_stable_sort() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for n in 0..70usize {
            for range in [1u64, 3, 1000] {
                let v: Vec<(u64, usize)> = (0..n).map(|i| (next() % range, i)).collect();
                let mut ours = v.clone();
                sort_by_key(&mut ours, |x| x.0);
                let mut std = v.clone();
                std.sort_by_key(|x| x.0);
                assert_eq!(ours, std, "n = {n}, range = {range}");
                let mut desc = v.clone();
                sort_by(&mut desc, |a, b| b.cmp(a));
                let mut std_desc = v;
                std_desc.sort_by(|a, b| b.cmp(a));
                assert_eq!(desc, std_desc);
            }
        }
        let mut words = vec!["b", "a", "c", "a"];
        sort(&mut words);
        assert_eq!(words, ["a", "a", "b", "c"]);
    }
}
