//! Dynamic pricing: a surcharge that grows with how full the stay's slots already are.
//!
//! Money stays in integers: multipliers are hundredths (`1.2` is `120`) and a price is rounded
//! half up to the cent once, at the end.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// How full a slot is before the booking being priced: `reserved` tables out of `inventory`.
/// Zero inventory counts as full (100%).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    pub reserved: i64,
    pub inventory: i64,
}

impl Occupancy {
    /// The occupancy as a fraction `(numerator, denominator)` with a positive denominator.
    fn fraction(self) -> (i128, i128) {
        if self.inventory <= 0 {
            (1, 1)
        } else {
            (i128::from(self.reserved.max(0)), i128::from(self.inventory))
        }
    }

    /// Compares how full two slots are, as exact fractions.
    pub fn cmp_fullness(self, other: Self) -> Ordering {
        let (a, b) = self.fraction();
        let (c, d) = other.fraction();
        (a * d).cmp(&(c * b))
    }

    /// Whether more than `percent`% of the inventory is reserved.
    fn is_over(self, percent: u8) -> bool {
        let (reserved, inventory) = self.fraction();
        reserved * 100 > i128::from(percent) * inventory
    }

    /// The occupancy that prices a stay: that of its fullest slot (the first of equals).
    /// `None` when there are no slots.
    pub fn fullest(slots: impl IntoIterator<Item = Occupancy>) -> Option<Occupancy> {
        slots.into_iter().fold(None, |fullest, slot| match fullest {
            Some(f) if slot.cmp_fullness(f) != Ordering::Greater => Some(f),
            _ => Some(slot),
        })
    }
}

/// One step: occupancy strictly over `threshold_pct` multiplies the price by
/// `multiplier_hundredths / 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingStep {
    threshold_pct: u8,
    multiplier_hundredths: i64,
}

impl PricingStep {
    /// 0 to 99.
    pub fn threshold_pct(self) -> u8 {
        self.threshold_pct
    }

    /// 1 (×0.01) to 1000 (×10).
    pub fn multiplier_hundredths(self) -> i64 {
        self.multiplier_hundredths
    }
}

/// A step table over expected occupancy, written `70:1.2,90:1.5`: over 70% full ×1.2, over 90%
/// ×1.5, otherwise ×1. Thresholds strictly increase; the empty string is no steps (always ×1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingSteps {
    steps: Vec<PricingStep>,
}

const MIN_MULTIPLIER_HUNDREDTHS: i64 = 1;
const MAX_MULTIPLIER_HUNDREDTHS: i64 = 1000;

impl PricingSteps {
    /// No steps: every price is the plain rate.
    pub fn flat() -> Self {
        Self { steps: Vec::new() }
    }

    pub fn steps(&self) -> &[PricingStep] {
        &self.steps
    }

    /// The multiplier, in hundredths, of the highest step whose threshold the occupancy is
    /// strictly over; 100 below every step.
    pub fn multiplier_hundredths(&self, occupancy: Occupancy) -> i64 {
        self.steps
            .iter()
            .rev()
            .find(|step| occupancy.is_over(step.threshold_pct))
            .map_or(100, |step| step.multiplier_hundredths)
    }

    /// `per_table_cents × table_count × multiplier`, rounded half up to the cent, saturating
    /// at the bounds of `i64`.
    pub fn price_cents(&self, per_table_cents: i64, table_count: i32, occupancy: Occupancy) -> i64 {
        let hundredths = i128::from(per_table_cents)
            * i128::from(table_count)
            * i128::from(self.multiplier_hundredths(occupancy));
        // |hundredths| < 2^63 · 2^31 · 2^10, far inside i128.
        let cents = (hundredths + 50).div_euclid(100);
        i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX })
    }
}

impl Default for PricingSteps {
    /// `70:1.2,90:1.5`.
    fn default() -> Self {
        Self {
            steps: vec![
                PricingStep {
                    threshold_pct: 70,
                    multiplier_hundredths: 120,
                },
                PricingStep {
                    threshold_pct: 90,
                    multiplier_hundredths: 150,
                },
            ],
        }
    }
}

/// Why a pricing step table does not parse. Steps are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingStepsError {
    #[error(
        "pricing step {position} is {step:?}: expected THRESHOLD:MULTIPLIER, for example 70:1.2"
    )]
    Malformed { position: usize, step: String },
    #[error(
        "pricing step {position}: the threshold {threshold:?} must be an integer from 0 to 99 \
         (percent of occupancy)"
    )]
    Threshold { position: usize, threshold: String },
    #[error(
        "pricing step {position}: the multiplier {multiplier:?} must be a decimal from 0.01 to 10 \
         with at most 2 decimals, for example 1.25"
    )]
    Multiplier { position: usize, multiplier: String },
    #[error(
        "pricing step {position}: the threshold {threshold} must be greater than the previous \
         step's {previous}"
    )]
    NotIncreasing {
        position: usize,
        threshold: u8,
        previous: u8,
    },
}

impl FromStr for PricingSteps {
    type Err = PricingStepsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Ok(Self::flat());
        }
        let mut steps: Vec<PricingStep> = Vec::new();
        for (index, raw) in s.split(',').enumerate() {
            let position = index + 1;
            let Some((threshold, multiplier)) = raw.split_once(':') else {
                return Err(PricingStepsError::Malformed {
                    position,
                    step: raw.to_owned(),
                });
            };
            let (threshold, multiplier) = (threshold.trim(), multiplier.trim());
            let threshold_pct =
                parse_threshold(threshold).ok_or_else(|| PricingStepsError::Threshold {
                    position,
                    threshold: threshold.to_owned(),
                })?;
            let multiplier_hundredths = parse_hundredths(multiplier)
                .filter(|m| (MIN_MULTIPLIER_HUNDREDTHS..=MAX_MULTIPLIER_HUNDREDTHS).contains(m))
                .ok_or_else(|| PricingStepsError::Multiplier {
                    position,
                    multiplier: multiplier.to_owned(),
                })?;
            if let Some(previous) = steps.last() {
                if threshold_pct <= previous.threshold_pct {
                    return Err(PricingStepsError::NotIncreasing {
                        position,
                        threshold: threshold_pct,
                        previous: previous.threshold_pct,
                    });
                }
            }
            steps.push(PricingStep {
                threshold_pct,
                multiplier_hundredths,
            });
        }
        Ok(Self { steps })
    }
}

/// One or two ASCII digits.
fn parse_threshold(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `D+` or `D+.D` or `D+.DD`, as hundredths; `None` for anything else or a huge value.
fn parse_hundredths(s: &str) -> Option<i64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 6 || !digits(whole) {
        return None;
    }
    if s.contains('.') && (fraction.is_empty() || fraction.len() > 2 || !digits(fraction)) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(whole * 100 + fraction)
}

impl fmt::Display for PricingStep {
    /// `70:1.2`: the multiplier without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, cents) = (
            self.multiplier_hundredths / 100,
            self.multiplier_hundredths % 100,
        );
        match (cents, cents % 10) {
            (0, _) => write!(f, "{}:{whole}", self.threshold_pct),
            (_, 0) => write!(f, "{}:{whole}.{}", self.threshold_pct, cents / 10),
            _ => write!(f, "{}:{whole}.{cents:02}", self.threshold_pct),
        }
    }
}

impl fmt::Display for PricingSteps {
    /// The canonical form that [`FromStr`] reads: `70:1.2,90:1.5`, or the empty string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occ(reserved: i64, inventory: i64) -> Occupancy {
        Occupancy {
            reserved,
            inventory,
        }
    }

    fn steps(s: &str) -> PricingSteps {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_is_seventy_and_ninety_percent() {
        assert_eq!(PricingSteps::default(), steps("70:1.2,90:1.5"));
        assert_eq!(PricingSteps::default().to_string(), "70:1.2,90:1.5");
    }

    #[test]
    fn a_threshold_applies_only_when_strictly_exceeded() {
        let p = PricingSteps::default();
        assert_eq!(p.multiplier_hundredths(occ(0, 10)), 100);
        assert_eq!(p.multiplier_hundredths(occ(7, 10)), 100, "exactly 70%");
        assert_eq!(p.multiplier_hundredths(occ(71, 100)), 120);
        assert_eq!(p.multiplier_hundredths(occ(9, 10)), 120, "exactly 90%");
        assert_eq!(p.multiplier_hundredths(occ(91, 100)), 150);
        assert_eq!(p.multiplier_hundredths(occ(10, 10)), 150);
        assert_eq!(p.multiplier_hundredths(occ(11, 10)), 150, "overbooked");
        // 2/3 is 66.7%, 5/7 is 71.4%.
        assert_eq!(p.multiplier_hundredths(occ(2, 3)), 100);
        assert_eq!(p.multiplier_hundredths(occ(5, 7)), 120);
    }

    #[test]
    fn zero_inventory_is_full() {
        let p = PricingSteps::default();
        assert_eq!(p.multiplier_hundredths(occ(0, 0)), 150);
        assert_eq!(p.multiplier_hundredths(occ(0, -1)), 150);
        assert_eq!(steps("99:2").multiplier_hundredths(occ(0, 0)), 200);
        assert_eq!(occ(0, 0).cmp_fullness(occ(1, 1)), Ordering::Equal);
    }

    #[test]
    fn a_zero_threshold_applies_as_soon_as_one_table_is_taken() {
        let p = steps("0:1.1");
        assert_eq!(p.multiplier_hundredths(occ(0, 10)), 100);
        assert_eq!(p.multiplier_hundredths(occ(1, 10)), 110);
    }

    #[test]
    fn no_steps_is_always_the_plain_rate() {
        let p = steps("");
        assert_eq!(p, PricingSteps::flat());
        assert_eq!(p.to_string(), "");
        assert_eq!(p.multiplier_hundredths(occ(10, 10)), 100);
        assert_eq!(p.price_cents(2500, 2, occ(10, 10)), 5000);
        assert_eq!(steps("   "), PricingSteps::flat());
    }

    #[test]
    fn prices_round_half_up_to_the_cent() {
        let full = occ(10, 10);
        assert_eq!(steps("0:1.5").price_cents(2500, 2, full), 7500);
        // 333 × 1.5 = 499.5 → 500; 333 × 1.01 = 336.33 → 336; 1 × 0.5 = 0.5 → 1.
        assert_eq!(steps("0:1.5").price_cents(333, 1, full), 500);
        assert_eq!(steps("0:1.01").price_cents(333, 1, full), 336);
        assert_eq!(steps("0:0.5").price_cents(1, 1, full), 1);
        assert_eq!(steps("0:0.49").price_cents(1, 1, full), 0);
        // 999 × 3 × 1.15 = 3446.55 → 3447.
        assert_eq!(steps("0:1.15").price_cents(999, 3, full), 3447);
        assert_eq!(steps("0:1.15").price_cents(0, 3, full), 0);
        // Half up, also below zero: -0.5 → 0, -0.51 → -1.
        assert_eq!(steps("0:0.5").price_cents(-1, 1, full), 0);
        assert_eq!(steps("0:0.51").price_cents(-1, 1, full), -1);
    }

    #[test]
    fn prices_saturate_instead_of_overflowing() {
        let full = occ(1, 1);
        let p = steps("0:10");
        assert_eq!(p.price_cents(i64::MAX, i32::MAX, full), i64::MAX);
        assert_eq!(p.price_cents(i64::MIN, i32::MAX, full), i64::MIN);
        assert_eq!(p.price_cents(i64::MAX, i32::MIN, full), i64::MIN);
        assert_eq!(
            PricingSteps::flat().price_cents(i64::MAX, 1, full),
            i64::MAX
        );
        assert_eq!(
            p.multiplier_hundredths(occ(i64::MAX, 1)),
            1000,
            "no overflow comparing fractions"
        );
        assert_eq!(
            occ(i64::MAX, i64::MAX).cmp_fullness(occ(i64::MAX - 1, i64::MAX)),
            Ordering::Greater
        );
    }

    #[test]
    fn the_fullest_slot_prices_the_stay() {
        let fullest = Occupancy::fullest([occ(1, 10), occ(3, 4), occ(7, 10), occ(6, 8)]);
        assert_eq!(
            fullest,
            Some(occ(3, 4)),
            "75% beats 70%, and the first of equals"
        );
        assert_eq!(Occupancy::fullest([occ(9, 10), occ(0, 0)]), Some(occ(0, 0)));
        assert_eq!(
            Occupancy::fullest([occ(11, 10), occ(0, 0)]),
            Some(occ(11, 10))
        );
        assert_eq!(Occupancy::fullest([]), None);
    }

    #[test]
    fn display_round_trips_in_canonical_form() {
        for canonical in [
            "70:1.2,90:1.5",
            "0:0.01,50:1,99:10",
            "5:1.25",
            "10:2.5,20:2.05",
            "",
        ] {
            assert_eq!(steps(canonical).to_string(), canonical);
        }
        assert_eq!(steps(" 70 : 1.20 , 90:1.50 ").to_string(), "70:1.2,90:1.5");
        assert_eq!(steps("07:01.0").to_string(), "7:1");
        let p = steps("10:2.5,20:2.05");
        assert_eq!(p.steps()[1].threshold_pct(), 20);
        assert_eq!(p.steps()[1].multiplier_hundredths(), 205);
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        use PricingStepsError::*;
        let err = |s: &str| s.parse::<PricingSteps>().unwrap_err();
        let malformed = |position: usize, step: &str| Malformed {
            position,
            step: step.into(),
        };
        let threshold = |position: usize, t: &str| Threshold {
            position,
            threshold: t.into(),
        };
        let multiplier = |position: usize, m: &str| Multiplier {
            position,
            multiplier: m.into(),
        };
        assert_eq!(err("70"), malformed(1, "70"));
        assert_eq!(err("70:1.2,"), malformed(2, ""));
        assert_eq!(err("70:1.2;90:1.5"), multiplier(1, "1.2;90:1.5"));
        assert_eq!(err("100:1.2"), threshold(1, "100"));
        assert_eq!(err("-1:1.2"), threshold(1, "-1"));
        assert_eq!(err("7.5:1.2"), threshold(1, "7.5"));
        assert_eq!(err(":1.2"), threshold(1, ""));
        assert_eq!(err("+7:1.2"), threshold(1, "+7"));
        assert_eq!(err("70:"), multiplier(1, ""));
        assert_eq!(err("70:0"), multiplier(1, "0"));
        assert_eq!(err("70:0.00"), multiplier(1, "0.00"));
        assert_eq!(err("70:10.01"), multiplier(1, "10.01"));
        assert_eq!(err("70:1.234"), multiplier(1, "1.234"));
        assert_eq!(err("70:1."), multiplier(1, "1."));
        assert_eq!(err("70:.5"), multiplier(1, ".5"));
        assert_eq!(err("70:-1"), multiplier(1, "-1"));
        assert_eq!(err("70:1e1"), multiplier(1, "1e1"));
        assert_eq!(
            err("70:99999999999999999999"),
            multiplier(1, "99999999999999999999")
        );
        assert_eq!(
            err("70:1.2,70:1.5"),
            NotIncreasing {
                position: 2,
                threshold: 70,
                previous: 70
            }
        );
        assert_eq!(
            err("90:1.5,70:1.2"),
            NotIncreasing {
                position: 2,
                threshold: 70,
                previous: 90
            }
        );
        assert_eq!(
            err("70:1.2,100:1.5").to_string(),
            "pricing step 2: the threshold \"100\" must be an integer from 0 to 99 \
             (percent of occupancy)"
        );
        assert_eq!(
            err("70:1.234").to_string(),
            "pricing step 1: the multiplier \"1.234\" must be a decimal from 0.01 to 10 with at \
             most 2 decimals, for example 1.25"
        );
        assert_eq!(
            err("90:1.5,70:1.2").to_string(),
            "pricing step 2: the threshold 70 must be greater than the previous step's 90"
        );
        assert_eq!(
            err("70").to_string(),
            "pricing step 1 is \"70\": expected THRESHOLD:MULTIPLIER, for example 70:1.2"
        );
    }
}
