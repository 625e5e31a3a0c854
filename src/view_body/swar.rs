//! Word-at-a-time ("SIMD within a register") byte scanning helpers.
//!
//! `memchr` is not a dependency of this crate, so the hot loops (newline
//! indexing, string scanning in the pretty-printer, search) use these portable
//! 8-bytes-at-a-time helpers. Everything is safe code: 8-byte windows are taken
//! with `get` + `try_from`, which the optimiser turns into plain loads.

pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// Broadcast a byte into all 8 lanes.
#[inline(always)]
pub(crate) const fn splat(b: u8) -> u64 {
    LO.wrapping_mul(b as u64)
}

/// Exact zero-byte detector: returns a word with `0x80` set in exactly the
/// lanes of `v` that are zero (no false positives, unlike the cheaper
/// borrow-based trick).
#[inline(always)]
pub(crate) const fn zero_lanes(v: u64) -> u64 {
    !((((v & LOW7).wrapping_add(LOW7)) | v) | LOW7)
}

/// Lanes of `w` equal to `b`.
#[inline(always)]
pub(crate) const fn eq_lanes(w: u64, b: u8) -> u64 {
    zero_lanes(w ^ splat(b))
}

/// Read 8 bytes at `i` as a little-endian word, if they are all in bounds.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    let chunk = bytes.get(i..i.checked_add(8)?)?;
    let arr: [u8; 8] = chunk.try_into().ok()?;
    Some(u64::from_le_bytes(arr))
}

/// Index (0..8) of the lowest flagged lane of a non-zero lane mask.
#[inline(always)]
pub(crate) const fn first_lane(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Position of the first occurrence of `needle` in `hay[from..]` (absolute index).
#[inline]
pub(crate) fn find_byte(hay: &[u8], from: usize, needle: u8) -> Option<usize> {
    let mut i = from;
    while let Some(w) = word_at(hay, i) {
        let m = eq_lanes(w, needle);
        if m != 0 {
            return Some(i + first_lane(m));
        }
        i += 8;
    }
    while let Some(&b) = hay.get(i) {
        if b == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Position of the first occurrence of `a` or `b` in `hay[from..]`.
#[inline]
pub(crate) fn find_byte2(hay: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    let mut i = from;
    while let Some(w) = word_at(hay, i) {
        let m = eq_lanes(w, a) | eq_lanes(w, b);
        if m != 0 {
            return Some(i + first_lane(m));
        }
        i += 8;
    }
    while let Some(&c) = hay.get(i) {
        if c == a || c == b {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_lanes_is_exact() {
        for b in 0..=255u8 {
            let w = u64::from_le_bytes([1, b, 0, 0x80, b, 0xFF, 0x01, b]);
            let m = zero_lanes(w);
            for lane in 0..8 {
                let byte = w.to_le_bytes()[lane];
                let flagged = (m >> (lane * 8)) & 0x80 != 0;
                assert_eq!(flagged, byte == 0, "b={b} lane={lane}");
            }
        }
    }

    #[test]
    fn find_helpers_agree_with_naive() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for from in [0, 1, 5, 17, 299, 300, 400] {
            for n in [0u8, 7, 14, 250, 3] {
                let naive = hay
                    .get(from..)
                    .and_then(|s| s.iter().position(|&b| b == n))
                    .map(|p| p + from);
                assert_eq!(find_byte(&hay, from, n), naive);
                let naive2 = hay
                    .get(from..)
                    .and_then(|s| s.iter().position(|&b| b == n || b == 14))
                    .map(|p| p + from);
                assert_eq!(find_byte2(&hay, from, n, 14), naive2);
            }
        }
    }
}
