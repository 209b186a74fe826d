//! A point in time as each backend stores it, so queries can bind and read times without
//! knowing the backend: PostgreSQL `timestamptz`, SQLite INTEGER microseconds since the Unix
//! epoch (numbers sort and compare correctly; SQLite's own text dates only do so when every
//! value is written with the same number of fractional digits).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};
use time::OffsetDateTime;

/// A UTC time truncated to microseconds, the precision both backends keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DbTime(OffsetDateTime);

impl DbTime {
    pub fn new(time: OffsetDateTime) -> Self {
        let utc = time.to_offset(time::UtcOffset::UTC);
        let micros = utc.nanosecond() / 1_000 * 1_000;
        // `replace_nanosecond` only fails for values >= 1e9, which `micros` never is.
        Self(utc.replace_nanosecond(micros).unwrap_or(utc))
    }

    pub fn now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    pub fn get(self) -> OffsetDateTime {
        self.0
    }

    pub fn unix_micros(self) -> i64 {
        // i64 microseconds cover ±292,000 years; `time` only represents ±9999 years.
        (self.0.unix_timestamp_nanos() / 1_000) as i64
    }

    pub fn from_unix_micros(micros: i64) -> Result<Self, time::error::ComponentRange> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map(Self)
    }
}

impl From<OffsetDateTime> for DbTime {
    fn from(time: OffsetDateTime) -> Self {
        Self::new(time)
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode_by_ref(&self.unix_micros(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let micros = <i64 as Decode<Sqlite>>::decode(value)?;
        Ok(Self::from_unix_micros(micros)?)
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }

    fn size_hint(&self) -> usize {
        <OffsetDateTime as Encode<Postgres>>::size_hint(&self.0)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<Postgres>>::decode(value).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_truncated_to_microseconds_in_utc() {
        let t = DbTime::new(datetime!(2026-01-02 03:04:05.123456789 +02:00));
        assert_eq!(t.get(), datetime!(2026-01-02 01:04:05.123456 UTC));
        assert_eq!(DbTime::from_unix_micros(t.unix_micros()).unwrap(), t);
    }
}
