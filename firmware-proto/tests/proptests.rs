//! Property tests: random commands/replies through encode → frame → (randomly
//! split) stream → decode; corruption of the byte stream.

use neurofab_proto::fuzzing::{check_against_reference, decoder_body};
use neurofab_proto::*;
use proptest::prelude::*;

fn shape() -> impl Strategy<Value = CoreShape> {
    (1u16..=300, 0u16..=300, 2u8..=16).prop_map(|(neurons, inputs, weight_bits)| CoreShape {
        neurons,
        inputs,
        weight_bits,
    })
}

fn neuron_params(s: CoreShape) -> impl Strategy<Value = NeuronParams> {
    (
        any::<i16>(),
        any::<i16>(),
        any::<i16>(),
        0u16..=32768,
        0u16..=32768,
        any::<u8>(),
        0..=(16 - s.weight_bits),
    )
        .prop_map(
            |(v_th, v_reset, v_rest, alpha_v, alpha_i, t_ref, w_shift)| NeuronParams {
                v_th,
                v_reset,
                v_rest,
                alpha_v,
                alpha_i,
                t_ref,
                w_shift,
            },
        )
}

fn stdp(s: CoreShape) -> impl Strategy<Value = StdpParams> {
    let (lo, hi) = (s.weight_min(), s.weight_max());
    (
        any::<bool>(),
        any::<[u8; 4]>(),
        lo..=hi,
        lo..=hi,
        0u16..=32768,
        0u16..=32768,
    )
        .prop_map(|(enabled, e, a, b, alpha_pre, alpha_post)| StdpParams {
            enabled,
            eta_plus: e[0],
            eta_minus: e[1],
            inc_pre: e[2],
            inc_post: e[3],
            w_min: a.min(b),
            w_max: a.max(b),
            alpha_pre,
            alpha_post,
        })
}

fn range(limit: u16, max: usize) -> impl Strategy<Value = (u16, usize)> {
    (0..limit).prop_flat_map(move |first| {
        let m = ((limit - first) as usize).min(max);
        (Just(first), 1..=m)
    })
}

fn spikes(universe: u16) -> BoxedStrategy<SpikeSet> {
    if universe == 0 {
        Just(SpikeSet::new()).boxed()
    } else {
        prop::collection::vec(0..universe, 0..(universe as usize).min(400))
            .prop_map(SpikeSet::from_indices)
            .boxed()
    }
}

fn command(s: CoreShape) -> impl Strategy<Value = Command> {
    let n = s.neurons;
    let src = s.sources() as u16;
    let (wlo, whi) = (s.weight_min(), s.weight_max());
    let maxw = max_weights_per_frame(s.weight_bits);
    prop_oneof![
        Just(Command::Identify),
        (any::<bool>(), any::<bool>()).prop_map(|(state, full)| Command::Reset { state, full }),
        range(n, MAX_NEURON_PARAMS_PER_FRAME).prop_flat_map(move |(first, c)| {
            prop::collection::vec(neuron_params(s), c)
                .prop_map(move |params| Command::WriteNeuronParams { first, params })
        }),
        range(n, MAX_NEURON_PARAMS_PER_FRAME).prop_map(|(first, c)| Command::ReadNeuronParams {
            first,
            count: c as u8
        }),
        stdp(s).prop_map(Command::WriteStdp),
        Just(Command::ReadStdp),
        (0..src, range(n, maxw)).prop_flat_map(move |(row, (col, c))| {
            prop::collection::vec(wlo..=whi, c).prop_map(move |weights| Command::WriteWeights {
                row,
                col,
                weights,
            })
        }),
        (0..src, range(n, maxw)).prop_map(|(row, (col, c))| Command::ReadWeights {
            row,
            col,
            count: c as u16
        }),
        (0..src, range(n, 4096)).prop_flat_map(move |(row, (col, c))| {
            prop::collection::vec(any::<bool>(), c).prop_map(move |bits| Command::WriteMask {
                row,
                col,
                bits,
            })
        }),
        (0..src, range(n, 4096)).prop_map(|(row, (col, c))| Command::ReadMask {
            row,
            col,
            count: c as u16
        }),
        range(n, MAX_STATES_PER_FRAME).prop_map(|(first, c)| Command::ReadState {
            first,
            count: c as u8
        }),
        range(src, MAX_PRE_TRACES_PER_FRAME).prop_map(|(first, c)| Command::ReadPreTraces {
            first,
            count: c as u16
        }),
        (any::<u32>(), spikes(s.inputs)).prop_map(|(step, inputs)| Command::Step { step, inputs }),
        any::<u32>().prop_map(|k| Command::Run { k }),
    ]
}

fn reply(s: CoreShape) -> impl Strategy<Value = Reply> {
    let n = s.neurons;
    let (wlo, whi) = (s.weight_min(), s.weight_max());
    let maxw = max_weights_per_frame(s.weight_bits);
    prop_oneof![
        (any::<[u8; 8]>(), any::<[u32; 3]>(), any::<u16>()).prop_map(move |(b, w, mp)| {
            Reply::Identity(Capabilities {
                protocol_version: PROTOCOL_VERSION,
                shape: s,
                lanes: b[0],
                clock_hz: w[0],
                baud: w[1],
                max_payload: mp,
                step_window: b[1],
                replay_depth: b[2],
                features: b[3],
                core_id: w[2],
            })
        }),
        (
            any::<u16>(),
            prop::collection::vec(neuron_params(s), 0..=MAX_NEURON_PARAMS_PER_FRAME)
        )
            .prop_map(|(first, params)| Reply::NeuronParams { first, params }),
        stdp(s).prop_map(Reply::Stdp),
        (
            any::<u16>(),
            any::<u16>(),
            prop::collection::vec(wlo..=whi, 0..=maxw)
        )
            .prop_map(|(row, col, weights)| Reply::Weights { row, col, weights }),
        (
            any::<u16>(),
            any::<u16>(),
            prop::collection::vec(any::<bool>(), 0..=4096)
        )
            .prop_map(|(row, col, bits)| Reply::Mask { row, col, bits }),
        (
            any::<u16>(),
            prop::collection::vec(
                (any::<i16>(), any::<i16>(), any::<u8>(), any::<u8>()).prop_map(
                    |(v, i, refractory, post_trace)| NeuronState {
                        v,
                        i,
                        refractory,
                        post_trace
                    }
                ),
                0..=MAX_STATES_PER_FRAME
            )
        )
            .prop_map(|(first, states)| Reply::State { first, states }),
        (
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 0..=MAX_PRE_TRACES_PER_FRAME)
        )
            .prop_map(|(first, traces)| Reply::PreTraces { first, traces }),
        (any::<u32>(), spikes(n)).prop_map(|(step, fired)| Reply::StepDone { step, fired }),
        any::<u8>().prop_map(|cmd| Reply::Ack { cmd }),
        (
            any::<u8>(),
            prop::sample::select(ErrorCode::ALL.to_vec()),
            any::<u32>()
        )
            .prop_map(|(cmd, error, detail)| Reply::Nack { cmd, error, detail }),
    ]
}

/// Feeds `stream` in chunks whose boundaries are given by `cuts`, collecting frames.
fn decode_split(stream: &[u8], cuts: &[usize]) -> Vec<Result<Frame, FrameError>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut d = Decoder::new();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        d.feed(&stream[prev..c], |r| out.push(r.map(|f| f.to_frame())));
        prev = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn commands_round_trip_through_split_stream(
        (s, cmds) in shape().prop_flat_map(|s| (Just(s), prop::collection::vec((command(s), any::<u8>()), 1..6))),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        idle in 0usize..3,
    ) {
        let mut stream = Vec::new();
        for (c, seq) in &cmds {
            stream.extend(std::iter::repeat_n(FLAG, idle));
            c.encode_frame(*seq, &s, |b| stream.push(b)).unwrap();
        }
        let out = decode_split(&stream, &cuts);
        prop_assert_eq!(out.len(), cmds.len());
        for ((c, seq), r) in cmds.iter().zip(out) {
            let f = r.unwrap();
            prop_assert_eq!(f.seq, *seq);
            prop_assert_eq!(&Command::decode(f.frame_type, &f.payload, &s).unwrap(), c);
        }
    }

    #[test]
    fn replies_round_trip_through_split_stream(
        (s, reps) in shape().prop_flat_map(|s| (Just(s), prop::collection::vec((reply(s), any::<u8>()), 1..6))),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut stream = Vec::new();
        for (r, seq) in &reps {
            stream.extend(r.to_frame(*seq, &s).unwrap());
        }
        let out = decode_split(&stream, &cuts);
        prop_assert_eq!(out.len(), reps.len());
        for ((r, seq), x) in reps.iter().zip(out) {
            let f = x.unwrap();
            prop_assert_eq!(f.seq, *seq);
            prop_assert_eq!(&Reply::decode(f.frame_type, &f.payload, &s).unwrap(), r);
        }
    }

    /// Random frames, then random corruption (bit flips, insertions, deletions,
    /// garbage); the decoder agrees with the naive reference decoder (so every Ok
    /// frame passed the CRC) and never panics; a good frame after the damage is
    /// always recovered.
    #[test]
    fn corruption_never_yields_bad_frames(
        frames in prop::collection::vec((any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..64)), 1..6),
        edits in prop::collection::vec((0u8..4, any::<usize>(), any::<u8>()), 0..12),
        garbage in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut stream = garbage.clone();
        for (t, seq, p) in &frames {
            stream.extend(encode_frame_vec(*t, *seq, p).unwrap());
        }
        for (kind, pos, val) in edits {
            if stream.is_empty() { break; }
            let i = pos % stream.len();
            match kind {
                0 => stream[i] ^= 1 << (val % 8),
                1 => stream.insert(i, val),
                2 => { stream.remove(i); }
                _ => { stream.splice(i..i, std::iter::repeat_n(val, (val % 16) as usize)); }
            }
        }
        stream.extend(&garbage);
        let sentinel = encode_frame_vec(0x5A, 0xA5, b"sentinel").unwrap();
        stream.extend(&sentinel);
        let got = check_against_reference(&mut Decoder::new(), &stream);
        let last = got.last().unwrap();
        prop_assert_eq!((last.frame_type, last.seq, &last.payload[..]), (0x5A, 0xA5, &b"sentinel"[..]));
        decoder_body(&stream);
    }

    /// Uncorrupted frames between arbitrary garbage are all recovered.
    #[test]
    fn good_frames_survive_garbage(
        frames in prop::collection::vec((any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..200)), 1..5),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..50), 5),
    ) {
        let mut stream = Vec::new();
        for (k, (t, seq, p)) in frames.iter().enumerate() {
            stream.extend(&garbage[k]);
            stream.extend(encode_frame_vec(*t, *seq, p).unwrap());
        }
        let got = check_against_reference(&mut Decoder::new(), &stream);
        for (t, seq, p) in &frames {
            let want = Frame { frame_type: *t, seq: *seq, payload: p.clone() };
            prop_assert!(got.contains(&want));
        }
    }

    /// Truncation: every proper prefix of a frame's body followed by a FLAG is an
    /// error, never a frame.
    #[test]
    fn truncation_detected(t: u8, seq: u8, p in prop::collection::vec(any::<u8>(), 0..100), cut in any::<usize>()) {
        let f = encode_frame_vec(t, seq, &p).unwrap();
        let cut = 1 + cut % (f.len() - 2); // keep the opening FLAG and >= 0 body bytes
        let mut s = f[..cut].to_vec();
        s.push(FLAG);
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.feed(&s, |r| out.push(r.map(|f| f.to_frame())));
        prop_assert!(out.iter().all(|r| r.is_err()));
        if cut > 1 && f[cut - 1] != ESC {
            prop_assert_eq!(out.len(), 1);
            let is_truncated = matches!(out[0].as_ref().unwrap_err().kind, FrameErrorKind::Truncated { .. });
            prop_assert!(is_truncated);
        }
    }

    /// Any length field above the limit is rejected at the header, with nothing buffered.
    #[test]
    fn oversized_len_rejected(t: u8, seq: u8, len in (MAX_PAYLOAD as u16 + 1)..=u16::MAX) {
        let l = len.to_le_bytes();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.feed(&[FLAG, t, seq, l[0], l[1]].iter().copied().filter(|&b| b != FLAG && b != ESC).collect::<Vec<_>>(), |_| {});
        d.reset();
        // Stuffed header, byte by byte.
        let mut s = vec![FLAG];
        for b in [t, seq, l[0], l[1]] {
            if b == FLAG || b == ESC { s.push(ESC); s.push(b ^ ESC_XOR); } else { s.push(b); }
        }
        for (k, &b) in s.iter().enumerate() {
            if let Some(r) = d.push(b) { out.push((k, r.map(|f| f.to_frame()))); }
        }
        prop_assert_eq!(out.len(), 1);
        let (k, r) = out.pop().unwrap();
        prop_assert_eq!(k, s.len() - 1);
        prop_assert_eq!(r.unwrap_err(), FrameError { kind: FrameErrorKind::Oversized { len }, frame_type: Some(t), seq: Some(seq) });
        prop_assert!(d.is_hunting());
    }
}
