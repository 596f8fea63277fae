//! 8N1 UART blocks: one start bit (0), eight data bits LSB first, one stop bit (1);
//! the line idles high.

pub mod rx;
pub mod tx;

pub use rx::UartRx;
pub use tx::UartTx;
