//! Kubernetes resource quantities (`1Gi`, `500m`, `2`, `1e3`), parsed exactly so that
//! `1Gi` equals `1024Mi` and `"1"` equals `1000m`.

use std::cmp::Ordering;

/// A quantity held in billionths (nano units), exact for every value Kubernetes accepts in
/// practice; values too large for that fall back to a float.
#[derive(Debug, Clone, Copy)]
pub enum Quantity {
    Nanos(i128),
    Float(f64),
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Nanos(a), Self::Nanos(b)) => Some(a.cmp(b)),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }
}

impl Quantity {
    /// The value as a float (nano precision lost for huge values).
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Nanos(n) => n as f64 / 1e9,
            Self::Float(f) => f,
        }
    }

    /// The value as a whole number when it is one.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Self::Nanos(n) if n % 1_000_000_000 == 0 => i64::try_from(n / 1_000_000_000).ok(),
            _ => None,
        }
    }

    /// Parses a quantity string; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let s = text.trim();
        if s.is_empty() {
            return None;
        }
        let (sign, s) = match s.as_bytes()[0] {
            b'-' => (-1i128, &s[1..]),
            b'+' => (1, &s[1..]),
            _ => (1, s),
        };
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(num_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        // mantissa * 10^exp10 * 2^exp2
        let (exp10, exp2): (i32, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            other => {
                let exp = other.strip_prefix(['e', 'E'])?;
                (exp.parse().ok()?, 0)
            }
        };
        let digits = format!("{int_part}{frac_part}");
        let frac_len = i32::try_from(frac_part.len()).ok()?;
        let exact = (|| {
            let mut mantissa: i128 = digits.parse().ok()?;
            // Scale to nanos: value = mantissa * 10^(exp10 - frac_len + 9) * 2^exp2.
            let mut scale = exp10 - frac_len + 9;
            mantissa = mantissa.checked_mul(1i128.checked_shl(exp2)?)?;
            while scale > 0 {
                mantissa = mantissa.checked_mul(10)?;
                scale -= 1;
            }
            while scale < 0 {
                if mantissa % 10 != 0 {
                    return None;
                }
                mantissa /= 10;
                scale += 1;
            }
            Some(mantissa * sign)
        })();
        if let Some(n) = exact {
            return Some(Self::Nanos(n));
        }
        let base: f64 = number.parse().ok()?;
        #[allow(clippy::cast_precision_loss)]
        let sign = sign as f64;
        Some(Self::Float(
            sign * base * 10f64.powi(exp10) * 2f64.powi(i32::try_from(exp2).ok()?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn binary_and_decimal_suffixes_compare_by_value() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1e3"), q("1k"));
        assert_ne!(q("1G"), q("1Gi"));
        assert_eq!(q("1Gi").as_i64(), Some(1_073_741_824));
        assert!(q("100m") < q("1"));
    }

    #[test]
    fn garbage_is_not_a_quantity() {
        for s in ["", "abc", "1Qi", "1.2.3", ".", "Gi"] {
            assert!(Quantity::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn sub_nano_values_fall_back_to_float() {
        assert!(matches!(q("0.0000000001"), Quantity::Float(_)));
    }
}
