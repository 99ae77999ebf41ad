//! Times of day on the wire, for the catalog, reservations and availability alike (it once
//! lived in `reservation`, which made the catalog depend on reservations).

use chrono::NaiveTime;
use serde::Serializer;

/// Times on the wire are `HH:MM`, as clients send them.
pub(crate) fn serialize_hh_mm<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&time.format("%H:%M"))
}
