//! CRC-16/IBM-3740 blocks against the `crc` crate and the catalogue check value.

mod common;

use common::*;
use crc::{Crc, CRC_16_IBM_3740};
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_hdl::frame::{Crc16, Crc16Next, CRC_CHECK, CRC_INIT};
use rand::Rng;
use rust_hdl::prelude::*;

const CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// Feeds `bytes` through the combinational block, chaining the output back by hand.
fn crc_next_of(uut: &mut Crc16Next, init: u16, bytes: &[u8]) -> u16 {
    let mut crc = init;
    for &b in bytes {
        uut.crc_in.next = crc.to_bits();
        uut.data.next = b.to_bits();
        assert!(simulate(uut, 100), "did not settle");
        crc = uut.crc_out.val().to_u64() as u16;
    }
    crc
}

fn new_crc_next() -> Crc16Next {
    let mut uut = Crc16Next::default();
    uut.connect_all();
    check_all(&uut).unwrap();
    uut
}

#[test]
fn combinational_check_value() {
    let mut uut = new_crc_next();
    assert_eq!(crc_next_of(&mut uut, CRC_INIT, b"123456789"), CRC_CHECK);
}

#[test]
fn combinational_matches_crc_crate_on_random_strings() {
    let mut uut = new_crc_next();
    let mut rng = rng(31);
    for _ in 0..200 {
        let len = rng.random_range(0..24);
        let bytes = random_bytes(&mut rng, len);
        assert_eq!(
            crc_next_of(&mut uut, CRC_INIT, &bytes),
            CRC.checksum(&bytes),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn combinational_matches_software_model_for_random_states() {
    // Every (crc, byte) pair, not only those reachable from the init value.
    let mut uut = new_crc_next();
    let mut rng = rng(32);
    for _ in 0..2000 {
        let crc: u16 = rng.random();
        let byte: u8 = rng.random();
        assert_eq!(
            crc_next_of(&mut uut, crc, &[byte]),
            neurofab_hdl::frame::crc16_update(crc, byte)
        );
    }
}

/// Runs the registered unit over messages, each preceded by a `clear`, with random
/// idle cycles (strobe low) between bytes, and returns the CRC after each message.
fn registered_crcs(messages: &[Vec<u8>], seed: u64) -> Vec<u16> {
    let mut rng = rng(seed);
    let mut sim = CycleSim::new(Crc16::default(), |x| &mut x.clock).unwrap();
    let mut out = Vec::new();
    for msg in messages {
        sim.uut.clear.next = true;
        sim.uut.strobe.next = rng.random(); // clear wins over strobe
        sim.step();
        sim.uut.clear.next = false;
        assert_eq!(sim.uut.crc.val().to_u64() as u16, CRC_INIT);
        for &b in msg {
            for _ in 0..rng.random_range(0..3) {
                sim.uut.strobe.next = false;
                sim.uut.data.next = rng.random::<u8>().to_bits();
                sim.step();
            }
            sim.uut.strobe.next = true;
            sim.uut.data.next = b.to_bits();
            sim.step();
        }
        sim.uut.strobe.next = false;
        sim.step();
        out.push(sim.uut.crc.val().to_u64() as u16);
    }
    out
}

#[test]
fn registered_check_value_and_power_up_value() {
    let sim = CycleSim::new(Crc16::default(), |x| &mut x.clock).unwrap();
    assert_eq!(sim.uut.crc.val().to_u64() as u16, CRC_INIT);
    assert_eq!(
        registered_crcs(&[b"123456789".to_vec()], 33),
        vec![CRC_CHECK]
    );
}

#[test]
fn registered_matches_crc_crate_on_random_strings() {
    let mut rng = rng(34);
    let messages: Vec<Vec<u8>> = (0..40)
        .map(|_| {
            let len = rng.random_range(0..40);
            random_bytes(&mut rng, len)
        })
        .collect();
    let expected: Vec<u16> = messages.iter().map(|m| CRC.checksum(m)).collect();
    assert_eq!(registered_crcs(&messages, 35), expected);
}
