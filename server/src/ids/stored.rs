//! Identifiers and convenant names as database values and JSON: written as their text. They are bound as text; they
//! are read back by parsing the text at the store's row edge (`store::Columns::parsed`), so a
//! stored value that does not parse is the store's `Corrupt` error, never a panic.
use super::{Category, Id, Oin, Purpose, Role};

macro_rules! text_value {
    ([$($g:tt)*] $t:ty) => {
        impl<$($g)* DB: sqlx::Database> sqlx::Type<DB> for $t
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, $($g)* DB: sqlx::Database> sqlx::Encode<'q, DB> for $t
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let text: &str = self.as_ref();
                <String as sqlx::Encode<'q, DB>>::encode_by_ref(&text.to_owned(), buf)
            }
        }
    };
}

text_value!([] Oin);
text_value!([K,] Id<K>);
text_value!([] Purpose);
text_value!([] Category);
text_value!([] Role);
text_value!([] super::MeldingRef);

impl serde::Serialize for Oin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Oin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
