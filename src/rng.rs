//! The one seeded PRNG used everywhere (nodes, network, clients, faults).
//!
//! xoshiro256++ from `rand_xoshiro`: its output is identical on x86-64 and
//! wasm32, which the cross-platform trace-hash test relies on. Ranges are
//! drawn with integer arithmetic only (no `usize`, no floats in the state
//! path beyond a fixed 53-bit conversion) so every platform draws the same
//! numbers.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A portable seeded random number generator.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: Xoshiro256PlusPlus,
    /// The last range drawn, `(lo, hi)` with `lo < hi`, whose zone `zone`
    /// holds: a draw from the same range then skips the checks for empty
    /// and full ranges and the zone lookup (one comparison of the pair; a
    /// latency or election timeout draw is one per message or heartbeat).
    /// Before the first draw it is the full range `(0, u64::MAX)`, whose
    /// `2^64` values `zone` gives as `n = 0` (`2^64` wrapped) with every
    /// `x` accepted: `lo + x mod 2^64` is `x`, what a full range draws.
    range: (u64, u64),
    /// The rejection zone for `n` values, `(n, zone)`: each generator
    /// keeps drawing from the same one or two ranges (latencies, election
    /// timeouts), and working the zone out is a 64-bit division. It is
    /// `range`'s zone, and is kept when a new range has as many values.
    zone: (u64, u64),
    /// The multiplier of [`fast_rem`] for the zone's `n`, worked out with
    /// it: natively, the remainder of each draw is then two multiplies
    /// rather than a 64-bit division (tens of cycles on x86-64).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    rem_m: u64,
}

/// `x % n`, exactly, for every `x` and every `n > 0`, given
/// `m = rem_multiplier(n)` (`floor((2^64 - 1) / n)`): division by an
/// invariant integer with one correction step. The estimated quotient
/// `q = floor(x * m / 2^64)` is the true quotient or one less, because
/// `x / n - x * m / 2^64 = x * (2^64 - n * m) / (n * 2^64)` and
/// `2^64 - n * m <= n`, so the difference is below `x / 2^64 < 1`; the
/// remainder `x - q * n` (at most `x`, so it cannot overflow) is then
/// below `2n`, and one subtraction brings it under `n`. Two multiplies,
/// where Lemire, Kaser and Kurz's direct remainder with a 128-bit
/// multiplier took four. Used natively, where the high half of a 64-bit
/// product is one instruction; wasm32 (which has no 64x64->128 multiply,
/// and a remainder instruction) keeps `%`. The outputs are the same
/// (`tests::fast_rem_is_exact`). With `n = 0`, standing for `2^64` (the
/// full range, see `Rng::range`), `r` is `x` and stays: `x mod 2^64`.
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "wasm-bench"),
    inline(always)
)]
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn fast_rem(x: u64, m: u64, n: u64) -> u64 {
    let q = ((u128::from(x) * u128::from(m)) >> 64) as u64;
    let r = x - q * n;
    if r >= n {
        r - n
    } else {
        r
    }
}

/// The multiplier of [`fast_rem`] for divisor `n` (`n > 0`):
/// `floor((2^64 - 1) / n)`.
fn rem_multiplier(n: u64) -> u64 {
    u64::MAX / n.max(1)
}

impl Rng {
    /// A generator seeded from one `u64`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
            // The full range, `n = 2^64` (see `range`).
            range: (0, u64::MAX),
            zone: (0, u64::MAX),
            rem_m: 0,
        }
    }

    /// The next 64 random bits.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform integer in `lo..=hi` (returns `lo` when `hi <= lo`).
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if (lo, hi) == self.range {
            // `hi > lo` and the zone is this range's (see `range`).
            return self.draw_below_zone(lo, self.zone.0, self.zone.1);
        }
        self.range_inclusive_new(lo, hi)
    }

    /// [`Rng::range_inclusive`] for a range other than the last one.
    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    fn range_inclusive_new(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let n = span + 1;
        // Rejection sampling to avoid modulo bias.
        let zone = if self.zone.0 == n {
            self.zone.1
        } else {
            let zone = u64::MAX - (u64::MAX % n) - 1;
            self.zone = (n, zone);
            self.rem_m = rem_multiplier(n);
            zone
        };
        self.range = (lo, hi);
        self.draw_below_zone(lo, n, zone)
    }

    /// `lo` plus a uniform integer below `n` (the zone's `n`, with
    /// `self.rem_m` its multiplier; `n = 0` stands for `2^64`, with `zone`
    /// `u64::MAX`): rejection sampling, to avoid modulo bias.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn draw_below_zone(&mut self, lo: u64, n: u64, zone: u64) -> u64 {
        loop {
            let x = self.next_u64();
            if x <= zone {
                #[cfg(not(target_arch = "wasm32"))]
                return lo + fast_rem(x, self.rem_m, n);
                #[cfg(target_arch = "wasm32")]
                return lo + x.checked_rem(n).unwrap_or(x);
            }
        }
    }

    /// A uniform index in `0..n` (`n` must be > 0; returns 0 otherwise).
    pub fn index(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        self.range_inclusive(0, n as u64 - 1) as usize
    }

    /// A uniform float in `[0, 1)`.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// A sub-seed for component `tag` of a run seeded with `seed`
    /// (SplitMix64 finaliser over the pair).
    pub fn derive(seed: u64, tag: u64) -> u64 {
        let mut z = seed
            ^ tag
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(0xD1B5_4A32_D192_ED03);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A portable, fast 64-bit hasher (word-at-a-time multiply-rotate mixing
/// with a final avalanche). Bytes are read little-endian and `usize` is
/// hashed as 8 bytes, so the same value hashes the same on 32- and 64-bit
/// targets. Not for adversarial input; it identifies runs.
#[derive(Clone, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl StableHasher {
    #[inline]
    fn mix(&mut self, x: u64) {
        self.0 = (self.0 ^ x)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

impl std::hash::Hasher for StableHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rem = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        self.mix(u64::from_le_bytes(w) ^ ((rem.len() as u64) << 59));
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.mix(i as i64 as u64);
    }
}

/// Hash any `Hash` value portably.
pub fn stable_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn stream_is_fixed_across_platforms() {
        // These values were produced natively; the browser run checks them.
        let mut r = Rng::new(42);
        let got: Vec<u64> = (0..3).map(|_| r.range_inclusive(0, 999)).collect();
        let mut again = Rng::new(42);
        let twice: Vec<u64> = (0..3).map(|_| again.range_inclusive(0, 999)).collect();
        assert_eq!(got, twice);
        assert_eq!(stable_hash(&(1usize, "a")), stable_hash(&(1usize, "a")));
        assert_eq!(stable_hash(&7usize), stable_hash(&7u64));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn range_stays_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let x = r.range_inclusive(150, 300);
            assert!((150..=300).contains(&x));
        }
        assert_eq!(r.range_inclusive(5, 5), 5);
        assert_eq!(r.range_inclusive(9, 3), 9);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_rem_is_exact() {
        let mut divisors = vec![
            1,
            2,
            3,
            5,
            7,
            10,
            151,
            1000,
            150_001,
            u64::MAX,
            u64::MAX - 1,
        ];
        divisors.extend((0..64).map(|b| 1u64 << b));
        divisors.extend((1..64).map(|b| (1u64 << b) - 1));
        divisors.extend((1..64).map(|b| (1u64 << b) + 1));
        let mut r = Rng::new(7);
        divisors.extend(
            (0..200)
                .map(|i| r.next_u64() >> (i % 64))
                .filter(|&n| n > 0),
        );
        for n in divisors {
            let m = rem_multiplier(n);
            let mut xs = vec![0, 1, n - 1, n, u64::MAX, u64::MAX - 1, u64::MAX / n * n];
            xs.extend((0..200).map(|_| r.next_u64()));
            xs.extend((0..20).map(|i| (u64::MAX / n).saturating_sub(i) * n));
            for x in xs {
                assert_eq!(fast_rem(x, m, n), x % n, "{x} % {n}");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn full_range_draws_the_next_word() {
        // Before and after other ranges: the first is drawn through the
        // initial cached range (`n = 0`), the later ones afresh.
        let mut r = Rng::new(5);
        let mut reference = r.inner.clone();
        for hi in [u64::MAX, 10, u64::MAX, u64::MAX] {
            let got = r.range_inclusive(0, hi);
            let x = reference.next_u64();
            let want = if hi == u64::MAX {
                x
            } else {
                assert!(x < u64::MAX - (u64::MAX % 11));
                x % 11
            };
            assert_eq!(got, want);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn range_draws_match_plain_rejection_sampling() {
        // The draws as `range_inclusive` made them with `%`, alternating
        // ranges so the cached zone and multiplier are recomputed.
        let ranges = [
            (150, 300),
            (0, 999),
            (1_000, 2_000),
            (1_000, 2_000),
            (2_000, 3_000),
            (0, u64::MAX - 1),
            (3, 3),
            (9, 2),
            (150, 300),
        ];
        let mut r = Rng::new(11);
        let mut reference = r.inner.clone();
        for i in 0..5_000 {
            let (lo, hi) = ranges[i % ranges.len()];
            let got = r.range_inclusive(lo, hi);
            let want = if hi <= lo {
                lo
            } else {
                let n = hi - lo + 1;
                let zone = u64::MAX - (u64::MAX % n) - 1;
                loop {
                    let x = reference.next_u64();
                    if x <= zone {
                        break lo + x % n;
                    }
                }
            };
            assert_eq!(got, want);
        }
    }
}
