//! Minimal NumPy `.npy` (format 1.0/2.0) reading and writing of 2-D integer
//! matrices, enough for weight matrices: `np.load("w.npy")` gives an int16 array
//! of shape (M+N, N); `np.save` of any integer or integral float array of that
//! shape can be written back.

/// Encodes a row-major `rows × cols` matrix as a `.npy` file of dtype `<i2`.
pub fn encode_i16(data: &[i16], rows: usize, cols: usize) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols, "matrix size");
    let mut header =
        format!("{{'descr': '<i2', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + header length (2) + header + '\n', padded to 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 2);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// A decoded 2-D array, values converted to i64.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<i64>,
}

fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let k = format!("'{key}':");
    let at = header
        .find(&k)
        .ok_or_else(|| format!("header has no '{key}'"))?;
    Ok(header[at + k.len()..].trim_start())
}

/// Decodes a `.npy` file holding a 2-D (or 1-D, taken as one row) numeric
/// array, C order. Floats must hold integral values.
pub fn decode(bytes: &[u8]) -> Result<Matrix, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a NumPy .npy file (bad magic)".into());
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated or non-text .npy header")?;
    let descr = field(header, "descr")?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("");
    if field(header, "fortran_order")?.starts_with("True") {
        return Err("Fortran-order arrays are not supported (use np.ascontiguousarray)".into());
    }
    let shape = field(header, "shape")?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("bad shape in .npy header")?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad shape ({shape}) in .npy header"))?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [c] => (1, *c),
        _ => return Err(format!("expected a 2-D array, got shape ({shape})")),
    };
    let (little, kind, size) = {
        let mut c = descr.chars();
        let order = c.next().unwrap_or('?');
        let kind = c.next().unwrap_or('?');
        let size: usize = c
            .as_str()
            .parse()
            .map_err(|_| format!("unsupported dtype '{descr}'"))?;
        (order != '>', kind, size)
    };
    let body = &bytes[start + hlen..];
    let count = rows * cols;
    if body.len() < count * size {
        return Err(format!(
            "truncated .npy data: {} bytes for {count} values of {size} bytes",
            body.len()
        ));
    }
    let mut data = Vec::with_capacity(count);
    for chunk in body[..count * size].chunks_exact(size) {
        let mut b = [0u8; 8];
        if little {
            b[..size].copy_from_slice(chunk);
        } else {
            for (i, &x) in chunk.iter().rev().enumerate() {
                b[i] = x;
            }
        }
        let v = match (kind, size) {
            ('i', 1) => i64::from(b[0] as i8),
            ('i', 2) => i64::from(i16::from_le_bytes([b[0], b[1]])),
            ('i', 4) => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ('i', 8) => i64::from_le_bytes(b),
            ('u', 1) | ('b', 1) => i64::from(b[0]),
            ('u', 2) => i64::from(u16::from_le_bytes([b[0], b[1]])),
            ('u', 4) => i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ('f', 4) | ('f', 8) => {
                let f = if size == 4 {
                    f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                } else {
                    f64::from_le_bytes(b)
                };
                if f.fract() != 0.0 || !f.is_finite() || f.abs() > 1e15 {
                    return Err(format!("value {f} is not an integer"));
                }
                f as i64
            }
            _ => return Err(format!("unsupported dtype '{descr}'")),
        };
        data.push(v);
    }
    Ok(Matrix { rows, cols, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = [1i16, -2, 3, 300, -32768, 32767];
        let b = encode_i16(&m, 2, 3);
        assert_eq!((10 + u16::from_le_bytes([b[8], b[9]]) as usize) % 64, 0);
        let d = decode(&b).unwrap();
        assert_eq!((d.rows, d.cols), (2, 3));
        assert_eq!(d.data, m.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
        assert!(decode(b"hello world").is_err());
    }
}
