//! The hub's coded values as the console and the local API name and show them: one table per
//! wire enum of (the hub's name, the value, Dutch, English), looked up here by name or by wire
//! number — once, for every table (outcomes, decisions, reasons, stages, states, ...).

/// One row of such a table.
pub type Coded<E> = (&'static str, E, &'static str, &'static str);

/// The value the hub names `name` (`RECEIVED`, `ONDERZOEK`, ...).
pub fn by_name<E: Copy>(table: &[Coded<E>], name: &str) -> Option<E> {
    table.iter().find(|(n, ..)| *n == name).map(|(_, v, ..)| *v)
}

/// The row of wire number `v`, if the table has it.
pub fn row<E: Copy + Into<i32>>(table: &[Coded<E>], v: i32) -> Option<&Coded<E>> {
    table.iter().find(|(_, e, ..)| (*e).into() == v)
}

/// The hub's name of wire number `v`; the number itself when the table does not know it.
pub fn name<E: Copy + Into<i32>>(table: &[Coded<E>], v: i32) -> String {
    row(table, v).map_or_else(|| v.to_string(), |(n, ..)| (*n).to_owned())
}

/// The Dutch and English words for wire number `v`, if the table has it.
pub fn words<E: Copy + Into<i32>>(
    table: &[Coded<E>],
    v: i32,
) -> Option<(&'static str, &'static str)> {
    row(table, v).map(|(_, _, nl, en)| (*nl, *en))
}

#[cfg(test)]
mod tests {
    use super::*;
    use signaalhub_client::signaalhub_proto::pb;

    const T: &[Coded<pb::MeldingStage>] = &[
        ("TRIAGE", pb::MeldingStage::Triage, "triage", "triage"),
        (
            "ONDERZOEK",
            pb::MeldingStage::Onderzoek,
            "onderzoek",
            "investigation",
        ),
    ];

    #[test]
    fn a_value_is_found_by_its_name_and_its_number() {
        assert_eq!(by_name(T, "ONDERZOEK"), Some(pb::MeldingStage::Onderzoek));
        assert_eq!(by_name(T, "onderzoek"), None);
        assert_eq!(name(T, pb::MeldingStage::Triage as i32), "TRIAGE");
        assert_eq!(name(T, 99), "99");
        assert_eq!(words(T, 2), Some(("onderzoek", "investigation")));
        assert_eq!(words(T, 0), None);
    }
}
