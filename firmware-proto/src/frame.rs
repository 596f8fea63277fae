//! Framing layer: HDLC-style byte stuffing, CRC-16 and a streaming decoder/encoder.
//!
//! Byte-exact definition: docs/protocol.md §2 (framing) and §7 (receive state
//! machine). Everything here is alloc-free; the decoder needs one payload buffer
//! (fixed `[u8; MAX_PAYLOAD]` or caller-provided) and never looks ahead.

use crc::{Crc, Digest, Table, CRC_16_IBM_3740};

/// Frame delimiter. Every frame starts and ends with it; repeated FLAGs are idle.
pub const FLAG: u8 = 0x7E;
/// Escape byte: a body byte equal to FLAG or ESC is sent as `ESC, byte ^ ESC_XOR`.
pub const ESC: u8 = 0x7D;
/// XOR applied to an escaped byte.
pub const ESC_XOR: u8 = 0x20;

/// Largest payload of any frame, in bytes (bounds every length field).
pub const MAX_PAYLOAD: usize = 1024;
/// Unstuffed header: `type u8 | seq u8 | len u16 LE`.
pub const HEADER_LEN: usize = 4;
/// Offset of the frame type in the unstuffed body.
pub const OFF_TYPE: usize = 0;
/// Offset of the sequence number in the unstuffed body.
pub const OFF_SEQ: usize = 1;
/// Offset of the little-endian payload length in the unstuffed body.
pub const OFF_LEN: usize = 2;
/// Offset of the payload in the unstuffed body.
pub const OFF_PAYLOAD: usize = HEADER_LEN;
/// Trailing CRC: u16 little-endian.
pub const CRC_LEN: usize = 2;
/// Header + CRC: the unstuffed body of an empty-payload frame.
pub const MIN_BODY_LEN: usize = HEADER_LEN + CRC_LEN;
/// Largest unstuffed body.
pub const MAX_BODY_LEN: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Largest frame on the wire: two FLAGs plus a body in which every byte is escaped.
pub const MAX_WIRE_LEN: usize = 2 + 2 * MAX_BODY_LEN;

/// The CRC algorithm: CRC-16/IBM-3740 (a.k.a. CRC-16/CCITT-FALSE), over type..payload.
pub const CRC_ALGORITHM: &crc::Algorithm<u16> = &CRC_16_IBM_3740;
/// CRC generator polynomial (x^16 + x^12 + x^5 + 1), MSB-first, not reflected.
pub const CRC_POLY: u16 = 0x1021;
/// CRC register initial value.
pub const CRC_INIT: u16 = 0xFFFF;
/// Value XORed into the final CRC register.
pub const CRC_XOROUT: u16 = 0x0000;
/// Input bytes are not reflected (processed MSB first).
pub const CRC_REFIN: bool = false;
/// The output is not reflected.
pub const CRC_REFOUT: bool = false;
/// CRC of the ASCII bytes "123456789" (the catalogue check value).
pub const CRC_CHECK: u16 = 0x29B1;

/// The CRC engine (table-driven, from the `crc` crate).
pub static CRC16: Crc<u16, Table<1>> = Crc::<u16, Table<1>>::new(&CRC_16_IBM_3740);

/// CRC of a byte string (the frame CRC is `crc16(type, seq, len, payload)`).
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC16.checksum(bytes)
}

/// One byte of the CRC in bit-serial form: the reference for a hardware
/// implementation (docs/protocol.md §2.3). `crc16_update` folded over the bytes,
/// starting from [`CRC_INIT`], equals [`crc16`].
pub const fn crc16_update(crc: u16, byte: u8) -> u16 {
    let mut c = crc ^ ((byte as u16) << 8);
    let mut i = 0;
    while i < 8 {
        c = if c & 0x8000 != 0 {
            (c << 1) ^ CRC_POLY
        } else {
            c << 1
        };
        i += 1;
    }
    c
}

/// A received frame whose CRC checked; the payload borrows the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    pub frame_type: u8,
    pub seq: u8,
    pub payload: &'a [u8],
}

/// An owned frame (convenience for hosts and tests).
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    pub frame_type: u8,
    pub seq: u8,
    pub payload: Vec<u8>,
}

#[cfg(feature = "std")]
impl FrameRef<'_> {
    pub fn to_frame(&self) -> Frame {
        Frame {
            frame_type: self.frame_type,
            seq: self.seq,
            payload: self.payload.to_vec(),
        }
    }
}

/// What went wrong with a frame (docs/protocol.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameErrorKind {
    /// The received CRC does not match the CRC computed over type..payload.
    BadCrc { received: u16, computed: u16 },
    /// A FLAG arrived before the body was complete. `expected` is the full body
    /// length (`HEADER_LEN + len + CRC_LEN`) if the length field was received.
    Truncated {
        received: usize,
        expected: Option<usize>,
    },
    /// The length field exceeds the decoder's payload limit; detected as soon as
    /// the header is complete, nothing of the payload is buffered.
    Oversized { len: u16 },
    /// ESC followed by FLAG (`byte == FLAG`: the FLAG still opens a new frame) or
    /// by a byte `b` with `b ^ ESC_XOR` neither FLAG nor ESC.
    BadEscape { byte: u8 },
    /// A non-FLAG byte arrived after the CRC: the body is longer than `len` says.
    Overlong { len: u16 },
}

/// A frame the decoder rejected, with whatever header fields it had received
/// (untrusted: they did not pass the CRC) so that a device can NACK it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError {
    pub kind: FrameErrorKind,
    pub frame_type: Option<u8>,
    pub seq: Option<u8>,
}

impl FrameError {
    /// The NACK error code for this error (docs/protocol.md §5).
    pub fn nack_code(&self) -> u8 {
        use crate::command::{ERR_BAD_CRC, ERR_FRAMING, ERR_OVERSIZED};
        match self.kind {
            FrameErrorKind::BadCrc { .. } => ERR_BAD_CRC,
            FrameErrorKind::Oversized { .. } => ERR_OVERSIZED,
            FrameErrorKind::Truncated { .. }
            | FrameErrorKind::BadEscape { .. }
            | FrameErrorKind::Overlong { .. } => ERR_FRAMING,
        }
    }

    /// The NACK detail word for this error (docs/protocol.md §5).
    pub fn nack_detail(&self) -> u32 {
        match self.kind {
            FrameErrorKind::BadCrc { received, computed } => {
                ((computed as u32) << 16) | received as u32
            }
            FrameErrorKind::Oversized { len } => len as u32,
            FrameErrorKind::Truncated { received, .. } => received as u32,
            FrameErrorKind::BadEscape { byte } => byte as u32,
            FrameErrorKind::Overlong { len } => len as u32,
        }
    }

    /// `(seq, cmd_type)` for the NACK a device sends, or `None` if the type or
    /// seq byte never arrived (the device then stays silent; docs/protocol.md §6.4).
    pub fn nack_target(&self) -> Option<(u8, u8)> {
        match (self.seq, self.frame_type) {
            (Some(s), Some(t)) => Some((s, t)),
            _ => None,
        }
    }
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            FrameErrorKind::BadCrc { received, computed } => write!(
                f,
                "bad CRC: received {received:#06x}, computed {computed:#06x}"
            )?,
            FrameErrorKind::Truncated {
                received,
                expected: Some(e),
            } => write!(f, "truncated frame: {received} of {e} body bytes")?,
            FrameErrorKind::Truncated {
                received,
                expected: None,
            } => write!(
                f,
                "truncated frame: {received} body bytes, header incomplete"
            )?,
            FrameErrorKind::Oversized { len } => write!(f, "oversized frame: len = {len}")?,
            FrameErrorKind::BadEscape { byte } => {
                write!(f, "bad escape: ESC followed by {byte:#04x}")?
            }
            FrameErrorKind::Overlong { len } => write!(f, "frame longer than its len = {len}")?,
        }
        if let Some(t) = self.frame_type {
            write!(f, " (type {t:#04x}")?;
            if let Some(s) = self.seq {
                write!(f, ", seq {s}")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FrameError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// Discarding bytes until a FLAG.
    Hunt,
    /// Inside a frame (after a FLAG); `count` body bytes received.
    Body,
}

/// Streaming frame decoder (docs/protocol.md §2.5, §7). Feed it one byte at a time
/// with [`Decoder::push`]; it never panics, never looks ahead and stores at most
/// `max_payload()` payload bytes.
///
/// `B` is the payload buffer: `[u8; MAX_PAYLOAD]` by default ([`Decoder::new`]),
/// or any caller-provided `AsMut<[u8]>` ([`Decoder::with_buffer`]); a buffer
/// shorter than `MAX_PAYLOAD` lowers the length limit (longer frames are `Oversized`).
pub struct Decoder<B = [u8; MAX_PAYLOAD]> {
    buf: B,
    state: RxState,
    escaped: bool,
    count: usize,
    frame_type: u8,
    seq: u8,
    len: u16,
    rx_crc: u16,
    digest: Digest<'static, u16, Table<1>>,
}

impl<B> core::fmt::Debug for Decoder<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decoder")
            .field("state", &self.state)
            .field("escaped", &self.escaped)
            .field("count", &self.count)
            .field("frame_type", &self.frame_type)
            .field("seq", &self.seq)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Decoder<[u8; MAX_PAYLOAD]> {
    /// A decoder with its own `MAX_PAYLOAD`-byte buffer, hunting for a FLAG.
    pub fn new() -> Self {
        Self::with_buffer([0; MAX_PAYLOAD])
    }
}

impl Default for Decoder<[u8; MAX_PAYLOAD]> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Decoder<B> {
    /// A decoder storing payloads in `buf`, hunting for a FLAG.
    pub fn with_buffer(buf: B) -> Self {
        Decoder {
            buf,
            state: RxState::Hunt,
            escaped: false,
            count: 0,
            frame_type: 0,
            seq: 0,
            len: 0,
            rx_crc: 0,
            digest: CRC16.digest(),
        }
    }

    /// Largest accepted payload: `min(MAX_PAYLOAD, buffer length)`.
    pub fn max_payload(&self) -> usize {
        self.buf.as_ref().len().min(MAX_PAYLOAD)
    }

    /// Forget any partial frame and hunt for the next FLAG.
    pub fn reset(&mut self) {
        self.state = RxState::Hunt;
        self.escaped = false;
    }

    /// True while the decoder is discarding bytes until the next FLAG.
    pub fn is_hunting(&self) -> bool {
        self.state == RxState::Hunt
    }

    fn open(&mut self) {
        self.state = RxState::Body;
        self.escaped = false;
        self.count = 0;
        self.len = 0;
        self.rx_crc = 0;
        self.digest = CRC16.digest();
    }

    fn error(&self, kind: FrameErrorKind) -> FrameError {
        FrameError {
            kind,
            frame_type: (self.count > OFF_TYPE).then_some(self.frame_type),
            seq: (self.count > OFF_SEQ).then_some(self.seq),
        }
    }

    fn fail_hunt(&mut self, kind: FrameErrorKind) -> Option<Result<FrameRef<'_>, FrameError>> {
        let e = self.error(kind);
        self.state = RxState::Hunt;
        self.escaped = false;
        Some(Err(e))
    }

    /// Feed one received byte. Returns `Some` when a frame ends (closing FLAG)
    /// or an error is detected; `None` otherwise.
    pub fn push(&mut self, byte: u8) -> Option<Result<FrameRef<'_>, FrameError>> {
        if self.state == RxState::Hunt {
            if byte == FLAG {
                self.open();
            }
            return None;
        }
        if byte == FLAG {
            if self.escaped {
                // ESC FLAG: abort. The FLAG still opens the next frame.
                let e = self.error(FrameErrorKind::BadEscape { byte: FLAG });
                self.open();
                return Some(Err(e));
            }
            if self.count == 0 {
                return None; // idle FLAGs
            }
            let body = MIN_BODY_LEN + self.len as usize;
            let result = if self.count < HEADER_LEN {
                Err(self.error(FrameErrorKind::Truncated {
                    received: self.count,
                    expected: None,
                }))
            } else if self.count < body {
                Err(self.error(FrameErrorKind::Truncated {
                    received: self.count,
                    expected: Some(body),
                }))
            } else {
                let computed = self.digest.clone().finalize();
                if computed == self.rx_crc {
                    Ok(())
                } else {
                    Err(self.error(FrameErrorKind::BadCrc {
                        received: self.rx_crc,
                        computed,
                    }))
                }
            };
            let (frame_type, seq, len) = (self.frame_type, self.seq, self.len as usize);
            self.open();
            return Some(match result {
                Ok(()) => Ok(FrameRef {
                    frame_type,
                    seq,
                    payload: &self.buf.as_ref()[..len],
                }),
                Err(e) => Err(e),
            });
        }
        let b = if self.escaped {
            self.escaped = false;
            let b = byte ^ ESC_XOR;
            if b != FLAG && b != ESC {
                return self.fail_hunt(FrameErrorKind::BadEscape { byte });
            }
            b
        } else if byte == ESC {
            self.escaped = true;
            return None;
        } else {
            byte
        };
        let len = self.len as usize;
        match self.count {
            OFF_TYPE => self.frame_type = b,
            OFF_SEQ => self.seq = b,
            2 => self.len = b as u16,
            3 => {
                self.len |= (b as u16) << 8;
                if self.len as usize > self.max_payload() {
                    let len = self.len;
                    self.count += 1;
                    return self.fail_hunt(FrameErrorKind::Oversized { len });
                }
            }
            c if c < HEADER_LEN + len => self.buf.as_mut()[c - HEADER_LEN] = b,
            c if c == HEADER_LEN + len => self.rx_crc = b as u16,
            c if c == HEADER_LEN + len + 1 => self.rx_crc |= (b as u16) << 8,
            _ => {
                let len = self.len;
                return self.fail_hunt(FrameErrorKind::Overlong { len });
            }
        }
        if self.count < HEADER_LEN + len {
            self.digest.update(&[b]);
        }
        self.count += 1;
        None
    }

    /// Feed a slice of bytes, calling `f` for every frame or error.
    pub fn feed(&mut self, bytes: &[u8], mut f: impl FnMut(Result<FrameRef<'_>, FrameError>)) {
        for &b in bytes {
            if let Some(r) = self.push(b) {
                f(r);
            }
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEncodeError {
    /// Payload longer than `MAX_PAYLOAD`.
    PayloadTooLarge { len: usize },
    /// Output buffer too short; `needed` is the full wire length.
    BufferTooSmall { needed: usize },
    /// Streaming encoder: more or fewer payload bytes than the announced length.
    LengthMismatch { announced: usize, written: usize },
}

impl core::fmt::Display for FrameEncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            FrameEncodeError::PayloadTooLarge { len } => {
                write!(
                    f,
                    "payload of {len} bytes exceeds MAX_PAYLOAD = {MAX_PAYLOAD}"
                )
            }
            FrameEncodeError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            FrameEncodeError::LengthMismatch { announced, written } => {
                write!(
                    f,
                    "frame announced {announced} payload bytes, {written} written"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FrameEncodeError {}

/// Streaming frame encoder: announce the payload length, push the payload bytes,
/// finish. Emits stuffed bytes to `sink` as it goes (no buffering), so a device
/// can stream a reply straight out of its memories.
pub struct FrameEncoder<F: FnMut(u8)> {
    sink: F,
    digest: Digest<'static, u16, Table<1>>,
    announced: usize,
    written: usize,
    emitted: usize,
}

impl<F: FnMut(u8)> FrameEncoder<F> {
    /// Emits the opening FLAG and the header.
    pub fn begin(frame_type: u8, seq: u8, len: usize, sink: F) -> Result<Self, FrameEncodeError> {
        if len > MAX_PAYLOAD {
            return Err(FrameEncodeError::PayloadTooLarge { len });
        }
        let mut e = FrameEncoder {
            sink,
            digest: CRC16.digest(),
            announced: len,
            written: 0,
            emitted: 0,
        };
        e.raw(FLAG);
        let l = (len as u16).to_le_bytes();
        for b in [frame_type, seq, l[0], l[1]] {
            e.body(b);
        }
        Ok(e)
    }

    fn raw(&mut self, b: u8) {
        (self.sink)(b);
        self.emitted += 1;
    }

    fn stuffed(&mut self, b: u8) {
        if b == FLAG || b == ESC {
            self.raw(ESC);
            self.raw(b ^ ESC_XOR);
        } else {
            self.raw(b);
        }
    }

    fn body(&mut self, b: u8) {
        self.digest.update(&[b]);
        self.stuffed(b);
    }

    /// Emits payload bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), FrameEncodeError> {
        if self.written + bytes.len() > self.announced {
            return Err(FrameEncodeError::LengthMismatch {
                announced: self.announced,
                written: self.written + bytes.len(),
            });
        }
        for &b in bytes {
            self.body(b);
        }
        self.written += bytes.len();
        Ok(())
    }

    /// Emits the CRC and the closing FLAG; returns the number of wire bytes emitted.
    pub fn finish(mut self) -> Result<usize, FrameEncodeError> {
        if self.written != self.announced {
            return Err(FrameEncodeError::LengthMismatch {
                announced: self.announced,
                written: self.written,
            });
        }
        let crc = self.digest.clone().finalize().to_le_bytes();
        self.stuffed(crc[0]);
        self.stuffed(crc[1]);
        self.raw(FLAG);
        Ok(self.emitted)
    }
}

/// Encodes one complete frame (`FLAG, stuffed body, FLAG`) into `sink`; returns
/// the number of wire bytes emitted (docs/protocol.md §2).
pub fn encode_frame<F: FnMut(u8)>(
    frame_type: u8,
    seq: u8,
    payload: &[u8],
    sink: F,
) -> Result<usize, FrameEncodeError> {
    let mut e = FrameEncoder::begin(frame_type, seq, payload.len(), sink)?;
    e.write(payload)?;
    e.finish()
}

/// Encodes one frame into `out`; returns its length.
pub fn encode_frame_into(
    frame_type: u8,
    seq: u8,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, FrameEncodeError> {
    let mut n = 0usize;
    let cap = out.len();
    let total = encode_frame(frame_type, seq, payload, |b| {
        if n < cap {
            out[n] = b;
        }
        n += 1;
    })?;
    if total > cap {
        return Err(FrameEncodeError::BufferTooSmall { needed: total });
    }
    Ok(total)
}

/// Encodes one frame into a new `Vec`.
#[cfg(feature = "std")]
pub fn encode_frame_vec(
    frame_type: u8,
    seq: u8,
    payload: &[u8],
) -> Result<Vec<u8>, FrameEncodeError> {
    let mut v = Vec::with_capacity(2 + MIN_BODY_LEN + payload.len() + payload.len() / 8 + 4);
    encode_frame(frame_type, seq, payload, |b| v.push(b))?;
    Ok(v)
}
