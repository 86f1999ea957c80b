//! RSA public keys for `RS256` and `PS256` (verify only: tokenring never holds an RSA private
//! key):
//! the modulus and exponent, their PKCS#1 `RSAPublicKey` DER form (RFC 8017 §A.1.1) as keyring
//! files store it, and the size rules — 2048 to 8192 bits, an odd exponent from 3 to 2^33 − 1
//! (what `ring` verifies with).

use crate::error::SecretError;

/// The smallest modulus accepted, in bits (RFC 7518 §3.3: 2048 or larger).
pub(crate) const MIN_BITS: usize = 2048;
/// The largest modulus accepted, in bits: `ring`'s limit, and a bound on the work one token
/// can ask for.
pub(crate) const MAX_BITS: usize = 8192;

/// An RSA public key: big-endian unsigned modulus and exponent without leading zeros.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RsaPublic {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
}

impl RsaPublic {
    /// The key of modulus `n` and exponent `e` (big-endian; leading zeros ignored).
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Result<Self, SecretError> {
        let (n, e) = (strip(n).to_vec(), strip(e).to_vec());
        let bits = modulus_bits(&n);
        // Five bytes hold every exponent allowed; a longer one is too large.
        let exponent = if e.len() <= 5 {
            e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
        } else {
            u64::MAX
        };
        if !(MIN_BITS..=MAX_BITS).contains(&bits)
            || !(3..(1 << 33)).contains(&exponent)
            || exponent % 2 == 0
        {
            return Err(SecretError::InvalidKey);
        }
        Ok(Self { n, e })
    }

    /// The modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        modulus_bits(&self.n)
    }

    /// A signature's length: the modulus' in bytes.
    pub(crate) fn signature_len(&self) -> usize {
        self.n.len()
    }

    /// Whether `signature` is an RSASSA-PKCS1-v1_5 (or, with `pss`, RSASSA-PSS) SHA-256
    /// signature of `message`.
    pub(crate) fn verify(&self, pss: bool, message: &[u8], signature: &[u8]) -> bool {
        let scheme = match pss {
            true => &ring::signature::RSA_PSS_2048_8192_SHA256,
            false => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        };
        ring::signature::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(scheme, message, signature)
        .is_ok()
    }

    /// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`, DER.
    pub(crate) fn to_der(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.n.len() + self.e.len() + 16);
        for integer in [&self.n, &self.e] {
            let pad = integer.first().is_some_and(|&b| b >= 0x80);
            body.push(INTEGER);
            push_len(&mut body, integer.len() + usize::from(pad));
            if pad {
                body.push(0);
            }
            body.extend_from_slice(integer);
        }
        let mut der = Vec::with_capacity(body.len() + 4);
        der.push(SEQUENCE);
        push_len(&mut der, body.len());
        der.extend_from_slice(&body);
        der
    }

    /// The key in `der`, read strictly: one SEQUENCE of two positive, minimally encoded
    /// INTEGERs with definite, minimal lengths, and nothing after it.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, SecretError> {
        let bad = || SecretError::InvalidKey;
        let (body, rest) = read(der, SEQUENCE).ok_or_else(bad)?;
        let (n, after_n) = read(body, INTEGER).ok_or_else(bad)?;
        let (e, after_e) = read(after_n, INTEGER).ok_or_else(bad)?;
        if !rest.is_empty() || !after_e.is_empty() || !minimal_positive(n) || !minimal_positive(e) {
            return Err(bad());
        }
        Self::new(n, e)
    }
}

impl std::fmt::Debug for RsaPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPublic({} bits)", self.bits())
    }
}

/// `integer` (big-endian, unsigned) without its leading zero bytes.
fn strip(integer: &[u8]) -> &[u8] {
    let start = integer
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(integer.len());
    &integer[start..]
}

/// The size in bits of the big-endian unsigned `integer`.
pub(crate) fn modulus_bits(integer: &[u8]) -> usize {
    let integer = strip(integer);
    integer.len() * 8 - integer.first().map_or(0, |b| b.leading_zeros() as usize)
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;

fn push_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
}

/// The contents of the element of `tag` at the start of `input`, and what follows it.
fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, input) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len0, input) = input.split_first()?;
    let (len, input) = match len0 {
        0..=0x7f => (usize::from(len0), input),
        0x81 => {
            let (&len, input) = input.split_first()?;
            (len >= 0x80).then_some((usize::from(len), input))?
        }
        0x82 => {
            let (bytes, input) = input.split_at_checked(2)?;
            let len = usize::from(bytes[0]) << 8 | usize::from(bytes[1]);
            (len >= 0x100).then_some((len, input))?
        }
        _ => return None,
    };
    input.split_at_checked(len)
}

/// A DER INTEGER's contents that are positive and without a superfluous leading byte.
fn minimal_positive(integer: &[u8]) -> bool {
    match integer {
        [] => false,
        [first, ..] if *first >= 0x80 => false,
        [0, second, ..] => *second >= 0x80,
        [0] => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xc5; bits / 8];
        n[0] = 0x80 | 0x45;
        n
    }

    #[test]
    fn der_round_trips_and_is_read_strictly() {
        let key = RsaPublic::new(&modulus(2048), &[1, 0, 1]).unwrap();
        assert_eq!(key.bits(), 2048);
        let der = key.to_der();
        assert_eq!(RsaPublic::from_der(&der).unwrap(), key);
        // Trailing bytes, a cut, a leading zero too many, a negative exponent: refused.
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(RsaPublic::from_der(&trailing).is_err());
        assert!(RsaPublic::from_der(&der[..der.len() - 1]).is_err());
        for bad in [
            vec![0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x83],
            vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x03],
            vec![0x30, 0x81, 0x05, 0x02, 0x01, 0x05, 0x02, 0x01],
        ] {
            assert!(RsaPublic::from_der(&bad).is_err(), "{bad:x?}");
        }
    }

    #[test]
    fn sizes_and_exponents_outside_the_rules_are_refused() {
        assert!(
            RsaPublic::new(&modulus(2040), &[1, 0, 1]).is_err(),
            "under 2048 bits"
        );
        assert!(
            RsaPublic::new(&modulus(8200), &[1, 0, 1]).is_err(),
            "over 8192 bits"
        );
        assert!(RsaPublic::new(&modulus(4096), &[1, 0, 1]).is_ok());
        for e in [&[1][..], &[2], &[1, 0, 0], &[2, 0, 0, 0, 1]] {
            assert!(RsaPublic::new(&modulus(2048), e).is_err(), "e = {e:?}");
        }
        assert!(RsaPublic::new(&modulus(2048), &[3]).is_ok());
    }
}
