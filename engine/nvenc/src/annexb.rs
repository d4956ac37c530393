//! Just enough H.264 Annex B to check what an encoder wrote: the types of
//! the NAL units in a buffer (each after a `00 00 01` start code).

/// NAL unit types (ITU-T H.264, table 7-1) the checks look for.
pub const IDR_SLICE: u8 = 5;
pub const SPS: u8 = 7;
pub const PPS: u8 = 8;

/// The type of every NAL unit in `data`, in order.
pub fn nal_types(data: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            types.push(data[i + 3] & 0x1F);
            i += 3;
        } else {
            i += 1;
        }
    }
    types
}

/// Whether `data` holds a sequence and a picture parameter set before an IDR
/// slice: what the first picture of a segment must carry, since segments are
/// joined and each must decode on its own.
pub fn opens_a_stream(data: &[u8]) -> bool {
    let types = nal_types(data);
    let idr = types.iter().position(|&t| t == IDR_SLICE);
    let before = |wanted: u8| matches!((types.iter().position(|&t| t == wanted), idr), (Some(p), Some(i)) if p < i);
    before(SPS) && before(PPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sets_must_precede_the_idr_slice() {
        let sps_pps_idr = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 9, 9];
        assert_eq!(nal_types(&sps_pps_idr), vec![SPS, PPS, IDR_SLICE]);
        assert!(opens_a_stream(&sps_pps_idr));
        assert!(!opens_a_stream(&[0, 0, 1, 0x65, 1]), "an IDR slice alone");
        assert!(!opens_a_stream(&[0, 0, 1, 0x67, 0, 0, 1, 0x68, 0, 0, 1, 0x41]), "a P slice");
        assert!(!opens_a_stream(&[]));
    }
}
