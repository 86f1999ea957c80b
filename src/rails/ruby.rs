//! How Ruby reads what a Rails token holds, where Rust's defaults differ: `to_s` of a purpose
//! that is not a string, `Time.iso8601` of an expiry, and Integers wider than 64 bits.
//! Every rule here was checked against Ruby 3.1 (Debian's, the one CI's Rails judges run on).

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Ruby's `to_s` of a JSON scalar, as Rails compares purposes (`pur.to_s == purpose.to_s`):
/// `nil` is `""`, numbers and booleans print as Ruby prints them. `None` for an array or an
/// object, whose `to_s` is Ruby's `inspect` form (which no purpose this library writes has).
pub(super) fn to_s(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => float_to_s(f),
            _ => n.to_string(),
        }),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Ruby's `Float#to_s`: the shortest digits that round-trip (as Rust's), written fixed when
/// the decimal exponent is in -4..=15 and as `d.ddde±XX` otherwise, always with a fraction.
fn float_to_s(f: f64) -> String {
    if !f.is_finite() {
        // JSON has no such numbers; serde_json never yields them.
        return f.to_string();
    }
    let scientific = format!("{:e}", f.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if (-4..15).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() > point {
                format!("{}.{}", &digits[..point], &digits[point..])
            } else {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            }
        };
        format!("{sign}{text}")
    } else {
        let fraction = if digits.len() > 1 { &digits[1..] } else { "0" };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{}.{fraction}e{exp_sign}{:02}",
            &digits[..1],
            exponent.unsigned_abs()
        )
    }
}

/// Ruby's `Time.iso8601` (`Time.xmlschema`), as Rails 6.1–8 parse `exp`:
/// `YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh[[:]mm]]`, surrounding whitespace allowed, `T` and `Z`
/// in either case, and Ruby's leniency kept: a day past the month's end rolls over (Feb 30
/// is Mar 2), `24:00:00` is the next midnight, second 60 the next minute, offset minutes up
/// to 99. A time without a zone is local time in Ruby; here it is taken as UTC (a server
/// whose `TZ` is UTC reads it the same). `None` where Ruby raises, or beyond what a
/// `SystemTime` holds.
pub(super) fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let mut rest = text.as_bytes();
    let negative = take(&mut rest, b"-");
    let year_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if year_len == 0 || year_len > 9 {
        return None;
    }
    let year = number(&rest[..year_len]);
    rest = &rest[year_len..];
    let year = if negative { -year } else { year };
    let mut field = |separator: &[u8]| -> Option<i64> {
        if !take(&mut rest, separator) {
            return None;
        }
        let two = rest.get(..2).filter(|d| d.iter().all(u8::is_ascii_digit))?;
        rest = &rest[2..];
        Some(number(two))
    };
    let (month, day) = (field(b"-")?, field(b"-")?);
    let (hour, minute, second) = (field(b"T")?, field(b":")?, field(b":")?);
    let mut nanos = 0u32;
    if take(&mut rest, b".") {
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        for (i, digit) in rest[..len].iter().take(9).enumerate() {
            nanos += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &rest[len..];
    }
    let offset = zone_offset(rest)?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (hour < 24 || (hour == 24 && minute == 0 && second == 0))
        && minute < 60
        && second <= 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month)? + day - 1;
    let seconds = days
        .checked_mul(86_400)?
        .checked_add(hour * 3600 + minute * 60 + second - offset)?;
    let whole = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH
            .checked_add(whole)?
            .checked_add(Duration::from_nanos(nanos.into()))
    } else {
        SystemTime::UNIX_EPOCH
            .checked_sub(whole)?
            .checked_add(Duration::from_nanos(nanos.into()))
    }
}

/// The zone's offset east of UTC in seconds: none or `Z` is 0; `±hh`, `±hhmm`, `±hh:mm`.
fn zone_offset(zone: &[u8]) -> Option<i64> {
    let sign = match zone.first() {
        None => return Some(0),
        Some(b'Z' | b'z') if zone.len() == 1 => return Some(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return None,
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit).then(|| number(d));
    let (hours, minutes) = match &zone[1..] {
        [h1, h2] => (digits(&[*h1, *h2])?, 0),
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        _ => return None,
    };
    let offset = hours * 3600 + minutes * 60;
    (offset < 86_400).then_some(sign * offset)
}

fn take(rest: &mut &[u8], prefix: &[u8]) -> bool {
    if rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
        *rest = &rest[prefix.len()..];
        true
    } else {
        false
    }
}

/// ASCII digits as a number (at most 9 of them, so it fits).
fn number(digits: &[u8]) -> i64 {
    digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// Days from 1970-01-01 to the first of `month` in `year` (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64) -> Option<i64> {
    // Howard Hinnant's days_from_civil, for day 1.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era.checked_mul(146_097)?.checked_add(day_of_era - 719_468)
}

/// Whether the JSON text holds an integer literal that does not fit 64 bits (above
/// `u64::MAX` or below `i64::MIN`). Ruby's Integer holds it exactly; serde_json would read it
/// as a float and lose digits, so such a payload is refused rather than silently changed.
pub(super) fn holds_wide_integer(json: &[u8]) -> bool {
    let mut i = 0;
    let mut in_string = false;
    while i < json.len() {
        let byte = json[i];
        if in_string {
            match byte {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < json.len() && json[i].is_ascii_digit() {
                    i += 1;
                }
                let fractional = json.get(i).is_some_and(|b| matches!(b, b'.' | b'e' | b'E'));
                // 19 digits always fit; only longer literals need the exact check.
                if !fractional && i - start > 19 && !fits_64_bits(&json[start..i]) {
                    return true;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn fits_64_bits(literal: &[u8]) -> bool {
    let text = std::str::from_utf8(literal).unwrap_or("x");
    text.parse::<u64>().is_ok() || text.parse::<i64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair was printed by Ruby 3.1: `x.to_s` after `JSON.parse`.
    #[test]
    fn to_s_as_ruby_prints_it() {
        let cases = [
            ("123", "123"),
            ("-7", "-7"),
            ("1.5", "1.5"),
            ("100.0", "100.0"),
            ("1e14", "100000000000000.0"),
            ("9.99e14", "999000000000000.0"),
            ("123456789012345.6", "123456789012345.6"),
            ("1e15", "1.0e+15"),
            ("1234567890123456.0", "1.234567890123456e+15"),
            ("0.001", "0.001"),
            ("0.0001", "0.0001"),
            ("0.00012", "0.00012"),
            ("0.00001", "1.0e-05"),
            ("1.5e-5", "1.5e-05"),
            ("2.5e-10", "2.5e-10"),
            ("1e100", "1.0e+100"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5.0e-324"),
            ("-0.0", "-0.0"),
            ("true", "true"),
            ("false", "false"),
            ("null", ""),
            (r#""p""#, "p"),
        ];
        for (json, ruby) in cases {
            let value: Value = serde_json::from_str(json).unwrap();
            assert_eq!(to_s(&value).as_deref(), Some(ruby), "{json}");
        }
        assert_eq!(to_s(&serde_json::json!([1])), None);
        assert_eq!(to_s(&serde_json::json!({"a": 1})), None);
    }

    /// Each expected value is Ruby 3.1's `Time.iso8601(s).to_r` (seconds since the epoch),
    /// or `None` where it raised.
    #[test]
    fn iso8601_as_ruby_parses_it() {
        let cases: [(&str, Option<(i64, u32)>); 26] = [
            ("2030-01-01T00:00:00Z", Some((1_893_456_000, 0))),
            ("2030-01-01T00:00:00.000Z", Some((1_893_456_000, 0))),
            ("2030-01-01T00:00:00+01:00", Some((1_893_452_400, 0))),
            ("2030-01-01T00:00:00+0130", Some((1_893_450_600, 0))),
            ("2030-01-01T00:00:00-23:59", Some((1_893_542_340, 0))),
            ("2030-01-01T00:00:00+2359", Some((1_893_369_660, 0))),
            ("2030-01-01T00:00:00+01:99", Some((1_893_446_460, 0))),
            ("2030-01-01T00:00:00+01", Some((1_893_452_400, 0))),
            ("2030-01-01t00:00:00z", Some((1_893_456_000, 0))),
            (" 2030-01-01T00:00:00Z \n", Some((1_893_456_000, 0))),
            ("2030-01-01T00:00:00", Some((1_893_456_000, 0))),
            ("2030-01-01T24:00:00Z", Some((1_893_542_400, 0))),
            ("2028-02-30T00:00:00Z", Some((1_835_481_600, 0))),
            ("2030-02-29T00:00:00Z", Some((1_898_553_600, 0))),
            (
                "2030-01-01T00:00:00.999999999999Z",
                Some((1_893_456_000, 999_999_999)),
            ),
            ("2030-01-01T24:30:00Z", None),
            ("2030-01-01T23:60:00Z", None),
            ("2030-01-32T00:00:00Z", None),
            ("2030-13-01T00:00:00Z", None),
            ("2030-01-00T00:00:00Z", None),
            ("2030-01-01T00:00:61Z", None),
            ("2030-01-01T00:00:00+24:00", None),
            ("2030-01-01T00:00:00.-Z", None),
            ("2030-1-01T00:00:00Z", None),
            ("2030-01-01", None),
            ("2030-01-01T00:00Z", None),
        ];
        for (text, ruby) in cases {
            let expected = ruby.map(|(secs, nanos)| {
                SystemTime::UNIX_EPOCH + Duration::new(secs.unsigned_abs(), nanos)
            });
            assert_eq!(parse_iso8601(text), expected, "{text:?}");
        }
        // Before the epoch: Ruby gives -62167219200 and -1/2.
        let before = |text| {
            SystemTime::UNIX_EPOCH
                .duration_since(parse_iso8601(text).unwrap())
                .unwrap()
        };
        assert_eq!(
            before("0000-01-01T00:00:00Z"),
            Duration::from_secs(62_167_219_200)
        );
        assert_eq!(before("1969-12-31T23:59:59.5Z"), Duration::from_millis(500));
    }

    #[test]
    fn wide_integers_are_found_outside_strings_only() {
        assert!(!holds_wide_integer(
            br#"{"n":18446744073709551615,"m":-9223372036854775808}"#
        ));
        assert!(holds_wide_integer(br#"{"n":18446744073709551616}"#));
        assert!(holds_wide_integer(b"[-9223372036854775809]"));
        assert!(holds_wide_integer(b"123456789012345678901234567890"));
        assert!(!holds_wide_integer(br#""123456789012345678901234567890""#));
        assert!(!holds_wide_integer(
            br#"["a\"123456789012345678901234567890"]"#
        ));
        assert!(!holds_wide_integer(b"1234567890123456789012345.0"));
        assert!(!holds_wide_integer(b"12345678901234567890123e2"));
    }
}
