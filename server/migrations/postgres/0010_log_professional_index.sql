-- The per-user audit (NEN 7513): an organisation's privacy officer lists the entries one of its
-- professionals acted in (ListDisclosures with scope `professional`).
CREATE INDEX log_entries_professional ON log_entries (professional, idx);
