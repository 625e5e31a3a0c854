//! Hex preview of binary bodies.

/// Bytes shown per hex line.
pub const HEX_BYTES_PER_LINE: usize = 16;

/// `xxd`-style lines for the first `max_bytes` bytes:
/// `00000010  48 65 6c 6c 6f 20 57 6f  72 6c 64 0a 00 01 02 03  |Hello World.....|`
/// (offset, 16 bytes in two groups of 8, printable ASCII or `.`). A last line
/// `... N more bytes` is added when the input was cut.
pub fn hex_preview(bytes: &[u8], max_bytes: usize) -> Vec<String> {
    let shown = bytes.get(..max_bytes).unwrap_or(bytes);
    let mut lines = Vec::with_capacity(shown.len() / HEX_BYTES_PER_LINE + 2);
    for (n, chunk) in shown.chunks(HEX_BYTES_PER_LINE).enumerate() {
        let mut s = String::with_capacity(80);
        s.push_str(&format!("{:08x}  ", n * HEX_BYTES_PER_LINE));
        for i in 0..HEX_BYTES_PER_LINE {
            match chunk.get(i) {
                Some(b) => s.push_str(&format!("{b:02x} ")),
                None => s.push_str("   "),
            }
            if i == 7 {
                s.push(' ');
            }
        }
        s.push(' ');
        s.push('|');
        for &b in chunk {
            s.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        s.push('|');
        lines.push(s);
    }
    if bytes.len() > shown.len() {
        lines.push(format!("... {} more bytes", bytes.len() - shown.len()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_lines() {
        let data: Vec<u8> = b"Hello World\n\x00\x01\x02\x03xyz".to_vec();
        let l = hex_preview(&data, 1000);
        assert_eq!(
            l[0],
            "00000000  48 65 6c 6c 6f 20 57 6f  72 6c 64 0a 00 01 02 03  |Hello World.....|"
        );
        assert_eq!(
            l[1],
            "00000010  78 79 7a                                          |xyz|"
        );
        assert_eq!(l.len(), 2);
        let cut = hex_preview(&data, 4);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[1], "... 15 more bytes");
        assert!(hex_preview(&[], 10).is_empty());
    }
}
