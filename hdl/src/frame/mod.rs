//! Frame-level blocks of the host link (HDLC-style framing, CRC-16/IBM-3740).
//!
//! Protocol constants are not re-typed here: they come from the one definition of the
//! wire format, `firmware-proto/src/frame.rs` (crate `neurofab-proto`), re-exported
//! below so that HDL code writes `crate::frame::CRC_POLY`.

pub mod crc16;
pub mod rx_path;
pub mod tx_path;

pub use crc16::{Crc16, Crc16Bit, Crc16Next};
pub use rx_path::{Concat, RxPath, ZeroExtend, RX_QUEUE_DEPTH, RX_QUEUE_GOOD};
pub use tx_path::TxPath;

/// Wire-format constants and the bit-serial CRC reference model, from `neurofab-proto`.
pub use neurofab_proto::frame::{
    crc16, crc16_update, CRC_CHECK, CRC_INIT, CRC_POLY, CRC_XOROUT, ESC, ESC_XOR, FLAG, HEADER_LEN,
    MAX_PAYLOAD, MIN_BODY_LEN, OFF_SEQ,
};

// The HDL CRC blocks implement an MSB-first, non-reflected CRC with xorout 0; fail the
// build if the protocol ever changes that.
const _: () = assert!(CRC_XOROUT == 0);
const _: () = assert!(!neurofab_proto::frame::CRC_REFIN && !neurofab_proto::frame::CRC_REFOUT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_model_check_value() {
        assert_eq!(crc16(b"123456789"), CRC_CHECK);
        assert_eq!(
            b"123456789"
                .iter()
                .fold(CRC_INIT, |c, &b| crc16_update(c, b)),
            CRC_CHECK
        );
    }
}
